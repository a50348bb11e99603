"""The book's numerical differentiation (chapter 4): its printed numbers, reproduced, and safety."""

import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_ko as tk
from tinygrad_ko.testing import arrays


def function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


# --- the seed numbers, to 1e-12 relative where the book prints 16 digits ---


def test_numerical_diff_reproduces_the_book():
    assert tk.numerical_diff(function_1, 5) == pytest.approx(0.1999999999990898, rel=1e-12)
    assert tk.numerical_diff(function_1, 10) == pytest.approx(0.2999999999986347, rel=1e-12)


def test_partial_derivatives_reproduce_the_book():
    assert tk.numerical_diff(lambda x0: x0 * x0 + 4.0 ** 2.0, 3.0) == pytest.approx(6.00000000000378, rel=1e-12)
    assert tk.numerical_diff(lambda x1: 3.0 ** 2.0 + x1 * x1, 4.0) == pytest.approx(7.999999999999119, rel=1e-12)


@pytest.mark.parametrize("point, expected", [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)),
                                             ((3.0, 0.0), (6.0, 0.0))])
def test_numerical_gradient_reproduces_the_book(point, expected):
    np.testing.assert_allclose(tk.numerical_gradient(function_2, np.array(point)), expected, atol=1e-9)


def test_numerical_gradient_partials_match_numerical_diff_digits():
    grad = tk.numerical_gradient(function_2, np.array([3.0, 4.0]))
    assert grad[0] == pytest.approx(6.00000000000378, rel=1e-12)
    assert grad[1] == pytest.approx(7.999999999999119, rel=1e-12)


@pytest.mark.parametrize("lr, expected", [
    (0.1, [-6.11110793e-10, 8.14814391e-10]),
    (10.0, [-2.58983747e+13, -1.29524862e+12]),
    (1e-10, [-2.99999994, 3.99999992]),
])
def test_gradient_descent_reproduces_the_book(lr, expected):
    x = tk.gradient_descent(function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100)
    np.testing.assert_allclose(x, expected, rtol=1e-8)  # the book prints 9 digits


def test_gradient_descent_history_and_no_mutation():
    init_x = np.array([-3.0, 4.0])
    x, history = tk.gradient_descent(function_2, init_x, lr=0.1, step_num=20, return_history=True)
    assert history.shape == (20, 2)
    np.testing.assert_array_equal(history[0], [-3.0, 4.0])
    np.testing.assert_array_equal(init_x, [-3.0, 4.0])  # the book's version would have moved it
    np.testing.assert_allclose(history[1], history[0] - 0.1 * 2 * history[0], rtol=1e-9)
    assert np.linalg.norm(x) < np.linalg.norm(history[-1])


def test_tiny_h_rounds_to_zero_as_the_book_warns():
    assert tk.numerical_diff(function_1, 5, h=1e-50) == 0.0
    assert tk.numerical_diff(function_1, 5, h=1e-50, method="forward") == 0.0


def test_forward_error_shrinks_like_h_central_like_h_squared():
    f, x, exact = np.sin, 1.0, np.cos(1.0)
    hs = np.array([1e-1, 1e-2, 1e-3])
    forward = [abs(tk.numerical_diff(f, x, h, method="forward") - exact) for h in hs]
    central = [abs(tk.numerical_diff(f, x, h) - exact) for h in hs]
    forward_order = np.diff(np.log10(forward)) / np.diff(np.log10(hs))
    central_order = np.diff(np.log10(central)) / np.diff(np.log10(hs))
    np.testing.assert_allclose(forward_order, 1.0, atol=0.1)
    np.testing.assert_allclose(central_order, 2.0, atol=0.1)


def test_numerical_diff_rejects_unknown_method():
    with pytest.raises(ValueError, match="central.*forward"):
        tk.numerical_diff(function_1, 5, method="backward")


# --- numerical_gradient: any shape, the book's in-place style, and nothing lost ---


@given(arrays(max_dims=3))
def test_numerical_gradient_of_sum_of_squares_is_2x(x):
    np.testing.assert_allclose(tk.numerical_gradient(lambda a: np.sum(a ** 2), x), 2 * x, atol=1e-7)


def test_numerical_gradient_lets_f_ignore_its_argument():
    W = np.array([[0.5, -1.0], [2.0, 0.25]])
    loss = lambda _: float(np.sum(W ** 3))  # reads W itself, as the book's lambda W: net.loss(x, t)
    np.testing.assert_allclose(tk.numerical_gradient(loss, W), 3 * W ** 2, rtol=1e-7)


def test_numerical_gradient_accepts_tensor_and_scalar_results():
    x = tk.Tensor(np.array([1.0, 2.0]))
    grad = tk.numerical_gradient(lambda a: (tk.Tensor(a) ** 2).sum(), x)
    np.testing.assert_allclose(grad, [2.0, 4.0], atol=1e-8)
    grad = tk.numerical_gradient(lambda a: np.array([[a.sum()]]), np.zeros(3))
    np.testing.assert_allclose(grad, np.ones(3), atol=1e-8)


def test_numerical_gradient_rejects_non_scalar_f():
    with pytest.raises(ValueError, match=r"scalar.*shape \(2,\)"):
        tk.numerical_gradient(lambda a: a * 2, np.array([1.0, 2.0]))


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(TypeError, match=r"int64.*float"):
        tk.numerical_gradient(function_2, np.array([3, 4]))


def test_numerical_gradient_rejects_read_only_arrays():
    x = np.array([3.0, 4.0])
    x.flags.writeable = False
    with pytest.raises(ValueError, match=r"read-only.*copy\(\)"):
        tk.numerical_gradient(function_2, x)


