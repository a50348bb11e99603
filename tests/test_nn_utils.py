"""tk.nn.utils.clip_grad_norm_: PyTorch's gradient clipping, in place, checked by hand and against torch."""

import math

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko.nn.utils import clip_grad_norm_


def with_grads(*grads, dtype=np.float64):
    """Leaf Tensors whose .grad are the given arrays (None: no grad)."""
    tensors = []
    for g in grads:
        shape = np.shape(g) if g is not None else (2,)
        t = tk.Tensor(np.zeros(shape, dtype=dtype), requires_grad=True)
        t.grad = None if g is None else tk.Tensor(np.array(g, dtype=dtype))
        tensors.append(t)
    return tensors


def test_scales_every_grad_in_place_when_the_total_norm_is_above_max_norm():
    params = with_grads([[3.0, 0.0]], [4.0], None)
    arrays = [p.grad.data for p in params[:2]]
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, tk.Tensor) and total.shape == () and not total.requires_grad
    np.testing.assert_allclose(total.item(), 5.0, rtol=1e-15)
    scale = 1.0 / (5.0 + 1e-6)  # PyTorch's max_norm / (total + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [[3.0 * scale, 0.0]], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad.numpy(), [4.0 * scale], rtol=1e-15)
    assert params[0].grad.data is arrays[0] and params[1].grad.data is arrays[1]  # in place
    assert params[2].grad is None


def test_leaves_grads_alone_below_max_norm():
    params = with_grads([0.3, 0.4])
    assert clip_grad_norm_(params, max_norm=1.0).item() == pytest.approx(0.5, rel=1e-15)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, 0.4])


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3, math.inf])
def test_total_norm_is_the_norm_of_all_grads_joined(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((2, 3)), rng.standard_normal(4), rng.standard_normal(())]
    joined = np.concatenate([g.ravel() for g in grads])
    expected = np.abs(joined).max() if norm_type == math.inf else (np.abs(joined) ** norm_type).sum() ** (1 / norm_type)
    params = with_grads(*grads)
    total = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    np.testing.assert_allclose(total.item(), expected, rtol=1e-12)
    clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
    np.testing.assert_allclose(clipped, joined * 0.5 / (expected + 1e-6), rtol=1e-12)


def test_takes_a_modules_parameters_a_module_or_a_single_tensor():
    np.random.seed(0)
    model = tk.nn.Sequential(tk.nn.Linear(3, 4), tk.nn.ReLU(), tk.nn.Linear(4, 2))
    model(np.random.randn(5, 3) * 10).sum().backward()
    norm = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters()))
    assert clip_grad_norm_(model.parameters(), 1e9).item() == pytest.approx(norm, rel=1e-12)
    assert clip_grad_norm_(model, 1e9).item() == pytest.approx(norm, rel=1e-12)
    (w,) = with_grads([6.0, 8.0])
    np.testing.assert_allclose(clip_grad_norm_(w, 5.0).item(), 10.0)
    np.testing.assert_allclose(np.linalg.norm(w.grad.numpy()), 5.0, rtol=1e-6)


def test_no_grads_give_a_total_norm_of_zero():
    params = with_grads(None, None)
    assert clip_grad_norm_(params, 1.0).item() == 0.0
    assert clip_grad_norm_([], 1.0).item() == 0.0


def test_float32_grads_stay_float32_and_do_not_overflow():
    params = with_grads([3e20, 4e20], dtype=np.float32)  # the squares overflow float32
    total = clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float32 and params[0].grad.dtype == np.float32
    np.testing.assert_allclose(total.item(), 5e20, rtol=1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [0.6, 0.8], rtol=1e-6)


def test_nonfinite_norm_raises_only_when_asked():
    params = with_grads([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of the gradients is inf"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), [np.inf, 1.0])  # unchanged on the error
    assert math.isinf(clip_grad_norm_(params, 1.0).item())


@pytest.mark.parametrize("call, error, words", [
    (lambda p: clip_grad_norm_([p, np.ones(2)], 1.0), TypeError, ["parameter 1", "ndarray", "parameters()"]),
    (lambda p: clip_grad_norm_([p], -1.0), ValueError, ["max_norm >= 0", "-1.0"]),
    (lambda p: clip_grad_norm_([p], 1.0, norm_type=0), ValueError, ["norm_type > 0"]),
    (lambda p: clip_grad_norm_([p], "1"), ValueError, ["max_norm must be a number"]),
])
def test_errors(call, error, words):
    (p,) = with_grads([1.0, 2.0])
    with pytest.raises(error) as info:
        call(p)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("max_norm, norm_type", [(0.7, 2.0), (100.0, 2.0), (0.3, 1.0), (0.2, math.inf), (1.0, 3.0)])
def test_equals_torchs_clip_grad_norm_(max_norm, norm_type):
    torch = pytest.importorskip("torch", reason="torch is not installed; the comparison needs it")
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal((3, 2)), rng.standard_normal(5)]
    ours = with_grads(*grads)
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-13)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-13, atol=1e-16)
