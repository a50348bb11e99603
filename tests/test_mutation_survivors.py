"""Behaviours that a mutation test of tinygrad_ko found unchecked (see tools/mutate.py).

Each test here fails on a mutant of the library that the rest of the suite let
pass; the docstring of each says which. Tests of the engine and of the book's
nets that came out of the same campaign live at the end of test_engine.py and
test_models.py. References are NumPy transcriptions, in float64.
"""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("shape", [(2, 3), (3, 2), (2, 3, 4)])
@pytest.mark.parametrize("targets", ["labels", "one-hot"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_softmax_cross_entropy_gradient_is_along_the_last_axis_also_under_create_graph(shape, targets,
                                                                                       create_graph):
    """Kills softmax_cross_entropy's backward taking the softmax along another axis (-2, or 1 instead of -1)."""
    rng = np.random.default_rng(sum(shape))
    x = tk.Tensor(rng.standard_normal(shape), requires_grad=True)
    labels = rng.integers(0, shape[-1], shape[:-1])
    one_hot = np.eye(shape[-1])[labels]
    t = labels if targets == "labels" else one_hot
    rows = int(np.prod(shape[:-1]))
    (gx,) = tk.grad(F.softmax_cross_entropy(x, t), x, create_graph=create_graph)
    np.testing.assert_allclose(gx.data, (np_softmax(x.data) - one_hot) / rows, rtol=1e-12, atol=1e-15)
    assert gx.requires_grad == create_graph


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4)])
def test_softmax_cross_entropy_gradient_for_soft_targets_is_minus_log_softmax_along_the_last_axis(shape):
    rng = np.random.default_rng(1)
    x = tk.Tensor(rng.standard_normal(shape), requires_grad=True)
    t = tk.Tensor(np_softmax(rng.standard_normal(shape)), requires_grad=True)
    rows = int(np.prod(shape[:-1]))
    gx, gt = tk.grad(F.softmax_cross_entropy(x, t), [x, t], create_graph=True)
    log_p = x.data - x.data.max(axis=-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(gt.data, -log_p / rows, rtol=1e-12)
    np.testing.assert_allclose(gx.data, (np.exp(log_p) * t.data.sum(axis=-1, keepdims=True) - t.data) / rows,
                               rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_second_derivative_for_3d_logits():
    rng = np.random.default_rng(2)
    x = tk.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    labels = rng.integers(0, 4, (2, 3))
    assert tk.gradgradcheck(lambda a: F.softmax_cross_entropy(a, labels), x)


# --- losses with a `reduction`: every one refuses an unknown reduction ---

REDUCED_LOSSES = {
    "cross_entropy": lambda reduction: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), reduction=reduction),
    "nll_loss": lambda reduction: F.nll_loss(np.log(np.full((2, 3), 1 / 3)), np.array([0, 1]), reduction=reduction),
    "binary_cross_entropy": lambda reduction: F.binary_cross_entropy(np.array([0.2, 0.9]), np.array([0.0, 1.0]),
                                                                     reduction=reduction),
    "l1_loss": lambda reduction: F.l1_loss(np.array([1.0, -2.0]), np.zeros(2), reduction=reduction),
    "huber_loss": lambda reduction: F.huber_loss(np.array([0.5, 3.0]), np.zeros(2), reduction=reduction),
}


@pytest.mark.parametrize("name", list(REDUCED_LOSSES))
@pytest.mark.parametrize("reduction", ["avg", "MEAN", None])
def test_every_loss_with_a_reduction_refuses_an_unknown_one(name, reduction):
    """Kills the removal of the `_check_reduction` call of nll_loss, binary_cross_entropy and huber_loss."""
    with pytest.raises(ValueError, match=rf"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"):
        REDUCED_LOSSES[name](reduction)


@pytest.mark.parametrize("name", list(REDUCED_LOSSES))
def test_every_loss_reduces_by_mean_sum_or_not_at_all(name):
    per_element = REDUCED_LOSSES[name]("none").data
    assert per_element.shape == (2,)
    assert REDUCED_LOSSES[name]("sum").item() == pytest.approx(per_element.sum(), rel=1e-15)
    assert REDUCED_LOSSES[name]("mean").item() == pytest.approx(per_element.mean(), rel=1e-15)


def test_nll_loss_refuses_0d_scores_with_a_clear_value_error():
    """Kills the removal of the 0-d check in `_check_class_targets` (an IndexError would escape instead)."""
    with pytest.raises(ValueError, match="nll_loss: needs scores of at least one dimension, got a 0-d tensor"):
        F.nll_loss(np.zeros(()), np.array(0))


