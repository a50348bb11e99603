"""Reductions (var, std, prod, cumsum, argmin) and shape ops of the "ops breadth" issue against
central differences in plain NumPy, with the examples that pin prod at zeros, std at zero spread,
and the error messages.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_op_gradients import QUADRATIC_H, assert_grad, backward_random, check, draw_axis, leaf

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko.testing import arrays, broadcastable_shapes, shapes

SOME = settings(max_examples=25, deadline=None)


def count(shape, axis):
    axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


# --- reductions ---


@pytest.mark.parametrize("name", ["var", "std"])
@SOME
@given(data=st.data(), x=arrays(max_dims=3), keepdims=st.booleans(), ddof=st.sampled_from([0, 1]),
       as_method=st.booleans())
def test_var_and_std_grads_match_central_differences(data, x, keepdims, ddof, as_method, name):
    axis = draw_axis(data, x.ndim)
    assume(count(x.shape, axis) > ddof)
    if name == "std":  # away from zero spread, where the derivative of sqrt is infinite
        assume(np.all(np.var(x, axis=axis) > 1e-2))
    fn = (lambda t: getattr(t, name)(axis, keepdims, ddof)) if as_method else (
        lambda t: getattr(F, name)(t, axis=axis, keepdims=keepdims, ddof=ddof))
    check(data, fn, lambda a: getattr(np, name)(a, axis=axis, keepdims=keepdims, ddof=ddof), [x])


@SOME
@given(data=st.data(), x=arrays(max_dims=3, max_side=3, min_value=-2, max_value=2), keepdims=st.booleans())
def test_prod_grads_match_central_differences(data, x, keepdims):
    axis = draw_axis(data, x.ndim)
    # a product is linear in each element, so central differences are exact for any step
    check(data, lambda t: t.prod(axis, keepdims), lambda a: np.prod(a, axis=axis, keepdims=keepdims), [x],
          h=QUADRATIC_H)


@SOME
@given(data=st.data(), x=arrays(min_dims=1, max_dims=3))
def test_cumsum_grads_match_central_differences(data, x):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    check(data, lambda t: t.cumsum(axis), lambda a: np.cumsum(a, axis=axis), [x], h=QUADRATIC_H)
    check(data, F.cumsum, np.cumsum, [x], h=QUADRATIC_H)   # axis None: the flattened x, as NumPy


def test_prod_grad_at_one_zero_is_the_product_of_the_others_and_at_two_zeros_zero():
    x = leaf([[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 6.0]])
    y = x.prod(axis=1)
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0])
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 24.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


def test_prod_grad_over_several_axes_and_keepdims():
    x = leaf(np.array([[[1.0, 2.0], [0.0, 3.0]], [[2.0, 2.0], [2.0, 2.0]]]))
    x.prod(axis=(0, 2), keepdims=True).backward(np.array([[[10.0], [100.0]]]))
    others = np.array([[[2 * 2 * 2, 1 * 2 * 2], [3 * 2 * 2, 0.0]], [[1 * 2 * 2, 1 * 2 * 2], [0.0, 0.0]]])
    np.testing.assert_array_equal(x.grad.numpy(), others * np.array([10.0, 100.0]).reshape(1, 2, 1))


def test_prod_second_derivatives_at_zeros_are_exact():
    # d2/dxi dxj prod(x) = product of the entries other than i and j (0 on the diagonal)
    values = np.array([0.0, 0.0, 2.0, 3.0])
    x = leaf(values)
    (g,) = tk.grad(x.prod(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 0.0, 0.0])
    hessian = np.stack([tk.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(4)])
    expected = np.array([[np.prod(np.delete(values, [i, j])) if i != j else 0.0 for j in range(4)]
                         for i in range(4)])
    np.testing.assert_array_equal(hessian, expected)


@pytest.mark.parametrize("fn", [lambda t: t.prod(axis=1), lambda t: t.prod(), lambda t: t.prod(axis=(0, 1))])
def test_prod_gradgradcheck(fn):
    assert tk.gradgradcheck(fn, leaf(np.random.default_rng(3).uniform(-2, 2, size=(2, 3))))


def test_std_grad_where_all_entries_are_equal_is_zero_as_pytorch():
    x = leaf([[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])
    y = x.std(axis=1, ddof=1)
    y.backward(np.ones(2))
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_array_equal(x.grad.numpy()[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy()[1], [-0.5, 0.0, 0.5], rtol=1e-15)


@pytest.mark.parametrize("fn", [
    lambda t: t.var(axis=0), lambda t: t.var(ddof=1), lambda t: t.std(axis=1, keepdims=True),
    lambda t: t.cumsum(axis=1) * t, lambda t: F.logsumexp(t * t, axis=0),
])
def test_reductions_gradgradcheck(fn):
    assert tk.gradgradcheck(fn, leaf(np.random.default_rng(4).normal(size=(3, 4))))


def test_var_and_std_default_to_ddof_0_as_numpy_and_the_book():
    a = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 11.0]])
    np.testing.assert_allclose(tk.Tensor(a).var().item(), np.var(a), rtol=1e-15)
    np.testing.assert_allclose(tk.Tensor(a).std(axis=1).numpy(), np.std(a, axis=1), rtol=1e-15)
    np.testing.assert_allclose(F.var(a, axis=0, ddof=1).numpy(), np.var(a, axis=0, ddof=1), rtol=1e-15)


@given(x=arrays(min_dims=1, max_dims=3))
@settings(max_examples=20, deadline=None)
def test_argmin_is_numpys_and_carries_no_gradient(x):
    t = leaf(x)
    for axis in [None] + list(range(-x.ndim, x.ndim)):
        result = t.argmin(axis)
        assert isinstance(result, (np.ndarray, np.integer))
        np.testing.assert_array_equal(result, np.argmin(x, axis=axis))
        np.testing.assert_array_equal(F.argmin(x, axis=axis), np.argmin(x, axis=axis))


def test_min_method_and_functional_min_agree_with_numpy():
    a = np.array([[3.0, 1.0], [0.5, 2.0]])
    assert tk.Tensor(a).min().item() == 0.5
    np.testing.assert_array_equal(F.min(a, axis=0).numpy(), [0.5, 1.0])
    np.testing.assert_array_equal(F.min(a, axis=1, keepdims=True).numpy(), [[1.0], [0.5]])


# --- shape ops ---


@SOME
@given(data=st.data(), x=arrays(max_dims=4, max_side=2))
def test_squeeze_grads_match_central_differences(data, x):
    ones = [i for i, n in enumerate(x.shape) if n == 1]
    axis = data.draw(st.one_of(st.none(), st.sampled_from(ones), st.sampled_from(ones).map(lambda a: (a - x.ndim,)))
                     if ones else st.none(), label="axis")
    check(data, lambda t: t.squeeze(axis), lambda a: np.squeeze(a, axis=axis), [x])
    check(data, lambda t: F.squeeze(t, axis), lambda a: np.squeeze(a, axis=axis), [x])


@SOME
@given(data=st.data(), x=arrays(max_dims=3))
def test_unsqueeze_and_expand_dims_grads_match_central_differences(data, x):
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim), label="axis")
    for fn in (lambda t: t.unsqueeze(axis), lambda t: t.expand_dims(axis), lambda t: F.unsqueeze(t, axis),
               lambda t: F.expand_dims(t, axis)):
        check(data, fn, lambda a: np.expand_dims(a, axis), [x])
    check(data, lambda t: t.expand_dims((0, -1)), lambda a: np.expand_dims(a, (0, -1)), [x])


@SOME
@given(data=st.data(), x=arrays())
def test_flatten_grads_match_central_differences(data, x):
    if x.ndim == 0:
        check(data, tk.Tensor.flatten, lambda a: a.reshape(1), [x])
        return
    start = data.draw(st.integers(0, x.ndim - 1), label="start")
    end = data.draw(st.integers(start, x.ndim - 1), label="end")
    merged = x.shape[:start] + (-1,) + x.shape[end + 1:]
    check(data, lambda t: t.flatten(start, end - x.ndim), lambda a: a.reshape(merged), [x])
    check(data, tk.Tensor.flatten, lambda a: a.reshape(-1), [x])


@SOME
@given(data=st.data(), shapes_=broadcastable_shapes(max_dims=3))
def test_broadcast_to_and_sum_to_grads_match_central_differences(data, shapes_):
    (small, _), big = shapes_
    x = data.draw(arrays(small), label="x")
    check(data, lambda t: t.broadcast_to(big), lambda a: np.broadcast_to(a, big), [x])
    check(data, lambda t: F.broadcast_to(t, big), lambda a: np.broadcast_to(a, big), [x])

    def np_sum_to(a):   # sum the added leading axes, then the stretched ones
        lead = a.ndim - len(small)
        a = a.sum(axis=tuple(range(lead)))
        return a.sum(axis=tuple(i for i, n in enumerate(small) if n == 1), keepdims=True)

    y = data.draw(arrays(big), label="y")
    check(data, lambda t: t.sum_to(small), np_sum_to, [y], h=QUADRATIC_H)
    check(data, lambda t: F.sum_to(t, small), np_sum_to, [y], h=QUADRATIC_H)


@SOME
@given(data=st.data(), x=arrays(min_dims=1, max_dims=4))
def test_swapaxes_and_permute_grads_match_central_differences(data, x):
    a, b = (data.draw(st.integers(-x.ndim, x.ndim - 1), label=name) for name in ("axis0", "axis1"))
    check(data, lambda t: t.swapaxes(a, b), lambda v: np.swapaxes(v, a, b), [x])
    check(data, lambda t: F.swapaxes(t, a, b), lambda v: np.swapaxes(v, a, b), [x])
    order = tuple(data.draw(st.permutations(range(x.ndim)), label="order"))
    check(data, lambda t: t.permute(*order), lambda v: v.transpose(order), [x])
    check(data, lambda t: F.permute(t, order), lambda v: v.transpose(order), [x])


@SOME
@given(data=st.data(), x=arrays(max_dims=3, max_side=3))
def test_repeat_and_tile_grads_match_central_differences(data, x):
    sizes = tuple(data.draw(st.lists(st.integers(0, 3), min_size=x.ndim, max_size=x.ndim + 2), label="sizes"))
    check(data, lambda t: t.repeat(*sizes), lambda a: np.tile(a, sizes), [x], h=QUADRATIC_H)
    check(data, lambda t: F.repeat(t, sizes), lambda a: np.tile(a, sizes), [x], h=QUADRATIC_H)
    reps = data.draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), max_size=4).map(tuple)), label="reps")
    check(data, lambda t: t.tile(reps), lambda a: np.tile(a, reps), [x], h=QUADRATIC_H)
    check(data, lambda t: F.tile(t, reps), lambda a: np.tile(a, reps), [x], h=QUADRATIC_H)


@st.composite
def joinable(draw, new_axis):
    """2 or 3 arrays that np.concatenate (new_axis=False) or np.stack (True) can join, and an axis."""
    base = draw(shapes(min_dims=0 if new_axis else 1, max_dims=3))
    n = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(base) - new_axis, len(base) - 1 + new_axis))
    pieces = []
    for _ in range(n):
        shape = list(base)
        if not new_axis:
            shape[axis] = draw(st.integers(0, 3))
        pieces.append(draw(arrays(tuple(shape))))
    return pieces, axis


@SOME
@given(data=st.data(), joined=joinable(new_axis=False), mixed=st.booleans())
def test_concatenate_grads_match_central_differences(data, joined, mixed):
    pieces, axis = joined
    mixed = mixed and len(pieces) > 1
    keep = [i for i in range(len(pieces)) if not (mixed and i == 0)]   # mixed: the first is an ndarray
    check(data, lambda *ts: tk.concatenate(list(ts), axis=axis), lambda *a: np.concatenate(a, axis=axis),
          pieces, wrt=keep)
    check(data, lambda *ts: F.concatenate(ts, axis=None), lambda *a: np.concatenate(a, axis=None), pieces)


@SOME
@given(data=st.data(), joined=joinable(new_axis=True))
def test_stack_grads_match_central_differences(data, joined):
    pieces, axis = joined
    check(data, lambda *ts: tk.stack(list(ts), axis=axis), lambda *a: np.stack(a, axis=axis), pieces)


@SOME
@given(data=st.data(), x=arrays(min_dims=1, max_dims=3, min_side=0, max_side=5))
def test_split_pieces_and_their_grads_match_slices(data, x):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    n = x.shape[axis]
    if data.draw(st.booleans(), label="by size") or n == 0:
        size = data.draw(st.integers(1, 4), label="size")
        bounds = list(range(0, n, size)) + [n]
    else:
        cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
        bounds = [0] + cuts + [n]
        size = [b - a for a, b in zip(bounds, bounds[1:])]
    t = leaf(x)
    pieces = tk.split(t, size, axis=axis)
    expected = [np.take(x, range(a, b), axis=axis) for a, b in zip(bounds, bounds[1:])] or [x]
    assert len(pieces) == len(expected)
    ws = [data.draw(arrays(e.shape), label="w") for e in expected]
    total = None
    for piece, e, w in zip(pieces, expected, ws):
        np.testing.assert_array_equal(piece.numpy(), e)
        term = (piece * w).sum()
        total = term if total is None else total + term
    total.backward()
    expected_grad = np.concatenate(ws, axis=axis) if ws else np.zeros_like(x)
    assert_grad(t, expected_grad, rtol=0, atol=0)
    assert [p.shape for p in F.split(x, size, axis)] == [e.shape for e in expected]


@pytest.mark.parametrize("method", ["copy", "clone"])
@settings(max_examples=10, deadline=None)
@given(data=st.data(), x=arrays())
def test_copy_and_clone_are_new_memory_with_identity_gradient(data, x, method):
    t = leaf(x)
    out = getattr(t, method)()
    assert not np.shares_memory(out.numpy(), t.numpy()) or x.size == 0
    np.testing.assert_array_equal(getattr(F, method)(x).numpy(), x)
    w = backward_random(data, out)
    assert_grad(t, w, rtol=0, atol=0)


# --- errors name the op, the shapes and what to do ---


@pytest.mark.parametrize("call, error, message", [
    (lambda: tk.Tensor(np.ones((2, 3))).squeeze(0), ValueError, r"squeeze: axis 0 of shape \(2, 3\) has size 2"),
    (lambda: tk.Tensor(np.ones((2, 3))).unsqueeze(4), ValueError, "unsqueeze: axis 4 is out of range"),
    (lambda: tk.Tensor(np.ones((2, 3, 4))).flatten(2, 1), ValueError, "flatten: start_dim 2 comes after end_dim 1"),
    (lambda: tk.Tensor(np.ones((2, 3))).sum_to((3, 3)), ValueError, r"sum_to: cannot sum shape \(2, 3\) down to"),
    (lambda: tk.Tensor(np.ones((2, 3))).repeat(2), ValueError, "repeat: got 1 sizes .* use tile"),
    (lambda: tk.Tensor(np.ones(3)).tile(-1), ValueError, "tile: repeats must be non-negative"),
    (lambda: tk.Tensor(np.ones(3)).broadcast_to(2), ValueError, "broadcast_to: .*"),
    (lambda: tk.split(np.ones(7), [2, 3]), ValueError, r"split: sizes \[2, 3\] must .* add up to 7"),
    (lambda: tk.split(np.ones(7), 0), ValueError, "split: the piece size must be positive"),
    (lambda: tk.stack([np.ones(2), np.ones(3)]), ValueError, r"stack: all tensors must have the same shape"),
    (lambda: tk.stack([]), ValueError, "stack: needs at least one tensor"),
    (lambda: tk.concatenate([np.ones((2, 2)), np.ones((3, 3))]), ValueError, "concatenate: "),
    (lambda: tk.Tensor(np.ones(3)).swapaxes(0, 1.5), TypeError, "swapaxes: axis must be an int"),
    (lambda: tk.Tensor(np.ones(3)).cumsum(axis=(0,)), ValueError, "cumsum: needs one axis"),
    (lambda: tk.Tensor(np.ones(3)).var(axis=1), ValueError, "var: axis 1 is out of range"),
    (lambda: tk.Tensor(np.ones(3)).prod(axis=(0, 0)), ValueError, "prod: axis .* repeats an axis"),
])
def test_errors_name_the_op_and_say_what_to_do(call, error, message):
    with pytest.raises(error, match=message):
        call()

