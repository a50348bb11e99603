"""The elementwise ops of the "ops breadth" issue against central differences in plain NumPy.

Same shape as tests/test_op_gradients.py: float64 leaves, a random upstream
gradient, every input's grad against ``numeric_vjp`` of an independent NumPy
formula, inputs away from kinks. The examples pin the conventions at the kinks
and ties (PyTorch's, checked by running torch: see test_ops_breadth_torch.py),
the extremes, second derivatives, float32, and the operators // % ** abs +.
"""

import math
import operator
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import numeric_vjp
from test_op_gradients import assert_grad, backward_random, check, leaf

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko.testing import arrays, broadcastable_shapes

SOME = settings(max_examples=25, deadline=None)


# --- independent NumPy formulas ---


def np_erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def np_gelu(x):
    return x * 0.5 * (1.0 + np_erf(x / math.sqrt(2.0)))


def np_gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log(1.0 + np.exp(beta * x)) / beta)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(x) - 1.0))


def np_leaky_relu(x, slope=0.01):
    return np.where(x > 0, x, slope * x)


def np_logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


# --- unary ops: (Tensor method, tk.functional function, NumPy reference, input elements) ---

UNARY = {
    "abs": (tk.Tensor.abs, F.abs, np.abs, dict(away_from=[0.0])),
    "square": (tk.Tensor.square, F.square, np.square, {}),
    "reciprocal": (tk.Tensor.reciprocal, F.reciprocal, lambda a: 1.0 / a, dict(away_from=[0.0], margin=0.3)),
    "sin": (tk.Tensor.sin, F.sin, np.sin, {}),
    "cos": (tk.Tensor.cos, F.cos, np.cos, {}),
    "log1p": (tk.Tensor.log1p, F.log1p, lambda a: np.log(1.0 + a), dict(min_value=-0.9)),
    "expm1": (tk.Tensor.expm1, F.expm1, lambda a: np.exp(a) - 1.0, {}),
    "leaky_relu": (tk.Tensor.leaky_relu, F.leaky_relu, np_leaky_relu, dict(away_from=[0.0])),
    "elu": (tk.Tensor.elu, F.elu, np_elu, dict(away_from=[0.0])),
    "gelu": (tk.Tensor.gelu, F.gelu, np_gelu, {}),
    "gelu tanh": (lambda t: t.gelu(approximate="tanh"), lambda t: F.gelu(t, approximate="tanh"), np_gelu_tanh, {}),
    "softplus": (tk.Tensor.softplus, F.softplus, np_softplus, {}),
    # threshold 1 puts both pieces inside [-3, 3]; the kink of the gradient at x = 0.5 is avoided
    "softplus beta 2": (lambda t: t.softplus(beta=2.0, threshold=1.0), lambda t: F.softplus(t, 2.0, 1.0),
                        lambda a: np_softplus(a, 2.0, 1.0), dict(away_from=[0.5])),
    "elu alpha 0.5": (lambda t: t.elu(0.5), lambda t: F.elu(t, alpha=0.5), lambda a: np_elu(a, 0.5),
                      dict(away_from=[0.0])),
    "leaky_relu 0.2": (lambda t: t.leaky_relu(0.2), lambda t: F.leaky_relu(t, negative_slope=0.2),
                       lambda a: np_leaky_relu(a, 0.2), dict(away_from=[0.0])),
}


@pytest.mark.parametrize("name", list(UNARY))
@settings(max_examples=20, deadline=None)
@given(data=st.data(), as_method=st.booleans())
def test_unary_grads_match_central_differences(data, as_method, name):
    method, function, reference, elements = UNARY[name]
    x = data.draw(arrays(max_dims=3, **elements), label="x")
    check(data, method if as_method else function, reference, [x])


@SOME
@given(data=st.data(), x=arrays())
def test_sign_is_numpys_sign_with_a_zero_gradient(data, x):
    t = leaf(x)
    out = t.sign()
    np.testing.assert_array_equal(out.numpy(), np.sign(x))
    np.testing.assert_array_equal(F.sign(x).numpy(), np.sign(x))
    backward_random(data, out)
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros_like(x))


