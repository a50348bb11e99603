"""PyTorch's losses in tk.functional: cross_entropy, nll_loss, binary_cross_entropy, l1_loss, huber_loss.

Each property test draws a random shape and a random upstream gradient in
float64 and compares the value with a NumPy transcription of PyTorch's
formula and every gradient with central differences of that transcription
(``numeric_vjp``); inputs stay away from kinks, which the example tests pin.
The comparison with PyTorch itself is in test_torch_parity.py.
"""

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import np_log_softmax, numeric_vjp

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko.testing import arrays

REDUCTIONS = ["mean", "sum", "none"]


def leaf(x):
    return tk.Tensor(np.array(x, dtype=np.float64), requires_grad=True)


def np_reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](losses)


def np_cross_entropy(x, t, reduction="mean", label_smoothing=0.0):
    """PyTorch's cross_entropy written out: classes on axis 1 (axis 0 for 1-D x), one-hot for indices."""
    axis = 0 if x.ndim == 1 else 1
    classes = x.shape[axis]
    if np.asarray(t).dtype.kind in "iu":
        t = np.moveaxis(np.eye(classes)[t], -1, axis)
    q = (1 - label_smoothing) * t + label_smoothing / classes
    return np_reduce(-(q * np_log_softmax(x, axis=axis)).sum(axis=axis), reduction)


def np_nll_loss(x, t, reduction="mean"):
    axis = 0 if x.ndim == 1 else 1
    one_hot = np.moveaxis(np.eye(x.shape[axis])[t], -1, axis)
    return np_reduce(-(one_hot * x).sum(axis=axis), reduction)


def np_bce(p, t, reduction="mean"):
    return np_reduce(-(t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log(1 - p), -100)), reduction)


def np_l1(x, t, reduction="mean"):
    return np_reduce(np.abs(x - t), reduction)


def np_huber(x, t, reduction="mean", delta=1.0):
    d = np.abs(x - t)
    return np_reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


@st.composite
def scores_shapes(draw):
    """(C,), (N, C) or (N, C, d1[, d2]): the layouts PyTorch's class losses take."""
    rank = draw(st.sampled_from([1, 2, 2, 3, 4]))
    return tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))


def class_targets(draw, shape):
    classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    return draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)), label="targets")


def probability_targets(draw, shape):
    axis = 0 if len(shape) == 1 else 1
    raw = draw(arrays(shape, min_value=0.05, max_value=1.0), label="target weights")
    return raw / raw.sum(axis=axis, keepdims=True)


def check(data, out, np_fn, xs, wrt, rtol=1e-6, atol=1e-8):
    """Value of out vs np_fn(*xs); backprop a random upstream gradient; grads of xs[i], i in wrt, vs numeric_vjp."""
    expected = np_fn(*xs)
    assert out.shape == np.shape(expected) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    w = data.draw(arrays(out.shape), label="upstream gradient")
    out.backward(w)
    for i, t in wrt.items():
        assert t.grad is not None and t.grad.shape == t.shape
        np.testing.assert_allclose(t.grad.numpy(), numeric_vjp(np_fn, xs, w, i), rtol=rtol, atol=atol)


# --- property tests: values and gradients against NumPy ---


@given(data=st.data(), shape=scores_shapes(), reduction=st.sampled_from(REDUCTIONS),
       smoothing=st.sampled_from([0.0, 0.1, 0.5]))
def test_cross_entropy_with_class_indices_matches_numpy(data, shape, reduction, smoothing):
    x = data.draw(arrays(shape), label="logits")
    t = class_targets(data.draw, shape)
    tx = leaf(x)
    out = F.cross_entropy(tx, t, reduction=reduction, label_smoothing=smoothing)
    check(data, out, lambda x: np_cross_entropy(x, t, reduction, smoothing), [x], {0: tx})