def test_cross_entropy_accepts_label_smoothing_of_one_as_pytorch():
    """label_smoothing=1.0 is allowed (PyTorch's range is [0, 1]): the target is uniform over the classes."""
    x = np.array([[0.5, -1.0, 2.0], [0.0, 1.0, 3.0]])
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    expected = -log_p.mean(axis=1).mean()
    assert F.cross_entropy(x, np.array([0, 2]), label_smoothing=1.0).item() == pytest.approx(expected, rel=1e-14)
    assert F.cross_entropy(x, np_softmax(x), label_smoothing=1.0).item() == pytest.approx(expected, rel=1e-14)


# --- softmax_cross_entropy with probability targets where a class has probability 0 ---


def test_softmax_cross_entropy_with_soft_targets_skips_zero_targets_only():
    """0 * log(0) counts as 0, but an impossible class with a target > 0 gives inf, and a NaN stays NaN."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        assert F.softmax_cross_entropy(np.array([[0.0, -np.inf]]), np.array([[1.0, 0.0]])).item() == 0.0
        assert F.softmax_cross_entropy(np.array([[0.0, -np.inf]]), np.array([[0.5, 0.5]])).item() == np.inf
        assert np.isnan(F.softmax_cross_entropy(np.array([[0.0, np.nan]]), np.array([[1.0, 0.0]])).item())


# --- the second campaign (after the reliability round) ---


@pytest.mark.parametrize("axis", [2, -3])
def test_log_softmax_refuses_an_axis_just_out_of_range_with_its_own_message(axis):
    """Mutants: the fast path's range check `-x.ndim <= axis < x.ndim` with `<` -> `<=` (NumPy's message)."""
    with pytest.raises(ValueError, match=rf"log_softmax: axis {axis} is out of range .*shape \(2, 3\)"):
        F.log_softmax(tk.Tensor(np.ones((2, 3))), axis=axis)


def test_accuracy_of_one_unbatched_sample_says_to_add_the_batch_axis():
    """Mutant: the raise in BookNet.accuracy for x with fewer than 2 dimensions removed."""
    net = tk.TwoLayerNet(4, 3, 2)
    with pytest.raises(ValueError, match=r"accuracy: x must hold one row .* shape \(4,\).*x\[np.newaxis\]"):
        net.accuracy(np.ones(4), np.array([1]))


@pytest.mark.parametrize("make", [lambda: tk.MultiLayerNet(4, [5], 3),
                                  lambda: tk.MultiLayerNetExtend(4, [5], 3)])
def test_the_books_multi_layer_nets_have_no_weight_decay_by_default(make):
    """Mutant: weight_decay_lambda=0 -> 1 in the constructor's defaults."""
    np.random.seed(0)
    net = make()
    x, t = np.random.rand(6, 4), np.array([0, 1, 2, 0, 1, 2])
    plain = F.softmax_cross_entropy(net.predict(x), t).item()
    assert net.loss(x, t).item() == pytest.approx(plain, rel=1e-12)


def test_backward_lets_go_of_each_tensor_while_the_pass_is_still_running():
    """Mutant: `order[i] = None` removed from the engine's loop (every output kept until the pass ends)."""
    seen = []

    class Probe(tk.autograd.Function):
        """y = x; its backward, the last one to run, records whether `hidden` is still alive."""

        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, gy):
            seen.append(ref() is None)
            return gy

    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = tk.Tensor(np.ones((4, 3)), requires_grad=True)
        hidden = (Probe.apply(x) * 2.0).exp()
        ref = weakref.ref(hidden)
        loss = hidden.sum()
        del hidden
        loss.backward()
    finally:
        if gc_was_enabled:
            gc.enable()
    assert seen == [True]  # freed before the pass reached the first op, not only at its end
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2.0) * np.ones((4, 3)))


@pytest.mark.parametrize("make", [lambda x: x, lambda x: x * 3.0])
def test_backward_of_a_one_element_1d_tensor_gives_gradients_of_its_shape(make):
    """Mutant: the scalar-loss shortcut (a shared 0-d constant 1) also taken for 1-element 1-D tensors."""
    x = tk.Tensor([2.0], requires_grad=True)
    make(x).backward()
    assert x.grad.shape == (1,)
    assert x.grad.numpy()[0] in (1.0, 3.0)
