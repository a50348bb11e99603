"""Every op's gradient against central differences in plain NumPy.

Each property test runs an op on float64 leaves, backpropagates a random
upstream gradient ``w`` (so the whole Jacobian is seen, not its column sums)
and compares every input's ``.grad`` with ``numeric_vjp`` of an independent
NumPy version of the op (``tests/reference.py``). Inputs stay away from kinks,
ties and domain edges; the example tests at the end pin what happens there,
the invariants after backward, and float32.

    pytest tests/test_op_gradients.py -q                           # profile ci
    HYPOTHESIS_PROFILE=intense pytest tests/test_op_gradients.py   # many examples
"""

import operator
import warnings
from math import prod

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import (np_cross_entropy_error, np_log_softmax, np_one_hot, np_relu, np_sigmoid,
                       np_softmax, np_softmax_cross_entropy, numeric_vjp)

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko.testing import arrays, broadcastable_shapes, shapes, untied_arrays

RTOL, ATOL = 1e-6, 1e-8


def leaf(x):
    """A float64 leaf holding a copy of x."""
    return tk.Tensor(np.array(x, dtype=np.float64), requires_grad=True)


def assert_grad(t, expected, rtol=RTOL, atol=ATOL):
    """t.grad exists, has t's shape and dtype, and matches expected."""
    assert t.grad is not None
    assert t.grad.shape == t.shape
    assert t.grad.dtype == t.dtype
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=rtol, atol=atol)


def backward_random(data, out):
    """Backprop a random upstream gradient of out's shape (as an ndarray or a Tensor); return it."""
    w = data.draw(arrays(out.shape), label="upstream gradient")
    out.backward(w if data.draw(st.booleans(), label="as ndarray") else tk.Tensor(w))
    return w


# Central differences are exact, up to rounding, for any step when the function is at most
# quadratic in each input element (sums, products, matmul, squared errors). For those a larger
# step shrinks the rounding error (about eps * |f| / h), which for a scalar loss summing many
# terms reaches 1e-8 at h = 1e-6.
QUADRATIC_H = 1e-3


def check(data, tk_fn, np_fn, xs, wrt=None, rtol=RTOL, atol=ATOL, h=1e-6):
    """tk_fn on leaves for xs[i], i in wrt (the rest passed as they are); forward and every grad vs NumPy."""
    wrt = range(len(xs)) if wrt is None else wrt
    args = [leaf(x) if i in wrt else x for i, x in enumerate(xs)]
    out = tk_fn(*args)
    expected = np_fn(*xs)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    w = backward_random(data, out)
    for i in wrt:
        assert_grad(args[i], numeric_vjp(np_fn, xs, w, i, h=h), rtol=rtol, atol=atol)


# --- binary operators, with a Tensor, an ndarray or a Python scalar on either side ---

KINDS = ["tensor op tensor", "tensor op ndarray", "ndarray op tensor", "tensor op scalar", "scalar op tensor"]


def binary_operands(data, kind, y_elements=None):
    """x, y of broadcastable shapes; the side that is a Python scalar is 0-d here."""
    (sx, sy), _ = data.draw(broadcastable_shapes(), label="shapes")
    sx = () if kind.startswith("scalar") else sx
    sy = () if kind.endswith("scalar") else sy
    x = data.draw(arrays(sx), label="x")
    y = data.draw(arrays(sy, **(y_elements or {})), label="y")
    return x, y


