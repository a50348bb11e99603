"""Reductions: sum, mean, max, min, var, std, prod and logsumexp over axes, and cumsum along one."""

import numpy as np

from .._checks import axis_range_error, axis_type_error, is_int
from ..autograd import Function
from .elementwise import Exp, as_float
from .movement import BroadcastTo, Transpose
from .selection import Where, one_like, zero_like


def normalize_axes(axis, ndim, op, shape=None):
    """``axis`` (None, an int or a tuple; negatives count from the end) as a sorted tuple.

    Anything else (a string, a float, a bool) is a TypeError naming the op, the
    axis given and ``shape`` (the tensor's, for the message); an int out of
    range a ValueError.
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)  # the common case, kept fast
    if is_int(axis):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)) and all(is_int(a) for a in axis):
        axes = tuple(axis)
    else:
        raise axis_type_error(op, axis, shape, ndim=ndim)
    result = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise axis_range_error(op, a, ndim, shape)
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return tuple(sorted(result))


def _kept_shape(shape, axes):
    """``shape`` with each reduced axis kept as 1 (the shape keepdims=True gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    """y = x.sum(axis, keepdims).  dy/dx = 1: gy is broadcast back to x's shape.

    Saves x's shape and the reduced axes.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.axes = normalize_axes(axis, x.ndim, "sum", x.shape)
        ctx.in_shape = x.shape
        ctx.keepdims = keepdims
        return np.asarray(x.sum(axis=ctx.axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, gy):
        if not ctx.keepdims:
            gy = gy.reshape(_kept_shape(ctx.in_shape, ctx.axes))
        return BroadcastTo.apply(gy, shape=ctx.in_shape)


def mean(x, axis=None, keepdims=False):
    """x.sum(axis, keepdims) / (number of summed elements), as ``np.mean``."""
    axes = normalize_axes(axis, x.ndim, "mean", x.shape)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return x.sum(axis=axes, keepdims=keepdims) / count


class Max(Function):
    """y = x.max(axis, keepdims).  dy/dx = 1 at the maximum, 0 elsewhere.

    At ties the gradient is split evenly between the tied entries (their mean
    is a valid subgradient, the choice of PyTorch's ``amax``); a NaN is the
    maximum of its slice and takes the gradient. Saves those weights (x's shape).
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = _nonempty_axes(x.shape, axis, "max", "maximum")
        y = x.max(axis=axes, keepdims=True)
        is_max = (x == y) | (np.isnan(x) & np.isnan(y))
        ctx.weights = (is_max / is_max.sum(axis=axes, keepdims=True)).astype(x.dtype, copy=False)
        ctx.kept_shape = y.shape
        ctx.keepdims = keepdims
        return y if keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    @staticmethod
    def backward(ctx, gy):
        if not ctx.keepdims:
            gy = gy.reshape(ctx.kept_shape)
        return gy * ctx.weights


def _nonempty_axes(shape, axis, op, what):
    """normalize_axes, and a clear error when one of them is empty (a max of nothing is undefined)."""
    axes = normalize_axes(axis, len(shape), op, shape)
    if any(shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot take the {what} over an empty axis (shape {shape}, axis {axis})")
    return axes


def reduce_min(x, axis=None, keepdims=False):
    """x.min(axis, keepdims) as -max(-x): the same tie rule and gradient, errors named min.

    (The elementwise minimum of two tensors is the op ``Minimum``.)
    """
    axes = _nonempty_axes(x.shape, axis, "min", "minimum")
    return -Max.apply(-x, axis=axes, keepdims=keepdims)


def _count(shape, axes):
    """How many elements a reduction over ``axes`` combines."""
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def _kept(gy, ctx):
    """gy with the reduced axes put back as size 1, so that it broadcasts against the input."""
    return gy if ctx.keepdims else gy.reshape(_kept_shape(ctx.in_shape, ctx.axes))


def _start_reduction(ctx, x, axis, keepdims, op):
    ctx.axes = normalize_axes(axis, x.ndim, op, x.shape)
    ctx.in_shape = x.shape
    ctx.keepdims = keepdims
    return ctx.axes


class Var(Function):
    """y = sum((x - mean)**2) / (n - ddof) over ``axis``, as ``np.var`` (ddof=0: the book's and NumPy's).

    dy/dx = 2 (x - mean) / (n - ddof).  Uses the input.
    """

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x, axis, keepdims, ddof):
        axes = _start_reduction(ctx, x, axis, keepdims, "var")
        ctx.divisor = _count(x.shape, axes) - ddof
        return np.asarray(np.var(as_float(x), axis=axes, keepdims=keepdims, ddof=ddof))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        centered = x - mean(x, ctx.axes, keepdims=True)
        scale = 2.0 / ctx.divisor if ctx.divisor else np.inf
        return centered * (_kept(gy, ctx) * scale)


class Std(Function):
    """y = sqrt(var(x, axis, ddof)), as ``np.std``.

    dy/dx = (x - mean) / ((n - ddof) y), and 0 where y == 0 (all entries equal),
    as PyTorch, rather than 0 / 0.  Uses the input and the output.
    """

    uses_output = True

    @staticmethod
    def forward(ctx, x, axis, keepdims, ddof):
        axes = _start_reduction(ctx, x, axis, keepdims, "std")
        ctx.divisor = _count(x.shape, axes) - ddof
        return np.asarray(np.std(as_float(x), axis=axes, keepdims=keepdims, ddof=ddof))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        y = _kept(ctx.output, ctx)
        flat = y.data == 0
        safe_y = Where.apply(one_like(y), y, cond=flat) if flat.any() else y
        divisor = ctx.divisor if ctx.divisor else np.inf
        gx = (x - mean(x, ctx.axes, keepdims=True)) * (_kept(gy, ctx) / (safe_y * divisor))
        return Where.apply(zero_like(gx), gx, cond=flat) if flat.any() else gx


class Prod(Function):
    """y = product of x over ``axis``, as ``np.prod``.

    dy/dx_i = product of the other entries of x_i's slice, computed without
    dividing by x_i (``ProdOthers``): at a single zero the gradient there is the
    product of the others, at two zeros every gradient of the slice is 0.
    Uses the input.
    """

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = _start_reduction(ctx, x, axis, keepdims, "prod")
        return np.asarray(np.prod(x, axis=axes, keepdims=keepdims))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        return _kept(gy, ctx) * _products_of_others(x, ctx.axes)


def _products_of_others(x, axes):
    """For each entry of x, the product of the other entries of its slice over ``axes`` (a Tensor)."""
    last = x.ndim - 1
    if axes == (last,):
        return ProdOthers.apply(x)
    rest = [i for i in range(x.ndim) if i not in axes]
    order = tuple(rest + list(axes))  # the reduced axes last, then flattened into one
    moved = Transpose.apply(x, axes=order) if order != tuple(range(x.ndim)) else x
    lead = moved.shape[:len(rest)]
    others = ProdOthers.apply(moved.reshape(lead + (_count(x.shape, axes),))).reshape(moved.shape)
    if moved is x:
        return others
    return Transpose.apply(others, axes=tuple(int(i) for i in np.argsort(order)))


class ProdOthers(Function):
    """y_i = product of x_j for j != i along the last axis (the gradient of a product).

    Forward multiplies the running products from the left and from the right,
    so no x_i is divided out and zeros are exact. Backward, needed only for
    second derivatives: dy_i/dx_k = product of x_j for j != i, k (k != i), the
    same op on n copies of x, each with one entry set to 1.  Uses the input.
    """

    op_name = "prod"
    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        left = np.ones_like(x)
        right = np.ones_like(x)
        np.cumprod(x[..., :-1], axis=-1, out=left[..., 1:])
        right[..., :-1] = np.cumprod(x[..., :0:-1], axis=-1)[..., ::-1]
        left *= right
        return left

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        n = x.shape[-1]
        diagonal = np.eye(n, dtype=bool)
        rows = Where.apply(one_like(x), x.reshape(x.shape[:-1] + (1, n)), cond=diagonal)  # row i: x_i -> 1
        pairs = ProdOthers.apply(rows)  # pairs[..., i, k] = product of x_j for j != i, k (when k != i)
        terms = gy.reshape(gy.shape[:-1] + (n, 1)) * pairs
        return Where.apply(zero_like(terms), terms, cond=diagonal).sum(axis=-2)


class LogSumExp(Function):
    """y = log(sum(exp(x))) over ``axis``, with the maximum m subtracted first: m + log(sum(exp(x - m))).

    No overflow (x of 1e4 is fine); a slice of -inf gives -inf.
    dy/dx = exp(x - y), the softmax.  Uses the input and the output.
    """

    op_name = "logsumexp"
    uses_inputs = (0,)
    uses_output = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        x = as_float(x)
        axes = _start_reduction(ctx, x, axis, keepdims, "logsumexp")
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)  # inf - inf would be NaN
        with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for a slice of -inf
            y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        return y if keepdims else y.reshape([n for i, n in enumerate(x.shape) if i not in axes])

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        return _kept(gy, ctx) * Exp.apply(x - _kept(ctx.output, ctx))


class Cumsum(Function):
    """y_i = x_0 + ... + x_i along one axis, as ``np.cumsum``.

    dx_i = gy_i + ... + gy_last: the cumulative sum of gy taken from the end.  Saves the axis.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, axis):
        if not isinstance(axis, (tuple, list)) and not is_int(axis):
            raise axis_type_error("cumsum", axis, x.shape, tuples=False)
        if x.ndim == 0 or not is_int(axis):
            raise ValueError(f"cumsum: needs one axis of a tensor with at least one dimension, "
                             f"got axis {axis!r} for shape {x.shape}")
        ctx.axis = normalize_axes(axis, x.ndim, "cumsum", x.shape)[0]
        return np.cumsum(x, axis=ctx.axis)

    @staticmethod
    def backward(ctx, gy):
        flip = (slice(None),) * ctx.axis + (slice(None, None, -1),)
        return Cumsum.apply(gy[flip], axis=ctx.axis)[flip]
