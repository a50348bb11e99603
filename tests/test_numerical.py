"""The book's numerical differentiation (chapter 4): its printed numbers, reproduced, and safety."""

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
    grad = tk.numerical_gradient(lambda a: float(np.sum(a.astype(np.float64) ** 2)), x)
    assert x.tobytes() == before
    assert grad.dtype == np.float32