@SOME
@given(data=st.data(), x=arrays(), keepdims=st.booleans(), as_method=st.booleans())
def test_logsumexp_grads_match_central_differences(data, x, keepdims, as_method):
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)) if x.ndim else st.none(), label="axis")
    fn = (lambda t: t.logsumexp(axis, keepdims)) if as_method else (
        lambda t: F.logsumexp(t, axis=axis, keepdims=keepdims))
    check(data, fn, lambda a: np_logsumexp(a, axis, keepdims), [x])


# --- two inputs, with broadcasting; Tensor, ndarray or Python number on either side ---

SIDES = ["tensor, tensor", "tensor, ndarray", "ndarray, tensor", "tensor, scalar", "scalar, tensor"]


def two_operands(data, sides, x_elements=None, y_elements=None):
    (sx, sy), _ = data.draw(broadcastable_shapes(max_dims=3), label="shapes")
    left, right = sides.split(", ")
    sx, sy = (() if left == "scalar" else sx), (() if right == "scalar" else sy)
    x = data.draw(arrays(sx, **(x_elements or {})), label="x")
    y = data.draw(arrays(sy, **(y_elements or {})), label="y")
    return x, y


def run_two(data, sides, fn, reference, x, y, h=1e-6):
    """fn on x, y as the sides say; each Tensor side's grad against central differences."""
    operands = []
    for value, side in zip((x, y), sides.split(", ")):
        operands.append(leaf(value) if side == "tensor" else value.copy() if side == "ndarray" else float(value))
    out = fn(*operands)
    assert isinstance(out, tk.Tensor)
    np.testing.assert_allclose(out.numpy(), reference(x, y), rtol=1e-12, atol=1e-12)
    w = backward_random(data, out)
    for i, t in enumerate(operands):
        if isinstance(t, tk.Tensor):
            assert_grad(t, numeric_vjp(reference, [x, y], w, i, h=h))


MAXIMUM_FORMS = {"tk.maximum": tk.maximum, "F.maximum": F.maximum, "np.maximum": np.maximum,
                 "Tensor.maximum": lambda a, b: (a if isinstance(a, tk.Tensor) else tk.Tensor(a)).maximum(b)}
MINIMUM_FORMS = {"tk.minimum": tk.minimum, "F.minimum": F.minimum, "np.minimum": np.minimum,
                 "Tensor.minimum": lambda a, b: (a if isinstance(a, tk.Tensor) else tk.Tensor(a)).minimum(b)}


@pytest.mark.parametrize("sides", SIDES)
@settings(max_examples=20, deadline=None)
@given(data=st.data(), form=st.sampled_from(list(MAXIMUM_FORMS)))
def test_maximum_grads_match_central_differences(data, form, sides):
    x, y = two_operands(data, sides)
    assume(np.all(np.abs(np.subtract(x, y)) > 1e-3))  # ties are pinned below
    run_two(data, sides, MAXIMUM_FORMS[form], np.maximum, x, y)


@pytest.mark.parametrize("sides", SIDES)
@settings(max_examples=20, deadline=None)
@given(data=st.data(), form=st.sampled_from(list(MINIMUM_FORMS)))
def test_minimum_grads_match_central_differences(data, form, sides):
    x, y = two_operands(data, sides)
    assume(np.all(np.abs(np.subtract(x, y)) > 1e-3))
    run_two(data, sides, MINIMUM_FORMS[form], np.minimum, x, y)


@pytest.mark.parametrize("sides", SIDES)
@SOME
@given(data=st.data())
def test_pow_with_a_tensor_exponent_grads_match_central_differences(data, sides):
    x, y = two_operands(data, sides, x_elements=dict(min_value=0.2))
    run_two(data, sides, operator.pow, np.power, x, y)


@SOME
@given(data=st.data(), x=arrays(max_dims=3))
def test_rpow_with_a_number_base_grads_match_central_differences(data, x):
    check(data, lambda t: 2 ** t, lambda a: np.power(2.0, a), [x])
    check(data, lambda t: 0.5 ** t, lambda a: np.power(0.5, a), [x])


@SOME
@given(data=st.data())
def test_where_grads_match_central_differences(data):
    (sc, sa, sb), _ = data.draw(broadcastable_shapes(num_shapes=3, max_dims=3), label="shapes")
    cond = data.draw(arrays(sc), label="cond") > 0
    a, b = data.draw(arrays(sa), label="a"), data.draw(arrays(sb), label="b")
    form = data.draw(st.sampled_from([tk.where, F.where, np.where, "method"]), label="form")
    fn = (lambda p, q: p.where(cond, q)) if form == "method" else (lambda p, q: form(cond, p, q))
    run_two(data, "tensor, tensor", fn, lambda p, q: np.where(cond, p, q), a, b)