def check_binary(data, kind, op, x, y, rtol=RTOL, atol=ATOL, h=1e-6):
    """op on x, y as the kind says; the Tensor sides' grads vs NumPy; constants left unchanged."""
    left, right = kind.split(" op ")
    operands = []
    for value, side in ((x, left), (y, right)):
        if side == "tensor":
            operands.append(leaf(value))
        elif side == "ndarray":
            operands.append(value.copy())
        else:
            operands.append(float(value))
    out = op(*operands)
    np.testing.assert_allclose(out.numpy(), op(x, y), rtol=1e-12, atol=1e-12)
    w = backward_random(data, out)
    for i, t in enumerate(operands):
        if isinstance(t, tk.Tensor):
            assert_grad(t, numeric_vjp(op, [x, y], w, i, h=h), rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(t, (x, y)[i])


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_add_grads_match_central_differences(data, kind):
    check_binary(data, kind, operator.add, *binary_operands(data, kind))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_sub_grads_match_central_differences(data, kind):
    check_binary(data, kind, operator.sub, *binary_operands(data, kind))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_mul_grads_match_central_differences(data, kind):
    check_binary(data, kind, operator.mul, *binary_operands(data, kind))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_div_grads_match_central_differences(data, kind):
    x, y = binary_operands(data, kind, y_elements=dict(away_from=[0.0], margin=0.5))
    check_binary(data, kind, operator.truediv, x, y)


@pytest.mark.parametrize("kind", KINDS[:3])
@given(data=st.data())
def test_matmul_grads_match_central_differences(data, kind):
    # np.matmul's own signature: 1-D operands, 2-D, and batches (up to 2 batch axes) that broadcast.
    (sx, sy), _ = data.draw(hnp.mutually_broadcastable_shapes(signature=np.matmul.signature,
                                                              max_dims=2, max_side=3), label="shapes")
    x, y = data.draw(arrays(sx), label="x"), data.draw(arrays(sy), label="y")
    check_binary(data, kind, operator.matmul, x, y, h=QUADRATIC_H)


# --- unary elementwise ---


@given(data=st.data(), x=arrays())
def test_neg_grads_match_central_differences(data, x):
    check(data, operator.neg, np.negative, [x])


@pytest.mark.parametrize("exponent, elements", [
    (2, {}), (3, {}), (0, {}),
    (-1, dict(away_from=[0.0], margin=0.3)),
    (0.5, dict(min_value=0.1)),
])
@given(data=st.data())
def test_pow_grads_match_central_differences(data, exponent, elements):
    x = data.draw(arrays(**elements), label="x")
    check(data, lambda t: t ** exponent, lambda a: a ** exponent, [x])


@given(data=st.data(), x=arrays(min_value=0.5), exponent=st.floats(-3, 3))
def test_pow_with_a_random_real_exponent_grads_match_central_differences(data, x, exponent):
    check(data, lambda t: t ** exponent, lambda a: np.power(a, exponent), [x])


@given(data=st.data(), x=arrays())
def test_exp_grads_match_central_differences(data, x):
    check(data, tk.Tensor.exp, np.exp, [x])


@given(data=st.data(), x=arrays(min_value=0.1))
def test_log_grads_match_central_differences(data, x):
    check(data, tk.Tensor.log, np.log, [x])


@given(data=st.data(), x=arrays(min_value=0.1))
def test_sqrt_grads_match_central_differences(data, x):
    check(data, tk.Tensor.sqrt, np.sqrt, [x])


@pytest.mark.parametrize("relu", [tk.Tensor.relu, F.relu])
@given(data=st.data(), x=arrays(away_from=[0.0]))
def test_relu_grads_match_central_differences(data, x, relu):
    check(data, relu, np_relu, [x])


@pytest.mark.parametrize("sigmoid", [tk.Tensor.sigmoid, F.sigmoid])
@given(data=st.data(), x=arrays())
def test_sigmoid_grads_match_central_differences(data, x, sigmoid):
    check(data, sigmoid, np_sigmoid, [x])


@pytest.mark.parametrize("tanh", [tk.Tensor.tanh, F.tanh])
@given(data=st.data(), x=arrays())
def test_tanh_grads_match_central_differences(data, x, tanh):
    check(data, tanh, np.tanh, [x])


# --- reductions ---


def draw_axis(data, ndim):
    """None, an int (maybe negative) or a tuple of distinct axes (maybe negative, maybe empty)."""
    ints = [st.integers(-ndim, ndim - 1)] if ndim else []
    return data.draw(st.one_of(st.none(), *ints, hnp.valid_tuple_axes(ndim)), label="axis")


@pytest.mark.parametrize("name", ["sum", "mean"])
@given(data=st.data(), x=arrays(), keepdims=st.booleans())
def test_sum_and_mean_grads_match_central_differences(data, x, keepdims, name):
    axis = draw_axis(data, x.ndim)
    check(data, lambda t: getattr(t, name)(axis=axis, keepdims=keepdims),
          lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), x=untied_arrays(), keepdims=st.booleans())
