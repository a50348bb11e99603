"""The autograd engine: order, accumulation, memory, grad modes, higher derivatives, tk.grad."""

import gc
import threading
import weakref

import numpy as np
import pytest

import tinygrad_ko as tk


def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = tk.Tensor(1.5, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_dropped_graph_is_freed_with_gc_disabled():
    w = tk.Tensor(np.ones((3, 4)), requires_grad=True)
    x = tk.Tensor(np.ones((2, 3)))
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(200):
            hidden = (x @ w).sigmoid()
            loss = tk.functional.softmax_cross_entropy(hidden, np.array([0, 1]))
            refs = [weakref.ref(loss), weakref.ref(hidden), weakref.ref(loss.grad_fn)]
            loss.backward()
            del loss, hidden
            assert all(ref() is None for ref in refs)
            w.zero_grad()
    finally:
        if was_enabled:
            gc.enable()


def test_two_backward_calls_accumulate():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()  # a new graph each time (a second pass through one graph needs retain_graph)
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    x.zero_grad()
    assert x.grad is None


def test_accumulation_with_broadcasting():
    b = tk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = tk.Tensor(np.ones((4, 3)), requires_grad=True)
    (a * b).sum().backward()
    (a + b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [8.0, 8.0, 8.0])
    np.testing.assert_array_equal(a.grad.numpy(), np.tile([2.0, 3.0, 4.0], (4, 1)))


def test_a_tensor_used_twice_and_diamonds_accumulate():
    x = tk.Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0
    x.zero_grad()
    a = x * 2.0
    b = a.exp()
    c = a * a
    (b + c).backward()  # d/dx = 2 exp(2x) + 8x
    assert x.grad.item() == pytest.approx(2 * np.exp(6.0) + 24.0)


def test_intermediate_tensors_get_no_grad():
    x = tk.Tensor([1.0], requires_grad=True)
    y = x * 2
    (y * 3).sum().backward()
    assert y.grad is None and not y.is_leaf and x.is_leaf


def test_backward_needs_scalar_or_grad():
    y = tk.Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"one-element.*\(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\).*\(2, 3\)"):
        y.backward(np.ones(3))
    y.backward(np.ones((2, 3)))


def test_backward_on_a_constant_says_what_to_do():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        tk.Tensor([1.0]).sum().backward()


def test_backward_takes_tensor_or_ndarray_and_does_not_keep_it():
    x = tk.Tensor(np.ones(3), requires_grad=True)
    upstream = np.array([1.0, 2.0, 3.0])
    x.backward(upstream)
    assert not np.shares_memory(x.grad.numpy(), upstream)
    x.grad.numpy()[:] = 0  # .grad is the user's own array now
    np.testing.assert_array_equal(upstream, [1.0, 2.0, 3.0])
    (x * 1.0).backward(tk.Tensor(upstream))
    np.testing.assert_array_equal(x.grad.numpy(), upstream)


def test_grads_are_writable_and_never_shared():
    a = tk.Tensor(np.ones((2, 3)), requires_grad=True)
    b = tk.Tensor(np.ones((2, 3)), requires_grad=True)
    c = tk.Tensor(np.ones(3), requires_grad=True)
    (a + b + c.reshape(1, 3)).sum().backward()
    grads = [a.grad.numpy(), b.grad.numpy(), c.grad.numpy()]
    for i, g in enumerate(grads):
        assert g.flags.writeable
        for h in grads[i + 1:]:
            assert not np.shares_memory(g, h)


def test_no_grad_records_nothing_and_nests():
    x = tk.Tensor([1.0], requires_grad=True)
    with tk.no_grad():
        assert not (x * 2).requires_grad
        with tk.no_grad():
            pass
        assert not tk.is_grad_enabled()
        with tk.enable_grad():
            assert (x * 2).requires_grad
        assert not tk.is_grad_enabled()
    assert tk.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tk.no_grad():
            1 / 0
    assert tk.is_grad_enabled()


def test_no_grad_works_as_a_decorator():
    @tk.no_grad()
    def predict(x):
        return x * 2

    assert not predict(tk.Tensor([1.0], requires_grad=True)).requires_grad


def test_no_grad_decorator_survives_recursion_and_reuse():
    x = tk.Tensor([1.0], requires_grad=True)

    @tk.no_grad()
    def depth(n):
        assert not tk.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3
    assert tk.is_grad_enabled() and (x * 2).requires_grad
    mode = tk.no_grad()
    with mode:
        with mode:
            pass
        assert not tk.is_grad_enabled()
    assert tk.is_grad_enabled()


def test_no_grad_is_thread_local():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tk.no_grad():
            inside.set()
            outside.wait(5)
            seen["worker"] = tk.is_grad_enabled()

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    seen["main"] = tk.is_grad_enabled()
    seen["main_records"] = (tk.Tensor([1.0], requires_grad=True) * 2).requires_grad
    outside.set()
    thread.join()
    assert seen == {"worker": False, "main": True, "main_records": True}