@SOME
@given(data=st.data(), x=arrays(max_dims=3))
def test_clip_grads_match_central_differences(data, x):
    lo, hi = sorted(data.draw(st.lists(st.floats(-2, 2), min_size=2, max_size=2), label="bounds"))
    lo, hi = data.draw(st.sampled_from([(lo, hi), (lo, None), (None, hi)]), label="which bounds")
    assume(all(b is None or np.all(np.abs(x - b) > 1e-3) for b in (lo, hi)))  # the bounds are pinned below
    form = data.draw(st.sampled_from(["method", "tk", "F", "np"]), label="form")
    fn = {"method": lambda t: t.clip(lo, hi), "tk": lambda t: tk.clip(t, lo, hi),
          "F": lambda t: F.clip(t, min=lo, max=hi), "np": lambda t: np.clip(t, lo, hi)}[form]
    check(data, fn, lambda a: np.clip(a, lo, hi), [x])


# --- conventions at kinks and ties (the values PyTorch gives) ---


def grad_of(fn, values, w=None):
    x = leaf(values)
    out = fn(x)
    out.backward(np.ones(out.shape) if w is None else w)
    return x.grad.numpy()


def test_clip_grad_is_one_at_both_bounds_as_pytorch():
    x = [-1.0, 0.0, 1.0, 2.0, 3.0]
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(0.0, 2.0), x), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(min=1.0), x), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(max=1.0), x), [1, 1, 1, 0, 0])


def test_clip_with_min_above_max_gives_max_and_zero_grads_as_pytorch():
    x = leaf([2.0, 0.0, 1.0])
    y = x.clip(2.0, 1.0)
    np.testing.assert_array_equal(y.numpy(), [1.0, 1.0, 1.0])
    y.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_clip_errors_say_what_to_do():
    with pytest.raises(ValueError, match="at least one of min and max"):
        tk.Tensor([1.0]).clip()
    with pytest.raises(TypeError, match=r"clip: .*tk.maximum"):
        tk.Tensor([1.0]).clip(tk.Tensor(0.0, requires_grad=True))


@pytest.mark.parametrize("fn, expected_x, expected_y", [
    (tk.maximum, [0.5, 1.0, 0.0], [0.5, 0.0, 1.0]),
    (tk.minimum, [0.5, 0.0, 1.0], [0.5, 1.0, 0.0]),
])
def test_maximum_and_minimum_split_ties_half_and_half_as_pytorch(fn, expected_x, expected_y):
    x, y = leaf([1.0, 2.0, 3.0]), leaf([1.0, 1.0, 4.0])
    fn(x, y).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad.numpy(), expected_x)
    np.testing.assert_array_equal(y.grad.numpy(), expected_y)


def test_maximum_broadcast_ties_sum_their_halves():
    x, y = leaf([[1.0, 2.0], [1.0, 0.0]]), leaf(1.0)
    tk.maximum(x, y).backward(np.ones((2, 2)))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 1.0], [0.5, 0.0]])
    assert y.grad.item() == 2.0   # two ties of 1/2 and one win


def test_abs_grad_at_zero_is_zero_as_pytorch():
    np.testing.assert_array_equal(grad_of(abs, [-1.0, 0.0, 1.0], w=np.array([5.0, 7.0, 11.0])), [-5, 0, 11])


def test_leaky_relu_and_elu_grads_at_zero_are_the_negative_side_slopes_as_pytorch():
    np.testing.assert_array_equal(grad_of(lambda t: t.leaky_relu(0.1), [-1.0, 0.0, 1.0]), [0.1, 0.1, 1.0])
    np.testing.assert_allclose(grad_of(lambda t: t.elu(0.5), [-1.0, 0.0, 1.0]), [0.5 * np.exp(-1), 0.5, 1.0],
                               rtol=1e-15)


def test_softplus_is_smooth_at_the_threshold_and_linear_above_it_as_pytorch():
    x = leaf([20.0, 20.0 + 1e-7, 10.0])
    y = x.softplus()
    np.testing.assert_allclose(y.numpy(), [np.log1p(np.exp(20.0)), 20.0 + 1e-7, np.log1p(np.exp(10.0))],
                               rtol=1e-15)
    y.backward(np.ones(3))
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))   # noqa: E731
    np.testing.assert_allclose(x.grad.numpy(), [sigmoid(20.0), 1.0, sigmoid(10.0)], rtol=1e-15)