def test_max_and_min_grads_match_central_differences(data, x, keepdims, name):
    axis = draw_axis(data, x.ndim)
    check(data, lambda t: getattr(t, name)(axis, keepdims),
          lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims), [x])


# --- movement ---


@st.composite
def reshape_targets(draw, shape):
    """A shape of the same size (0-d if the size is 1), maybe with one -1."""
    remaining, target = prod(shape), []
    for _ in range(draw(st.integers(0, 3))):
        divisor = draw(st.sampled_from([d for d in range(1, remaining + 1) if remaining % d == 0]))
        target.append(divisor)
        remaining //= divisor
    target.append(remaining)
    if remaining == 1 and len(target) == 1 and draw(st.booleans()):
        return ()
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@given(data=st.data(), x=arrays(), as_tuple=st.booleans())
def test_reshape_grads_match_central_differences(data, x, as_tuple):
    target = data.draw(reshape_targets(x.shape), label="target")
    reshape = (lambda t: t.reshape(target)) if as_tuple else (lambda t: t.reshape(*target))
    check(data, reshape, lambda a: a.reshape(target), [x])


@given(data=st.data(), x=arrays(), style=st.sampled_from(["no axes", "varargs", "tuple", ".T"]))
def test_transpose_grads_match_central_differences(data, x, style):
    axes = tuple(data.draw(st.permutations(range(x.ndim)), label="axes"))
    transpose = {"no axes": lambda t: t.transpose(), "varargs": lambda t: t.transpose(*axes),
                 "tuple": lambda t: t.transpose(axes), ".T": lambda t: t.T}[style]
    reference = (lambda a: a.transpose(axes)) if style in ("varargs", "tuple") else (lambda a: a.T)
    check(data, transpose, reference, [x])


@given(data=st.data(), x=arrays(min_dims=1))
def test_transpose_with_negative_axes_grads_match_central_differences(data, x):
    # np.transpose(a, (-1, 0)) is a's transpose; the gradient must follow the same permutation.
    axes = tuple(a - x.ndim if negative else a for a, negative in zip(
        data.draw(st.permutations(range(x.ndim)), label="axes"),
        data.draw(st.lists(st.booleans(), min_size=x.ndim, max_size=x.ndim).filter(any), label="negative")))
    check(data, lambda t: t.transpose(axes), lambda a: a.transpose(axes), [x])


@given(data=st.data(), x=arrays())
def test_getitem_with_basic_indices_grads_match_central_differences(data, x):
    # ints, slices with any step (negative too), None and Ellipsis
    index = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True), label="index")
    check(data, lambda t: t[index], lambda a: a[index], [x])


@given(data=st.data(), x=arrays(min_dims=1), step=st.sampled_from([1, -1]))
def test_getitem_with_repeated_integer_arrays_accumulates_like_add_at(data, x, step):
    axis = data.draw(st.integers(0, x.ndim - 1), label="axis")
    n = x.shape[axis]
    picks = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=n + 1, max_size=n + 4),
                               label="picks"))   # more picks than entries: some repeat
    index = (slice(None, None, step),) * axis + (picks,)
    check(data, lambda t: t[index], lambda a: a[index], [x])


@given(data=st.data(), x=arrays(min_dims=1))
def test_getitem_with_integer_arrays_on_every_axis_grads_match_central_differences(data, x):
    index = data.draw(hnp.integer_array_indices(x.shape, result_shape=shapes(max_dims=2)), label="index")
    check(data, lambda t: t[index], lambda a: a[index], [x])


@given(data=st.data(), x=arrays(min_dims=1), whole=st.booleans())
def test_getitem_with_boolean_masks_grads_match_central_differences(data, x, whole):
    mask = data.draw(hnp.arrays(bool, x.shape if whole else x.shape[:1]), label="mask")
    check(data, lambda t: t[mask], lambda a: a[mask], [x])