@given(data=st.data(), shape=scores_shapes(), reduction=st.sampled_from(REDUCTIONS),
       smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_probabilities_matches_numpy_for_both_inputs(data, shape, reduction, smoothing):
    x = data.draw(arrays(shape), label="logits")
    t = probability_targets(data.draw, shape)
    tx, tt = leaf(x), leaf(t)
    out = F.cross_entropy(tx, tt, reduction=reduction, label_smoothing=smoothing)
    check(data, out, lambda x, t: np_cross_entropy(x, t, reduction, smoothing), [x, t], {0: tx, 1: tt})


@given(data=st.data(), shape=scores_shapes(), reduction=st.sampled_from(REDUCTIONS))
def test_nll_loss_matches_numpy(data, shape, reduction):
    x = data.draw(arrays(shape), label="log_probs")
    t = class_targets(data.draw, shape)
    tx = leaf(x)
    check(data, F.nll_loss(tx, t, reduction=reduction), lambda x: np_nll_loss(x, t, reduction), [x], {0: tx})


@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
       reduction=st.sampled_from(REDUCTIONS))
def test_binary_cross_entropy_matches_numpy_for_both_inputs(data, shape, reduction):
    p = data.draw(arrays(shape, min_value=0.02, max_value=0.98), label="p")
    t = data.draw(arrays(shape, min_value=0.0, max_value=1.0), label="t")
    tp, tt = leaf(p), leaf(t)
    out = F.binary_cross_entropy(tp, tt, reduction=reduction)
    check(data, out, lambda p, t: np_bce(p, t, reduction), [p, t], {0: tp, 1: tt})


@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
       reduction=st.sampled_from(REDUCTIONS))
def test_l1_loss_matches_numpy_away_from_ties(data, shape, reduction):
    t = data.draw(arrays(shape), label="t")
    x = t + data.draw(arrays(shape, away_from=[0.0], margin=1e-2), label="x - t")
    tx, tt = leaf(x), leaf(t)
    check(data, F.l1_loss(tx, tt, reduction=reduction), lambda x, t: np_l1(x, t, reduction), [x, t],
          {0: tx, 1: tt})


@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
       reduction=st.sampled_from(REDUCTIONS), delta=st.sampled_from([0.5, 1.0, 2.0]))
def test_huber_loss_matches_numpy_away_from_the_seams(data, shape, reduction, delta):
    t = data.draw(arrays(shape), label="t")
    d = data.draw(arrays(shape, min_value=-4, max_value=4, away_from=[-delta, delta], margin=1e-2), label="x - t")
    x = t + d
    tx, tt = leaf(x), leaf(t)
    check(data, F.huber_loss(tx, tt, reduction=reduction, delta=delta),
          lambda x, t: np_huber(x, t, reduction, delta), [x, t], {0: tx, 1: tt})


# --- PyTorch's conventions, pinned by example ---


def test_cross_entropy_puts_classes_on_axis_1_unlike_softmax_cross_entropy():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((3, 4, 5)), rng.integers(0, 4, (3, 5))  # 4 classes on axis 1
    per_position = F.cross_entropy(x, t, reduction="none")
    assert per_position.shape == (3, 5)
    book = F.softmax_cross_entropy(np.moveaxis(x, 1, -1), t)  # the book's: classes last
    np.testing.assert_allclose(F.cross_entropy(x, t).item(), book.item(), rtol=1e-12)


def test_cross_entropy_equals_nll_of_log_softmax():
    x, t = np.random.default_rng(1).standard_normal((6, 3)), np.array([0, 2, 1, 1, 0, 2])
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction="sum").item(),
                               F.nll_loss(F.log_softmax(x, axis=1), t, reduction="sum").item(), rtol=1e-12)