def test_gelu_rejects_an_unknown_approximation():
    for gelu in (lambda x: x.gelu(approximate="fast"), lambda x: F.gelu(x, approximate="fast")):
        with pytest.raises(ValueError, match='gelu: approximate must be "none" or "tanh"'):
            gelu(tk.Tensor([1.0]))


def test_pow_with_a_tensor_exponent_at_zero_follows_pytorch():
    # d/dx x**y = y x**(y-1) is 0 where y == 0; d/dy x**y = x**y log x is 0 where x == 0 and y >= 0
    x, y = leaf([0.0, 0.0, 2.0, 0.0]), leaf([0.0, 2.0, 0.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no 0 ** -1 nor log(0) computed on the way
        z = x ** y
        z.backward(np.ones(4))
    np.testing.assert_array_equal(z.numpy(), [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, np.log(2.0), 0.0])


def test_expm1_grad_keeps_its_digits_far_below_zero():
    # exp(x) from the input: expm1(x) + 1 would keep only about 3 digits at x = -30
    np.testing.assert_allclose(grad_of(tk.Tensor.expm1, [-30.0, 1e-10]), np.exp([-30.0, 1e-10]), rtol=1e-15)


@pytest.mark.parametrize("fn", [
    lambda t: t.logsumexp(axis=-1), lambda t: F.logsumexp(t), lambda t: t.softplus(), lambda t: t.elu(),
    lambda t: t.gelu(), lambda t: t.gelu(approximate="tanh"), lambda t: t.leaky_relu(),
])
def test_stable_ops_at_plus_minus_1e4_are_finite_without_warnings(fn):
    x = leaf([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
        y.backward(np.ones(y.shape))
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))


def test_logsumexp_values_at_extremes():
    assert tk.Tensor([1e4, 1e4]).logsumexp().item() == pytest.approx(1e4 + np.log(2.0), rel=1e-15)
    assert tk.Tensor([-np.inf, -np.inf]).logsumexp().item() == -np.inf
    assert tk.Tensor([np.inf, 0.0]).logsumexp().item() == np.inf
    assert tk.Tensor(np.zeros((2, 0))).logsumexp(axis=1).numpy().tolist() == [-np.inf, -np.inf]


# --- second derivatives of the smooth ones ---

RNG = np.random.default_rng(7)
SMOOTH = {
    "sin": (tk.Tensor.sin, [RNG.normal(size=(2, 3))]),
    "cos": (tk.Tensor.cos, [RNG.normal(size=(2, 3))]),
    "square": (tk.Tensor.square, [RNG.normal(size=(2, 3))]),
    "reciprocal": (tk.Tensor.reciprocal, [RNG.uniform(0.5, 2.0, size=(2, 3))]),
    "log1p": (tk.Tensor.log1p, [RNG.uniform(0.0, 2.0, size=(2, 3))]),
    "expm1": (tk.Tensor.expm1, [RNG.normal(size=(2, 3))]),
    "gelu": (tk.Tensor.gelu, [RNG.normal(size=(2, 3))]),
    "gelu tanh": (lambda t: t.gelu(approximate="tanh"), [RNG.normal(size=(2, 3))]),
    "softplus": (lambda t: t.softplus(beta=2.0), [RNG.normal(size=(2, 3))]),
    "elu": (lambda t: t.elu(0.7), [RNG.uniform(0.1, 1.0, size=(2, 3)) * np.array([-1, 1, -1])]),
    "logsumexp": (lambda t: t.logsumexp(axis=1, keepdims=True), [RNG.normal(size=(2, 3))]),
    "x ** y": (operator.pow, [RNG.uniform(0.5, 2.0, size=(2, 3)), RNG.normal(size=(3,))]),
    "2 ** x": (lambda t: 2 ** t, [RNG.normal(size=(2, 3))]),
    "where": (lambda a, b: tk.where(np.array([True, False, True]), a * a, b.sin()),
              [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]),
    "maximum": (lambda a, b: tk.maximum(a * a, b * 3.0), [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]),
    "clip": (lambda a: (a * a).clip(0.2, 1.0), [RNG.normal(size=(2, 3))]),
    "abs": (lambda a: (a * a * a).abs(), [RNG.normal(size=(2, 3))]),
}


@pytest.mark.parametrize("name", list(SMOOTH))
def test_second_derivatives_match_central_differences(name):
    fn, values = SMOOTH[name]
    assert tk.gradgradcheck(fn, *[leaf(v) for v in values])


# --- operators ---


def test_pos_is_a_new_tensor_with_gradient():
    x = leaf([1.0, -2.0])
    y = +x
    assert y is not x and not np.shares_memory(y.numpy(), x.numpy())
    (y * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_python_abs_of_a_tensor_is_differentiable():
    x = leaf([-3.0, 2.0])
    y = abs(x)
    np.testing.assert_array_equal(y.numpy(), [3.0, 2.0])
    y.backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 1.0])


@pytest.mark.parametrize("op", [operator.floordiv, operator.mod])
def test_floordiv_and_mod_give_numpys_values_and_no_gradient(op):
    x = leaf([7.0, -7.0, 7.5])
    a = np.array([2.0, 2.0, -2.0])
    for out, expected in ((op(x, 2.0), op(x.numpy(), 2.0)), (op(9.0, x), op(9.0, x.numpy())),
                          (op(x, a), op(x.numpy(), a)), (op(a, x), op(a, x.numpy())),
                          (op(x, tk.Tensor(a)), op(x.numpy(), a))):
        assert isinstance(out, tk.Tensor) and not out.requires_grad and out.is_leaf
        np.testing.assert_array_equal(out.numpy(), expected)
    ints = op(tk.Tensor(np.array([7, -7])), 3)
    assert ints.dtype.kind == "i"
    np.testing.assert_array_equal(ints.numpy(), op(np.array([7, -7]), 3))


def test_ndarray_and_number_to_the_power_of_a_tensor():
    x = leaf([1.0, 2.0])
    for out, base in ((np.array([3.0, 4.0]) ** x, np.array([3.0, 4.0])), (3 ** x, 3.0)):
        assert isinstance(out, tk.Tensor)
        np.testing.assert_allclose(out.numpy(), np.power(base, x.numpy()), rtol=1e-15)
        x.zero_grad()
        out.backward(np.ones(2))
        np.testing.assert_allclose(x.grad.numpy(), np.power(base, x.numpy()) * np.log(base), rtol=1e-15)


# --- float32 stays float32 ---

X32 = RNG.uniform(0.5, 1.5, size=(2, 3))
FLOAT32 = {
    "abs": lambda a: (a - 1.0).abs(), "sign": lambda a: (a - 1.0).sign() * a, "square": tk.Tensor.square,
    "reciprocal": tk.Tensor.reciprocal, "sin": tk.Tensor.sin, "cos": tk.Tensor.cos, "log1p": tk.Tensor.log1p,
    "expm1": tk.Tensor.expm1, "clip": lambda a: a.clip(0.8, 1.2), "clip np.float64": lambda a: a.clip(np.float64(0.8)),
    "maximum": lambda a: tk.maximum(a, 1.0), "minimum": lambda a: tk.minimum(1.0, a),
    "where": lambda a: tk.where(a.numpy() > 1.0, a, 0.0), "leaky_relu": lambda a: (a - 1.0).leaky_relu(),
    "elu": lambda a: (a - 1.0).elu(), "gelu": tk.Tensor.gelu, "gelu tanh": lambda a: a.gelu(approximate="tanh"),
    "softplus": tk.Tensor.softplus, "logsumexp": lambda a: a.logsumexp(axis=0), "x ** x": lambda a: a ** a,
    "2 ** x": lambda a: 2 ** a, "+x": operator.pos, "abs()": abs,
}


@pytest.mark.parametrize("name", list(FLOAT32))
def test_float32_in_gives_float32_out_and_float32_grads(name):
    fn = FLOAT32[name]
    x32, x64 = tk.Tensor(X32.astype(np.float32), requires_grad=True), leaf(X32)
    out32, out64 = fn(x32), fn(x64)
    assert out32.dtype == np.float32
    w = np.ones(out64.shape)
    out32.backward(w.astype(np.float32))
    out64.backward(w)
    np.testing.assert_allclose(out32.numpy(), out64.numpy(), rtol=1e-5, atol=1e-6)
    assert x32.grad.dtype == np.float32
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=1e-4, atol=1e-5)