# --- tk.functional ---


@given(data=st.data(), x=arrays(min_dims=1))
def test_softmax_grads_match_central_differences(data, x):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    check(data, lambda t: F.softmax(t, axis), lambda a: np_softmax(a, axis), [x])


@given(data=st.data(), x=arrays(min_dims=1))
def test_log_softmax_grads_match_central_differences(data, x):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    check(data, lambda t: F.log_softmax(t, axis), lambda a: np_log_softmax(a, axis), [x])


@given(data=st.data(), x=arrays(min_dims=1))
def test_softmax_default_axis_is_last(data, x):
    check(data, F.softmax, np_softmax, [x])


def draw_labels(data, scores_shape):
    classes = scores_shape[-1]
    return data.draw(hnp.arrays(np.int64, scores_shape[:-1], elements=st.integers(0, classes - 1)), label="t")


@given(data=st.data(), y=arrays(min_dims=1, max_dims=2, min_value=0.05, max_value=1.0), one_hot=st.booleans())
def test_cross_entropy_error_grads_match_central_differences(data, y, one_hot):
    labels = draw_labels(data, y.shape)
    t = np_one_hot(labels, y.shape[-1]) if one_hot else labels
    check(data, F.cross_entropy_error, lambda a, _: np_cross_entropy_error(a, labels), [y, t], wrt=[0])


def test_cross_entropy_error_takes_labels_for_a_single_class():
    # Labels of shape (N,) for scores of shape (N, 1) have y's size but are not one-hot
    # (softmax_cross_entropy tells them apart by dtype and shape).
    y = leaf([[0.5], [0.25]])
    loss = F.cross_entropy_error(y, np.array([0, 0]))
    np.testing.assert_allclose(loss.item(), np_cross_entropy_error(y.numpy(), np.array([0, 0])), rtol=1e-12)


@given(data=st.data(), x=arrays(min_dims=1, max_dims=3), targets=st.sampled_from(["labels", "one-hot", "soft"]))
def test_softmax_cross_entropy_grads_match_central_differences(data, x, targets):
    if targets == "soft":
        t = t_dense = np_softmax(data.draw(arrays(x.shape), label="logits of t"))   # rows of probabilities
    else:
        labels = draw_labels(data, x.shape)
        t_dense = np_one_hot(labels, x.shape[-1])
        t = labels if targets == "labels" else t_dense
    check(data, F.softmax_cross_entropy, lambda a, _: np_softmax_cross_entropy(a, t_dense), [x, t], wrt=[0])


@given(data=st.data(), x=arrays(min_dims=1, max_dims=3), normalized=st.booleans())
def test_softmax_cross_entropy_grads_with_respect_to_soft_targets_match_central_differences(data, x, normalized):
    t = data.draw(arrays(x.shape, min_value=0.0, max_value=1.0), label="t")
    t = t / t.sum(axis=-1, keepdims=True).clip(1e-3) if normalized else t
    check(data, F.softmax_cross_entropy, np_softmax_cross_entropy, [x, t])


@pytest.mark.parametrize("name", ["sum_squared_error", "mean_squared_error"])
@given(data=st.data(), y=arrays(min_dims=1), targets=st.sampled_from(["array", "requires grad", "labels"]))
def test_squared_error_losses_grads_match_central_differences(data, y, targets, name):
    reference = {"sum_squared_error": lambda a, b: 0.5 * np.sum((a - b) ** 2),
                 "mean_squared_error": lambda a, b: np.mean((a - b) ** 2)}[name]
    if targets == "labels":
        labels = draw_labels(data, y.shape)
        check(data, getattr(F, name), lambda a, _: reference(a, np_one_hot(labels, y.shape[-1])), [y, labels],
              wrt=[0], h=QUADRATIC_H)
    else:
        t = data.draw(arrays(y.shape), label="t")
        check(data, getattr(F, name), reference, [y, t], wrt=[0, 1] if targets == "requires grad" else [0],
              h=QUADRATIC_H)