def test_numerical_gradient_rejects_lists():
    with pytest.raises(TypeError, match="NumPy array"):
        tk.numerical_gradient(function_2, [3.0, 4.0])


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
@given(x=arrays(max_dims=3, min_dims=1), data=st.data())
def test_interrupted_numerical_gradient_leaves_x_bitwise_unchanged(error, x, data):
    before = x.copy()
    calls_until_raise = data.draw(st.integers(0, 2 * x.size - 1))
    calls = [0]

    def f(a):
        if calls[0] == calls_until_raise:
            raise error("interrupted inside f")
        calls[0] += 1
        return float(np.sum(a))

    with pytest.raises(error):
        tk.numerical_gradient(f, x)
    assert x.tobytes() == before.tobytes()


def test_numerical_gradient_restores_float32_bitwise():
    x = np.array([0.1, 1e-30, -3.3], dtype=np.float32)
    before = x.tobytes()
    with pytest.warns(UserWarning, match="float32"):
        grad = tk.numerical_gradient(lambda a: float(np.sum(a.astype(np.float64) ** 2)), x)
    assert x.tobytes() == before
    assert grad.dtype == np.float32


# --- numbers that lie: float16/float32 warn, once per call, with the expected error ---


def caught(call):
    """Run call() and return (its result, the messages of the UserWarnings it raised)."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        result = call()
    return result, [str(r.message) for r in records if issubclass(r.category, UserWarning)]


@pytest.mark.parametrize("dtype, error", [(np.float32, "1e-03"), (np.float16, "1e+01")])
def test_numerical_gradient_warns_once_per_call_naming_dtype_and_error(dtype, error):
    x = np.arange(6, dtype=dtype).reshape(2, 3) / 4
    grad, messages = caught(lambda: tk.numerical_gradient(lambda a: float(np.sum(a ** 2)), x))
    assert len(messages) == 1, messages  # once per call, not once per element
    assert f"dtype {np.dtype(dtype)}" in messages[0] and f"off by about {error} relative" in messages[0]
    assert "numerical_gradient" in messages[0] and "float64" in messages[0]
    assert grad.shape == x.shape


def test_the_warned_float32_error_is_the_real_one():
    """In float32 with h=1e-4 the gradient is off by about 1e-3 relative, as the warning says."""
    x = np.array([3.0, 4.0], dtype=np.float32)
    with pytest.warns(UserWarning, match="1e-03"):
        grad = tk.numerical_gradient(function_2, x)
    error = np.max(np.abs(grad - 2 * x.astype(np.float64)) / 8)
    assert 1e-5 < error < 1e-2
    exact64 = tk.numerical_gradient(function_2, x.astype(np.float64))
    assert np.max(np.abs(exact64 - [6.0, 8.0])) / 8 < 1e-8


@pytest.mark.parametrize("x, f", [
    (np.float32(5.0), function_1),                                      # a float32 scalar x
    (np.array([5.0, 10.0], dtype=np.float32), function_1),               # a float32 array x
    (5.0, lambda x: np.float32(function_1(x))),                          # f computes in float32
    (np.array(5.0), lambda x: function_1(x).astype(np.float32)),
], ids=["float32 scalar", "float32 array", "f returns float32", "f returns a float32 array"])
@pytest.mark.parametrize("method", ["central", "forward"])
def test_numerical_diff_warns_once_in_float32(x, f, method):
    _, messages = caught(lambda: tk.numerical_diff(f, x, method=method))
    assert len(messages) == 1, messages
    assert "numerical_diff" in messages[0] and "float32" in messages[0] and "1e-03" in messages[0]


def test_float64_and_python_numbers_never_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tk.numerical_diff(function_1, 5)
        tk.numerical_diff(function_1, np.float64(5.0))
        tk.numerical_diff(function_1, np.array([5.0, 10.0]))
        tk.numerical_diff(function_1, 5, h=1e-50)  # the book's rounding demo is float64: no warning
        tk.numerical_gradient(function_2, np.array([3.0, 4.0]))
        tk.gradient_descent(function_2, np.array([-3.0, 4.0], dtype=np.float32), step_num=3)  # works in float64


def test_the_books_numerical_gradient_of_a_float64_net_does_not_warn():
    np.random.seed(0)
    net = tk.TwoLayerNet(input_size=4, hidden_size=3, output_size=2)
    x, t = np.random.rand(3, 4), np.array([0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = net.numerical_gradient(x, t)
        dW = tk.numerical_gradient(lambda W: net.loss(x, t).item(), net.params["W1"])
    np.testing.assert_allclose(dW, grads["W1"], rtol=1e-12)
    np.testing.assert_allclose(grads["W1"], net.gradient(x, t)["W1"], atol=1e-8)


# --- gradient_descent keeps no history unless asked ---


def peak_bytes(**kwargs):
    """The peak memory traced while gradient_descent(function_2, (-3, 4), **kwargs) runs."""
    tracemalloc.start()
    try:
        tk.gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gradient_descent_without_history_keeps_memory_flat_in_step_num():
    # Also the warm-up: Python's free lists fill during the first thousands of steps.
    with_history = peak_bytes(step_num=2000, return_history=True)
    assert with_history >= 2000 * 2 * 8  # the history is visible to tracemalloc
    short, long = peak_bytes(step_num=10), peak_bytes(step_num=10_000)
    assert long < short + 16 * 1024, (short, long)  # a history of 10,000 steps would add 160,000 bytes
