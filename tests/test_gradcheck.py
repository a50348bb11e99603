"""gradcheck and gradgradcheck: they pass on random graphs, and they catch wrong backwards."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_ko as tk
from tinygrad_ko.autograd import Function
from tinygrad_ko.testing import DEFAULT_OPS, computation_graphs

# --- random computation graphs: every gradient, first and second order ---


@settings(max_examples=max(200, settings().max_examples))
@given(computation_graphs())
def test_gradcheck_passes_on_random_graphs(graph):
    assert tk.gradcheck(graph, *graph.inputs())


@settings(max_examples=max(60, settings().max_examples // 2))
@given(computation_graphs(max_nodes=6))
def test_gradgradcheck_passes_on_random_graphs(graph):
    assert graph.twice_differentiable  # every default op records its backward
    assert tk.gradgradcheck(graph, *graph.inputs())


def test_graph_strategy_reuses_nodes():
    """The strategy must be able to make diamonds: a node used by two later nodes."""
    seen_reuse = []

    @settings(max_examples=100, database=None)
    @given(computation_graphs())
    def collect(graph):
        uses = [i for _, args, _ in graph.nodes for i in set(args)]
        seen_reuse.append(len(uses) != len(set(uses)))

    collect()
    assert any(seen_reuse)


def test_default_ops_cover_the_contract():
    names = {op.name for op in DEFAULT_OPS}
    assert {"add", "sub", "mul", "div", "matmul", "neg", "exp", "log", "sqrt", "relu", "sigmoid", "tanh",
            "sum", "mean", "max", "reshape", "transpose", "getitem", "softmax", "log_softmax",
            "softmax_cross_entropy"} <= names


# --- the checkers themselves ---


class WrongMul(Function):
    """z = x * y with a deliberately wrong gradient for y (uses y instead of x)."""

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, gz):
        x, y = ctx.inputs
        return gz * y, gz * y


class WrongSquareGrad(Function):
    """y = x**2 with backward 2x computed in NumPy, so its own derivative is lost (zero)."""

    @staticmethod
    def forward(ctx, x):
        return x * x

    @staticmethod
    def backward(ctx, gy):
        return gy * tk.Tensor(2 * ctx.inputs[0].data)


def test_gradcheck_catches_a_wrong_backward_and_names_input_and_element():
    x = tk.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = tk.Tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    with pytest.raises(tk.GradcheckError) as info:
        tk.gradcheck(lambda a, b: WrongMul.apply(a, b), x, y)
    message = str(info.value)
    assert "input 1" in message and "element (0,)" in message
    assert "analytic (backward):            4.0" in message
    assert "numerical (central difference): 1.0000000" in message
    assert "absolute error 3" in message and "relative error 3" in message


def test_gradcheck_returns_false_when_asked_not_to_raise():
    x = tk.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tk.Tensor(np.array([4.0, 5.0]), requires_grad=True)
    assert tk.gradcheck(lambda a, b: WrongMul.apply(a, b), x, y, raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = tk.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert tk.gradcheck(lambda a: WrongSquareGrad.apply(a), x)  # first order is right
    with pytest.raises(tk.GradcheckError, match="gradgradcheck.*input 0"):
        tk.gradgradcheck(lambda a: WrongSquareGrad.apply(a), x)


def test_gradcheck_sees_the_whole_jacobian_not_only_sums():
    """A backward that is right for the sum of outputs but wrong per output is caught."""

    class SwappedRows(Function):
        @staticmethod
        def forward(ctx, x):
            return x * np.array([1.0, 2.0])

        @staticmethod
        def backward(ctx, gy):
            return gy[::-1] * tk.Tensor(np.array([1.0, 2.0]))

    x = tk.Tensor(np.array([1.0, 1.0]), requires_grad=True)
    with pytest.raises(tk.GradcheckError, match="output 0 element"):
        tk.gradcheck(lambda a: SwappedRows.apply(a), x)


def test_gradcheck_checks_only_inputs_that_require_grad_and_passes_others_through():
    w = tk.Tensor(np.array([[0.2, -0.4], [0.7, 0.1]]), requires_grad=True)
    x = tk.Tensor(np.array([[1.0, 2.0]]))
    labels = np.array([1])
    assert tk.gradcheck(lambda w, x, t: tk.functional.softmax_cross_entropy(x @ w, t), w, x, labels)


def test_gradcheck_handles_tuple_outputs():
    x = tk.Tensor(np.array([0.3, 0.6]), requires_grad=True)
    assert tk.gradcheck(lambda a: (a.exp(), a.sum() * 2), x)


def test_gradcheck_warns_on_float32_and_checks_in_float64():
    x = tk.Tensor(np.array([0.3, 0.6], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float32.*float64"):
        assert tk.gradcheck(lambda a: a.tanh(), x)


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input requires grad"):
        tk.gradcheck(lambda a: a * 2, tk.Tensor([1.0]))


def test_gradcheck_leaves_the_inputs_unchanged():
    data = np.array([0.1, 0.2])
    x = tk.Tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tk.gradcheck(lambda a: a.sigmoid(), x)
    np.testing.assert_array_equal(data, [0.1, 0.2])
    assert x.grad is None