@pytest.mark.parametrize("with_bias", [True, False])
@given(data=st.data(), batch=shapes(max_dims=2, max_side=3), sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_linear_grads_match_central_differences(data, batch, sizes, with_bias):
    n_in, n_out = sizes
    x = data.draw(arrays(batch + (n_in,)), label="x")   # (in,), (N, in) or (N, M, in)
    W = data.draw(arrays((n_in, n_out)), label="W")
    b = data.draw(arrays((n_out,)), label="b")
    if with_bias:
        check(data, F.linear, lambda a, B, c: a @ B + c, [x, W, b], h=QUADRATIC_H)
    else:
        check(data, F.linear, lambda a, B: a @ B, [x, W], h=QUADRATIC_H)


# --- conventions at kinks and extremes (exact examples) ---


def test_relu_grad_at_zero_is_zero():
    for relu in (tk.Tensor.relu, F.relu):
        x = tk.Tensor([-1.0, 0.0, 1.0], requires_grad=True)
        relu(x).backward(np.array([5.0, 7.0, 11.0]))
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 11.0])


def test_max_splits_grad_between_ties():
    x = tk.Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.max(axis=1).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])


def test_min_and_global_max_split_grad_between_ties():
    x = tk.Tensor([[1.0, 3.0, 3.0], [2.0, 1.0, 2.0]], requires_grad=True)
    x.min(axis=-1, keepdims=True).backward(np.array([[2.0], [4.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0, 0], [0, 4, 0]])
    x.zero_grad()
    x.min().backward(np.array(6.0))
    np.testing.assert_array_equal(x.grad.numpy(), [[3, 0, 0], [0, 3, 0]])
    x.zero_grad()
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [0, 0, 0]])


def test_pow_zero_grad_at_zero_is_zero():
    x = tk.Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_getitem_repeated_indices_accumulate_like_add_at():
    x = tk.Tensor(np.zeros((3, 2)), requires_grad=True)
    x[np.array([0, 2, 0, 0, -1])].backward(np.arange(10.0).reshape(5, 2))
    expected = np.zeros((3, 2))
    np.add.at(expected, np.array([0, 2, 0, 0, -1]), np.arange(10.0).reshape(5, 2))
    np.testing.assert_array_equal(x.grad.numpy(), expected)   # [[14, 17], [0, 0], [10, 12]]