def test_cross_entropy_label_smoothing_is_pytorchs_definition():
    # 3 classes, e = 0.3: loss = 0.7 * -log p[t] + 0.3 * mean_c(-log p[c])
    x, t = np.array([[2.0, 0.0, -1.0]]), np.array([0])
    log_p = x[0] - np.log(np.exp(x[0]).sum())
    expected = 0.7 * -log_p[0] + 0.3 * -log_p.mean()
    np.testing.assert_allclose(F.cross_entropy(x, t, label_smoothing=0.3).item(), expected, rtol=1e-12)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_is_finite_at_logits_of_1e4(smoothing):
    x = tk.Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([2, 0]), label_smoothing=smoothing)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(x.grad.numpy().sum(axis=1), 0.0, atol=1e-12)  # softmax - target sums to 0
    if smoothing == 0.0:
        np.testing.assert_allclose(loss.item(), (2e4 + 1e4 + np.log(2.0)) / 2, rtol=1e-12)


def test_cross_entropy_ignores_minus_inf_logits_of_other_classes():
    x = tk.Tensor(np.array([[0.0, -np.inf, 0.0]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([0]))
    loss.backward()
    np.testing.assert_allclose(loss.item(), np.log(2.0), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), [[-0.5, 0.0, 0.5]], atol=1e-12)


def test_cross_entropy_of_one_sample_without_batch_axis():
    x, t = np.array([1.0, 2.0, 3.0]), np.array(2)
    assert F.cross_entropy(x, t, reduction="none").shape == ()
    np.testing.assert_allclose(F.cross_entropy(x, t).item(), np_cross_entropy(x, t), rtol=1e-12)


def test_cross_entropy_accepts_a_list_of_labels_and_one_hot_floats():
    x = np.array([[1.0, 2.0], [0.5, -0.5]])
    by_index = F.cross_entropy(x, [1, 0]).item()
    np.testing.assert_allclose(F.cross_entropy(x, np.array([[0.0, 1.0], [1.0, 0.0]])).item(), by_index)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_as_pytorch():
    p = tk.Tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    t = tk.Tensor(np.array([1.0, 0.0, 0.0, 1.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(loss.numpy(), [100.0, 100.0, 0.0, 0.0])
    loss.backward(np.ones(4))
    # PyTorch's (p - t) / max(p (1 - p), 1e-12); the target's gradient is the clamped log-ratio
    np.testing.assert_allclose(p.grad.numpy(), [-1e12, 1e12, 0.0, 0.0], rtol=1e-8)
    np.testing.assert_array_equal(t.grad.numpy(), [100.0, -100.0, 100.0, -100.0])


def test_l1_loss_gradient_is_zero_where_input_equals_target():
    x = tk.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    F.l1_loss(x, np.array([1.0, 0.0, 5.0]), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -1.0])


def test_huber_loss_at_delta_uses_the_linear_branch_with_a_continuous_gradient():
    x = tk.Tensor(np.array([-2.0, 2.0, 0.0, 1.0]), requires_grad=True)
    loss = F.huber_loss(x, np.zeros(4), reduction="none", delta=2.0)
    np.testing.assert_allclose(loss.numpy(), [2.0, 2.0, 0.0, 0.5])
    loss.backward(np.ones(4))
    np.testing.assert_array_equal(x.grad.numpy(), [-2.0, 2.0, 0.0, 1.0])


def test_huber_loss_is_finite_for_huge_differences():
    x = tk.Tensor(np.array([1e200, -1e200]), requires_grad=True)
    loss = F.huber_loss(x, np.zeros(2), reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e200 - 1.0, rtol=1e-12)
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, -1.0])


@pytest.mark.parametrize("fn", [
    lambda x: F.cross_entropy(x, np.array([1, 0, 2]), label_smoothing=0.1),
    lambda x: F.nll_loss(F.log_softmax(x, axis=1), np.array([1, 0, 2])),
    lambda x: F.binary_cross_entropy(F.sigmoid(x), np.full((3, 3), 0.3)),
    lambda x: F.huber_loss(x, np.zeros((3, 3)), reduction="sum", delta=0.4),
], ids=["cross_entropy", "nll_loss", "binary_cross_entropy", "huber_loss"])
def test_second_derivatives_pass_gradgradcheck(fn):
    x = tk.Tensor(np.random.default_rng(2).standard_normal((3, 3)) * 0.5 + 0.05, requires_grad=True)
    assert tk.gradcheck(fn, x)
    assert tk.gradgradcheck(fn, x)


@pytest.mark.parametrize("name, call", [
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([1, 0]))),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.full((2, 3), 1 / 3))),
    ("nll_loss", lambda x: F.nll_loss(x, np.array([1, 0]))),
    ("binary_cross_entropy", lambda x: F.binary_cross_entropy(x * 0 + 0.5, np.ones((2, 3)))),
    ("l1_loss", lambda x: F.l1_loss(x, np.ones((2, 3)))),
    ("huber_loss", lambda x: F.huber_loss(x, np.ones((2, 3)), reduction="none")),
])
def test_float32_stays_float32(name, call):
    x = tk.Tensor(np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    out = call(x)
    out.backward(np.ones(out.shape, np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32, name


def test_inputs_are_left_unchanged():
    x, t = np.random.default_rng(4).standard_normal((3, 4)), np.array([3, 0, 1])
    x0, t0 = x.copy(), t.copy()
    tx = tk.Tensor(x, requires_grad=True)
    F.cross_entropy(tx, t, label_smoothing=0.1).backward()
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(t, t0)


# --- errors ---


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError,
     ["cross_entropy", "target 3", "(1,)", "3 classes", "0 to 2"]),
    (lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, -100])), ValueError, ["-100", "ignore_index"]),
    (lambda: F.cross_entropy(np.zeros((2, 3, 4)), np.array([0, 1])), ValueError,
     ["cross_entropy", "(2, 3, 4)", "axis 1", "(2, 4)", "(2,)"]),
    (lambda: F.cross_entropy(np.zeros((2, 3)), np.zeros((2, 4))), ValueError,
     ["probability targets", "(2, 3)", "(2, 4)"]),
    (lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), reduction="avg"), ValueError,
     ["cross_entropy", "'avg'", "'mean'"]),
    (lambda: F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5), ValueError,
     ["label_smoothing", "[0, 1]", "1.5"]),
    (lambda: F.cross_entropy(np.zeros(()), np.array(0)), ValueError, ["cross_entropy", "0-d"]),
    (lambda: F.nll_loss(np.zeros((2, 3)), np.array([0.0, 1.0])), TypeError, ["nll_loss", "integers", "float64"]),
    (lambda: F.binary_cross_entropy(np.array([0.5, 1.5]), np.ones(2)), ValueError,
     ["binary_cross_entropy", "[0, 1]", "1.5", "sigmoid"]),
    (lambda: F.binary_cross_entropy(np.array([0.5, np.nan]), np.ones(2)), ValueError, ["NaN"]),
    (lambda: F.binary_cross_entropy(np.full((2, 1), 0.5), np.ones(2)), ValueError,
     ["binary_cross_entropy", "(2,)", "(2, 1)"]),
    (lambda: F.l1_loss(np.ones(2), np.ones(2), reduction=None), ValueError, ["l1_loss", "None"]),
    (lambda: F.huber_loss(np.ones(2), np.ones(2), delta=0.0), ValueError, ["huber_loss", "delta", "> 0"]),
])
def test_errors_name_the_loss_and_the_fix(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_l1_and_huber_warn_when_target_shape_broadcasts():
    with pytest.warns(UserWarning, match=r"l1_loss: target shape \(3, 1\) differs from input shape \(3,\)"):
        out = F.l1_loss(np.zeros(3), np.ones((3, 1)), reduction="none")
    assert out.shape == (3, 3)  # broadcast, as PyTorch does (with the same warning)
    with pytest.warns(UserWarning, match="huber_loss"):
        F.huber_loss(np.zeros(3), np.ones(1))
