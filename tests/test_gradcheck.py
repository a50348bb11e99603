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


# --- numbers that lie: one warning per call, naming the dtype and the expected error ---


def user_warnings(call):
    """Run call() and return the messages of the UserWarnings it raised (all of them, even repeats)."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        assert call()
    return [str(r.message) for r in records if issubclass(r.category, UserWarning)]


def test_gradcheck_warns_once_per_call_naming_dtypes_and_error():
    x = tk.Tensor(np.array([0.3, 0.6], dtype=np.float32), requires_grad=True)
    y = tk.Tensor(np.array([0.1, 0.2], dtype=np.float32), requires_grad=True)
    messages = user_warnings(lambda: tk.gradcheck(lambda a, b: a.tanh() * b, x, y))
    assert len(messages) == 1, messages
    assert "input 0, input 1 have dtype float32" in messages[0]
    assert "eps=1e-06 are off by about 1e-01 relative" in messages[0] and "float64 copies" in messages[0]
    half = tk.Tensor(np.array([0.5], dtype=np.float16), requires_grad=True)
    (message,) = user_warnings(lambda: tk.gradcheck(lambda a: a * 2, half))
    assert "input 0 has dtype float16" in message and "1e+03" in message


def test_gradcheck_does_not_warn_for_float32_inputs_it_does_not_check():
    x = tk.Tensor(np.array([0.3, 0.6]), requires_grad=True)
    constant = tk.Tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert user_warnings(lambda: tk.gradcheck(lambda a, c: a * c, x, constant)) == []


def test_gradgradcheck_warns_once_for_inputs_and_grad_outputs():
    x = tk.Tensor(np.array([0.3, 0.6], dtype=np.float32), requires_grad=True)
    v = np.array([1.0, -1.0], dtype=np.float32)
    messages = user_warnings(lambda: tk.gradgradcheck(lambda a: a.tanh(), x, grad_outputs=v))
    assert len(messages) == 1, messages
    assert "gradgradcheck: input 0, grad_outputs[0] have dtype float32" in messages[0]
    assert "1e-01" in messages[0]


# --- gradgradcheck accepts every valid grad_outputs, and uses it ---


def wrong_square(a):
    return WrongSquareGrad.apply(a)


@pytest.mark.parametrize("grad_outputs", [
    tk.Tensor(np.zeros(2)),
    np.zeros(2),
    [np.zeros(2)],
    (tk.Tensor(np.zeros(2), requires_grad=True),),
], ids=["Tensor", "ndarray", "list", "tuple"])
def test_gradgradcheck_uses_the_given_grad_outputs(grad_outputs):
    """WrongSquareGrad's second derivative is wrong by 2v: invisible with v = 0, caught with random v."""
    x = tk.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    assert tk.gradgradcheck(wrong_square, x, grad_outputs=grad_outputs)
    with pytest.raises(tk.GradcheckError):
        tk.gradgradcheck(wrong_square, x, grad_outputs=None)
    with pytest.raises(tk.GradcheckError):
        tk.gradgradcheck(wrong_square, x, grad_outputs=[None])  # None in the list: random for that output


def test_gradgradcheck_grad_outputs_one_per_output_or_per_differentiable_output():
    x = tk.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    constant = tk.Tensor(np.ones(3))

    def fn(a):
        return a.tanh(), constant, (a * a).sum()

    v = [np.array([0.3, -0.2]), np.array([1.0, 2.0, 3.0]), np.array(0.7)]
    assert tk.gradgradcheck(fn, x, grad_outputs=v)  # one per output; the constant's is not used
    assert tk.gradgradcheck(fn, x, grad_outputs=[v[0], v[2]])  # one per output that requires grad
    assert tk.gradgradcheck(fn, x, grad_outputs=(None, tk.Tensor(v[2])))


def test_gradgradcheck_leaves_the_given_grad_outputs_unchanged():
    x = tk.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    v = tk.Tensor(np.array([0.25, 2.0]))
    assert tk.gradgradcheck(lambda a: a.exp() * a, x, grad_outputs=v)
    np.testing.assert_array_equal(v.data, [0.25, 2.0])
    assert not v.requires_grad and v.grad is None


def test_gradgradcheck_refuses_invalid_grad_outputs_clearly():
    x = tk.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(3,\), but output 0 of fn has shape \(2,\)"):
        tk.gradgradcheck(lambda a: a.exp(), x, grad_outputs=np.zeros(3))
    with pytest.raises(ValueError, match="2 output.*3 grad_outputs"):
        tk.gradgradcheck(lambda a: (a.exp(), a.sum()), x, grad_outputs=[None, None, None])
    with pytest.raises(TypeError, match="grad_outputs must be a Tensor, an ndarray"):
        tk.gradgradcheck(lambda a: a.exp(), x, grad_outputs=0.5)