@pytest.mark.parametrize("fn", [tk.Tensor.sigmoid, F.sigmoid, tk.Tensor.tanh])
def test_sigmoid_and_tanh_at_plus_minus_1000_are_finite_without_warnings(fn):
    x = tk.Tensor([-1000.0, 1000.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        y.backward(np.ones(2))
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_allclose(y.numpy(), [0.0, 1.0] if fn is not tk.Tensor.tanh else [-1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("fn, expected", [
    (F.softmax, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),
    (F.log_softmax, [[0.0, -1e4, -2e4], [-np.log(2), -np.log(2), -1e4 - np.log(2)]]),
    (lambda x: F.softmax_cross_entropy(x, np.array([1, 0])), (1e4 + np.log(2)) / 2),
    (lambda x: F.softmax_cross_entropy(x, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])), (1e4 + np.log(2)) / 2),
])
def test_softmax_family_at_logits_of_1e4_is_finite_without_warnings(fn, expected):
    x = tk.Tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        y.backward(np.ones(y.shape))
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_softmax_cross_entropy_backward_is_softmax_minus_onehot_over_n(targets):
    logits = np.random.default_rng(0).normal(size=(4, 5))
    labels = np.array([0, 4, 2, 2])
    t = labels if targets == "labels" else np_one_hot(labels, 5)
    x = leaf(logits)
    F.softmax_cross_entropy(x, t).backward(tk.Tensor(3.0))
    assert_grad(x, (np_softmax(logits) - np_one_hot(labels, 5)) / 4 * 3.0, rtol=1e-12, atol=1e-15)


def test_cross_entropy_error_keeps_the_books_1e_minus_7():
    y = leaf([0.0, 1.0, 0.0])
    loss = F.cross_entropy_error(y, np.array(1))
    assert loss.item() != 0.0
    np.testing.assert_allclose(loss.item(), -np.log(1 + 1e-7), rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(y.grad.numpy(), [0.0, -1 / (1 + 1e-7), 0.0], rtol=1e-12)
    # and a zero probability for the true class gives -log(1e-7), not inf
    np.testing.assert_allclose(F.cross_entropy_error(np.array([[0.0, 1.0]]), np.array([0])).item(),
                               -np.log(1e-7), rtol=1e-12)


# --- invariants after backward ---

INVARIANT_CASES = {
    "a + b": (lambda a, b: a + b, [(2, 3), (2, 3)]),
    "a + b broadcast": (lambda a, b: a + b, [(2, 3), (3,)]),
    "a * 1 + a": (lambda a: a * 1 + a, [(2, 3)]),
    "a - b": (lambda a, b: a - b, [(2, 3), (2, 3)]),
    "a.clone() + b": (lambda a, b: a.clone() + b, [(2, 3), (2, 3)]),
    "reshape/transpose chain": (lambda a, b: a.reshape(3, 2).T.reshape(-1) + b.T.reshape(6), [(2, 3), (3, 2)]),
    "transpose chain": (lambda a, b: a.transpose(1, 0).T + b, [(2, 3), (2, 3)]),
    "a[::-1] and a[[0, 0]]": (lambda a: a[::-1] + a[np.array([0, 0])], [(2, 3)]),
    "a.sum(axis=0) + b": (lambda a, b: a.sum(axis=0) + b, [(2, 3), (3,)]),
    "a.max(axis=1)": (lambda a: a.max(axis=1), [(2, 3)]),
    "a @ b": (lambda a, b: a @ b, [(2, 3), (3, 4)]),
    "linear": (F.linear, [(2, 3), (3, 4), (4,)]),
    "softmax_cross_entropy, t = softmax(b)": (lambda a, b: F.softmax_cross_entropy(a, F.softmax(b)),
                                              [(2, 3), (2, 3)]),
    "mean_squared_error": (F.mean_squared_error, [(2, 3), (2, 3)]),
}


@pytest.mark.parametrize("case", list(INVARIANT_CASES))
def test_backward_changes_no_input_nor_the_upstream_gradient_and_grads_share_no_memory(case):
    fn, input_shapes = INVARIANT_CASES[case]
    rng = np.random.default_rng(0)
    values = [rng.normal(size=s) for s in input_shapes]
    leaves = [leaf(v) for v in values]
    out = fn(*leaves)
    w = rng.normal(size=out.shape)
    w_copy = w.copy()
    out.backward(w)
    for t, v in zip(leaves, values):
        np.testing.assert_array_equal(t.numpy(), v)
    np.testing.assert_array_equal(w, w_copy)
    grads = [t.grad.numpy() for t in leaves]
    for i, g in enumerate(grads):
        assert g.flags.writeable
        assert not np.shares_memory(g, w)
        assert not any(np.shares_memory(g, t.numpy()) for t in leaves)
        assert not any(np.shares_memory(g, other) for other in grads[i + 1:])


# --- float32 ---

RNG = np.random.default_rng(1)
X23 = RNG.uniform(0.5, 2.0, size=(2, 3))
Y23 = RNG.uniform(0.5, 2.0, size=(2, 3))
LABELS = np.array([2, 0])
FLOAT32_CASES = {
    "t + t": (lambda a, b: a + b, [X23, Y23[0]]),
    "t - scalar": (lambda a: a - 2.0, [X23]),
    "scalar - t": (lambda a: 2.0 - a, [X23]),
    "t * t": (lambda a, b: a * b, [X23, Y23]),
    "scalar * t": (lambda a: 3 * a, [X23]),
    "t / t": (lambda a, b: a / b, [X23, Y23]),
    "scalar / t": (lambda a: 2.0 / a, [X23]),
    "t / scalar": (lambda a: a / 2.0, [X23]),
    "ndarray32 + t": (lambda a: Y23.astype(np.float32) + a, [X23]),
    "t @ t": (lambda a, b: a @ b, [X23, Y23.T]),
    "ndarray32 @ t": (lambda a: Y23.astype(np.float32) @ a, [Y23.T]),
    "-t": (lambda a: -a, [X23]),
    "t ** 2": (lambda a: a ** 2, [X23]),
    "t ** 0.5": (lambda a: a ** 0.5, [X23]),
    "t ** -1": (lambda a: a ** -1, [X23]),
    "t ** 0": (lambda a: a ** 0, [X23]),
    "exp": (tk.Tensor.exp, [X23]),
    "log": (tk.Tensor.log, [X23]),
    "sqrt": (tk.Tensor.sqrt, [X23]),
    "relu": (tk.Tensor.relu, [X23 - 1.2]),
    "sigmoid": (tk.Tensor.sigmoid, [X23 - 1.2]),
    "tanh": (tk.Tensor.tanh, [X23 - 1.2]),
    "sum": (lambda a: a.sum(axis=0), [X23]),
    "mean": (lambda a: a.mean(axis=(0, 1), keepdims=True), [X23]),
    "max": (lambda a: a.max(axis=-1), [X23]),
    "min": (lambda a: a.min(), [X23]),
    "reshape": (lambda a: a.reshape(3, -1), [X23]),
    "transpose": (lambda a: a.T, [X23]),
    "getitem slice": (lambda a: a[:, ::-2], [X23]),
    "getitem repeated": (lambda a: a[np.array([1, 1, 0])], [X23]),
    "getitem mask": (lambda a: a[X23 > 1.0], [X23]),
    "softmax": (F.softmax, [X23]),
    "log_softmax": (lambda a: F.log_softmax(a, axis=0), [X23]),
    "cross_entropy_error labels": (lambda a: F.cross_entropy_error(a, LABELS), [X23 / 3]),
    "cross_entropy_error one-hot": (lambda a: F.cross_entropy_error(a, np_one_hot(LABELS, 3)), [X23 / 3]),
    "softmax_cross_entropy labels": (lambda a: F.softmax_cross_entropy(a, LABELS), [X23]),
    "softmax_cross_entropy one-hot": (lambda a: F.softmax_cross_entropy(a, np_one_hot(LABELS, 3)), [X23]),
    "softmax_cross_entropy soft t": (F.softmax_cross_entropy, [X23, Y23 / 3]),
    "sum_squared_error": (F.sum_squared_error, [X23, Y23]),
    "sum_squared_error labels": (lambda a: F.sum_squared_error(a, LABELS), [X23]),
    "mean_squared_error": (F.mean_squared_error, [X23, Y23]),
    "linear": (F.linear, [X23, Y23.T, Y23[0, :2]]),
}


@pytest.mark.parametrize("case", list(FLOAT32_CASES))
def test_float32_in_gives_float32_out_and_float32_grads(case):
    fn, values = FLOAT32_CASES[case]
    leaves32 = [tk.Tensor(v.astype(np.float32), requires_grad=True) for v in values]
    leaves64 = [leaf(v) for v in values]
    out32, out64 = fn(*leaves32), fn(*leaves64)
    assert out32.dtype == np.float32
    w = np.random.default_rng(2).normal(size=out64.shape)
    out32.backward(w.astype(np.float32))
    out64.backward(w)
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-5, atol=1e-6)   # float32's precision
    for t32, t64 in zip(leaves32, leaves64):
        assert t32.grad.dtype == np.float32 and t32.grad.shape == t32.shape
        np.testing.assert_allclose(t32.grad.numpy(), t64.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.matmul])
def test_float32_leaf_with_a_float64_tensor_gets_a_float32_grad(op):
    a = tk.Tensor(X23.astype(np.float32), requires_grad=True)
    b = tk.Tensor(Y23.T if op is operator.matmul else Y23, requires_grad=True)
    for out in (op(a, b), op(b, a)):
        out.backward(np.ones(out.shape))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