def test_second_derivative_of_cube():
    x = tk.Tensor(2.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.item() == 12.0
    x.zero_grad()
    gx.backward()
    assert x.grad.item() == 12.0  # d2/dx2 x^3 = 6x = 12


def test_hessian_vector_product_matches_central_differences_of_the_gradient():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    v = rng.standard_normal(4)
    x0 = rng.standard_normal(4)

    def f(x):
        return ((x @ tk.Tensor(A)).tanh() ** 2).sum() + (x * x * x).sum()

    def grad_at(point):
        x = tk.Tensor(point, requires_grad=True)
        return tk.grad(f(x), x)[0].numpy()

    x = tk.Tensor(x0, requires_grad=True)
    (g,) = tk.grad(f(x), x, create_graph=True)
    (hvp,) = tk.grad((g * tk.Tensor(v)).sum(), x)
    h = 1e-5
    expected = (grad_at(x0 + h * v) - grad_at(x0 - h * v)) / (2 * h)
    np.testing.assert_allclose(hvp.numpy(), expected, rtol=1e-6, atol=1e-8)


def test_grad_returns_without_touching_dot_grad():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    w = tk.Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = tk.grad(y, [x, w])
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad


def test_grad_with_grad_outputs_and_several_outputs():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    (g,) = tk.grad([x * 2, x * x], x, grad_outputs=[np.ones(2), np.array([1.0, 10.0])])
    np.testing.assert_array_equal(g.numpy(), [2 + 2, 2 + 40])


def test_grad_with_respect_to_an_intermediate_tensor():
    x = tk.Tensor(3.0, requires_grad=True)
    h = x * 2
    (gh,) = tk.grad(h * h, h)
    assert gh.item() == 12.0


def test_grad_unused_input():
    x = tk.Tensor(1.0, requires_grad=True)
    z = tk.Tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match="allow_unused"):
        tk.grad(x * 2, [x, z])
    assert tk.grad(x * 2, [x, z], allow_unused=True)[1] is None


def test_create_graph_false_leaves_a_plain_gradient():
    x = tk.Tensor(2.0, requires_grad=True)
    (x ** 3).backward()
    assert x.grad.is_leaf and not x.grad.requires_grad


def test_ops_under_create_graph_build_a_second_order_graph_for_every_primitive():
    x = tk.Tensor(np.array([[0.3, -0.7], [1.2, 0.4]]), requires_grad=True)
    y = ((x.exp() * x.sigmoid() + x.tanh() / (x * x + 1.0).sqrt()) @ x).sum()
    (g,) = tk.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    assert tk.gradgradcheck(lambda t: ((t.exp() * t.sigmoid() + t.tanh() / (t * t + 1.0).sqrt()) @ t).sum(),
                            x)


# --- behaviours a mutation test found unchecked (see tools/mutate.py) ---


def test_grad_of_the_same_output_listed_twice_adds_both_grad_outputs():
    x = tk.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * x
    g1, g2 = np.array([1.0, 0.5, -2.0]), np.array([0.25, 3.0, 1.0])
    (gx,) = tk.grad([y, y], x, [g1, g2])
    np.testing.assert_allclose(gx.data, 2 * x.data * (g1 + g2), rtol=1e-15)  # d(x*x)/dx = 2x


class GradForFirstOnly(tk.Function):
    """z = x * y whose backward returns None for y, although y requires grad."""

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, gz):
        return gz * ctx.inputs[1], None


def test_a_none_gradient_for_an_input_that_requires_grad_leaves_it_without_grad():
    x = tk.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = tk.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    GradForFirstOnly.apply(x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    assert y.grad is None
    gx, gy = tk.grad(GradForFirstOnly.apply(x, y).sum(), [x, y], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    assert gy is None


class GradOfShape(tk.Function):
    """y = 2 x whose backward returns a gradient of a fixed, wrong shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = shape
        return 2 * x

    @staticmethod
    def backward(ctx, gy):
        return tk.Tensor(np.ones(ctx.shape))


def re_shape(shape):
    """A shape as a regular expression that matches its repr."""
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("x_shape, grad_shape", [((3,), (4,)), ((2, 3), (3,)), ((3,), (2, 1))],
                         ids=["not broadcastable", "smaller", "broadcasts to a larger shape"])
def test_a_backward_that_returns_a_wrong_shape_is_named_in_a_runtime_error(x_shape, grad_shape):
    x = tk.Tensor(np.ones(x_shape), requires_grad=True)
    message = (rf"gradofshape.backward returned a gradient of shape {re_shape(grad_shape)} for input 0 of "
               rf"shape {re_shape(x_shape)}; a gradient must have its input's shape")
    with pytest.raises(RuntimeError, match=message):
        GradOfShape.apply(x, shape=grad_shape).sum().backward()
    assert x.grad is None


def test_grad_of_an_output_and_an_intermediate_it_depends_on():
    """Roots [z, y] with y an input of z: y is placed once, after z, so it receives both gradients."""
    x = tk.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x
    z = (y * 3.0).sum()
    gx, gy = tk.grad([z, y], [x, y], [None, np.ones(2)])
    np.testing.assert_array_equal(gy.data, [4.0, 4.0])  # dz/dy = 3, plus 1 from y itself
    np.testing.assert_array_equal(gx.data, 2 * x.data * 4.0)


def test_grad_refuses_an_output_that_does_not_require_grad():
    x = tk.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    constant = tk.Tensor(np.array(3.0))
    with pytest.raises(RuntimeError, match=r"grad \(output\): the tensor does not require grad"):
        tk.grad(constant, x)
    with pytest.raises(RuntimeError, match=r"grad \(output\)"):
        tk.grad([x.sum(), constant], x)
