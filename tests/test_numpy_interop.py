"""NumPy's functions on Tensors never silently drop the graph.

A NumPy function or ufunc that tinygrad_ko has returns a Tensor whose gradient
is the Tensor operation's (checked against central differences); any other on
a Tensor that requires grad raises TypeError naming it and what to call; on a
constant Tensor (or under no_grad) it runs on the array, as plotting needs.
``ndarray + Tensor`` and ``ndarray @ Tensor`` stay Tensors with gradients.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import numeric_vjp
from test_op_gradients import assert_grad, leaf

import tinygrad_ko as tk
from tinygrad_ko.testing import arrays

RNG = np.random.default_rng(5)
X = RNG.uniform(0.5, 2.0, size=(2, 3))
Y = RNG.uniform(0.5, 2.0, size=(2, 3))
V3 = RNG.uniform(0.5, 2.0, size=3)

# name: (NumPy call on a Tensor or arrays, the same on ndarrays, inputs). The reference runs on
# plain ndarrays, so it is NumPy's own function, independent of tinygrad_ko.
ONE_INPUT = {
    "np.exp": np.exp, "np.log": np.log, "np.sqrt": np.sqrt, "np.tanh": np.tanh, "np.sin": np.sin,
    "np.cos": np.cos, "np.abs": np.abs, "np.negative": np.negative, "np.positive": np.positive,
    "np.square": np.square, "np.reciprocal": np.reciprocal, "np.log1p": np.log1p, "np.expm1": np.expm1,
    "np.sum": np.sum, "np.sum axis keepdims": lambda a: np.sum(a, axis=1, keepdims=True),
    "np.sum positional axis": lambda a: np.sum(a, 0), "np.mean": lambda a: np.mean(a, axis=0),
    "np.max": lambda a: np.max(a, axis=1), "np.min": lambda a: np.min(a), "np.amax": lambda a: np.amax(a, axis=0),
    "np.prod": lambda a: np.prod(a, axis=1), "np.var": lambda a: np.var(a, axis=0, ddof=1),
    "np.std": lambda a: np.std(a, axis=1), "np.cumsum": lambda a: np.cumsum(a, axis=1),
    "np.transpose": np.transpose, "np.transpose axes": lambda a: np.transpose(a, (1, 0)),
    "np.reshape": lambda a: np.reshape(a, (3, 2)), "np.reshape -1": lambda a: np.reshape(a, -1),
    "np.ravel": np.ravel, "np.squeeze": lambda a: np.squeeze(np.expand_dims(a, 0)),
    "np.expand_dims": lambda a: np.expand_dims(a, 1), "np.swapaxes": lambda a: np.swapaxes(a, 0, 1),
    "np.broadcast_to": lambda a: np.broadcast_to(a, (4, 2, 3)), "np.tile": lambda a: np.tile(a, (2, 1)),
    "np.copy": np.copy, "np.clip": lambda a: np.clip(a, 0.8, 1.5), "np.clip one bound": lambda a: np.clip(a, None, 1.5),
    "np.where": lambda a: np.where(X > 1.0, a, 0.0), "np.power": lambda a: np.power(a, 3),
    "np.add.reduce": lambda a: np.add.reduce(a, axis=1), "np.maximum.reduce": lambda a: np.maximum.reduce(a),
    "np.add.accumulate": lambda a: np.add.accumulate(a), "np.multiply.reduce": lambda a: np.multiply.reduce(a),
    "np.dot vector": lambda a: np.dot(a, V3), "np.dot scalar": lambda a: np.dot(a, 2.0),
    "np.concatenate": lambda a: np.concatenate([a, Y], axis=1), "np.stack": lambda a: np.stack([Y, a, a]),
    "np.maximum": lambda a: np.maximum(a, Y), "np.minimum": lambda a: np.minimum(Y, a),
}


@pytest.mark.parametrize("name", list(ONE_INPUT))
def test_numpy_functions_tinygrad_ko_has_return_tensors_with_the_right_gradient(name):
    fn = ONE_INPUT[name]
    x = leaf(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no DeprecationWarning or casting warning on the way
        out = fn(x)
    assert isinstance(out, tk.Tensor) and out.requires_grad
    expected = np.asarray(fn(X.copy()))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    w = RNG.normal(size=out.shape)
    out.backward(w)
    assert_grad(x, numeric_vjp(fn, [X], w, 0), rtol=1e-6, atol=1e-8)


BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
    "**": lambda a, b: a ** b, "@": lambda a, b: a @ b.T, "np.add": np.add, "np.subtract": np.subtract,
    "np.multiply": np.multiply, "np.divide": np.divide, "np.true_divide": np.true_divide, "np.power": np.power,
    "np.matmul": lambda a, b: np.matmul(a, np.transpose(b)), "np.dot": lambda a, b: np.dot(a, np.transpose(b)),
    "np.maximum": np.maximum, "np.minimum": np.minimum,
}


@pytest.mark.parametrize("order", ["ndarray, tensor", "tensor, ndarray", "tensor, tensor"])
@pytest.mark.parametrize("name", list(BINARY))
def test_ndarray_with_a_tensor_gives_a_tensor_with_gradients_on_either_side(name, order):
    fn = BINARY[name]
    left, right = order.split(", ")
    a = leaf(X) if left == "tensor" else X.copy()
    b = leaf(Y) if right == "tensor" else Y.copy()
    out = fn(a, b)
    assert isinstance(out, tk.Tensor) and out.requires_grad
    np.testing.assert_allclose(out.numpy(), fn(X, Y), rtol=1e-12)
    w = RNG.normal(size=out.shape)
    out.backward(w)
    for i, t in enumerate((a, b)):
        if isinstance(t, tk.Tensor):
            assert_grad(t, numeric_vjp(fn, [X, Y], w, i))
        else:
            np.testing.assert_array_equal(t, (X, Y)[i])   # the ndarray is left unchanged


@settings(max_examples=20, deadline=None)
@given(data=st.data(), x=arrays(min_dims=1, max_dims=3, min_value=0.5, max_value=2.0))
def test_numpy_ufuncs_on_random_shapes_match_the_tensor_methods(data, x):
    fn = data.draw(st.sampled_from([np.exp, np.log, np.sin, np.abs, np.sqrt, np.sum, np.transpose]), label="fn")
    t = leaf(x)
    out = fn(t)
    w = data.draw(arrays(out.shape), label="w")
    out.backward(w)
    assert_grad(t, numeric_vjp(fn, [x], w, 0))


def test_ndarray_scalars_with_a_tensor_keep_the_graph():
    x = leaf([1.0, 2.0])
    for out in (np.float64(3.0) * x, x * np.float64(3.0), np.float64(3.0) + x * 2.0):
        assert isinstance(out, tk.Tensor) and out.requires_grad
    x32 = tk.Tensor(np.ones(2, np.float32), requires_grad=True)
    assert (np.float32(2.0) * x32).dtype == np.float32


def test_comparisons_and_value_only_functions_give_plain_arrays():
    x = leaf([1.0, 3.0, 2.0])
    a = np.array([2.0, 2.0, 2.0])
    assert isinstance(a < x, np.ndarray) and (a < x).tolist() == [False, True, False]
    assert isinstance(a == x, np.ndarray)
    assert np.argmax(x) == 1 and np.argmin(x) == 0 and np.shape(x) == (3,) and np.ndim(x) == 1
    assert np.allclose(x, [1.0, 3.0, 2.0]) and np.all(np.isfinite(x)) and not np.any(np.isnan(x))
    np.testing.assert_array_equal(np.round(x * 1.4), np.round(x.numpy() * 1.4))
    np.testing.assert_array_equal(np.floor(x / 2), [0.0, 1.0, 1.0])
    assert np.where(x.numpy() > 1.5)[0].tolist() == [1, 2]


def test_asarray_and_array_give_the_data_for_plotting():
    x = leaf([[1.0, 2.0]])
    assert np.asarray(x) is x.numpy()
    assert np.array(x).tolist() == [[1.0, 2.0]] and np.array(x) is not x.numpy()
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    assert np.array([leaf(1.0), leaf(2.0)]).tolist() == [1.0, 2.0]


@pytest.mark.parametrize("call, name, hint", [
    (lambda t: np.linalg.norm(t), "np.linalg.norm", r"\(t \*\* 2\).sum\(\).sqrt\(\)"),
    (lambda t: np.arctan(t), "np.arctan", "use the Tensor methods and tk.functional"),
    (lambda t: np.log2(t), "np.log2", r"t.log\(\) / math.log\(2\)"),
    (lambda t: np.cumprod(t), "np.cumprod", "tinygrad_ko has no such op"),
    (lambda t: np.split(t, 3), "np.split", "tk.split"),
    (lambda t: np.sum(t, dtype=np.float32), "np.sum", r"dtype= is not supported on Tensors\): call np.sum without"),
    (lambda t: np.exp(t, dtype=np.float32), "np.exp", r"dtype= not supported on Tensors"),
    (lambda t: np.reshape(t, -1, order="F"), "np.reshape", "order= is not supported"),
    (lambda t: np.add.outer(t, t), "np.add.outer", "Tensor methods"),
    (lambda t: np.dot(np.ones((2, 3, 3)), t), "np.dot", "differs from @"),
])
def test_other_numpy_functions_on_a_tensor_that_requires_grad_raise_type_error_saying_what_to_do(call, name, hint):
    t = leaf(V3)
    with pytest.raises(TypeError, match=f"{name} on a Tensor that requires grad would drop the graph") as info:
        call(t)
    assert re.search(hint, str(info.value)), str(info.value)
    assert "t.numpy()" in str(info.value)


@pytest.mark.parametrize("call, expected", [
    (lambda t: np.linalg.norm(t), lambda a: np.linalg.norm(a)),
    (lambda t: np.arctan(t), np.arctan),
    (lambda t: np.cumprod(t), np.cumprod),
    (lambda t: np.sum(t, dtype=np.float32), lambda a: np.sum(a, dtype=np.float32)),
    (lambda t: np.add.outer(t, t), lambda a: np.add.outer(a, a)),
])
def test_other_numpy_functions_work_on_the_array_of_a_constant_and_under_no_grad(call, expected):
    value = expected(V3)
    for result in (call(tk.Tensor(V3)), _no_grad(call, leaf(V3))):
        assert not isinstance(result, tk.Tensor)
        np.testing.assert_array_equal(result, value)


def _no_grad(call, t):
    with tk.no_grad():
        return call(t)


def test_numpy_in_place_on_an_ndarray_writes_the_values_of_a_tensor():
    # the book's params[key] -= lr * grads[key] with a Tensor on the right keeps the ndarray
    params = {"W": np.ones(3)}
    W = params["W"]
    params["W"] -= 0.5 * leaf([2.0, 4.0, 6.0])
    assert params["W"] is W and type(W) is np.ndarray
    np.testing.assert_array_equal(W, [0.0, -1.0, -2.0])
    out = np.zeros(3)
    np.add(leaf(V3), 1.0, out=out)
    np.testing.assert_array_equal(out, V3 + 1.0)


def test_numpy_cannot_write_into_a_tensor_and_says_what_to_use():
    t = leaf(V3)
    with pytest.raises(TypeError, match=r"np.add\(..., out=<Tensor>\): .*\(t \+= x"):
        np.add(t, 1.0, out=t)


def test_numpy_functions_on_constants_tinygrad_ko_has_still_return_tensors():
    c = tk.Tensor(X)
    assert isinstance(np.exp(c), tk.Tensor) and not np.exp(c).requires_grad
    assert isinstance(np.sum(c, axis=0), tk.Tensor)
    assert isinstance(X + c, tk.Tensor)


def test_matplotlib_plots_tensors_through_asarray():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(-1, 1, 5)
    for requires_grad in (False, True):
        y = tk.Tensor(x ** 2, requires_grad=requires_grad)
        image = tk.Tensor(np.outer(x, x), requires_grad=requires_grad)
        fig, ax = plt.subplots()
        try:
            (line,) = ax.plot(x, y)
            np.testing.assert_array_equal(line.get_ydata(), x ** 2)
            ax.plot(y)
            ax.scatter(y, y)
            ax.hist(y)
            ax.bar(np.arange(5), y)
            ax.imshow(image)
            ax.fill_between(x, y)
            ax.set_ylim(y.min(), y.max())
            fig.canvas.draw()
        finally:
            plt.close(fig)
