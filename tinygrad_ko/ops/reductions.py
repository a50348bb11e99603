"""Reductions: sum, mean, max and min over axes."""

import numbers

import numpy as np

from ..autograd import Function
from .movement import BroadcastTo


def normalize_axes(axis, ndim, op):
    """``axis`` (None, an int or a tuple; negatives count from the end) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)  # the common case, kept fast
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimensions")
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
        ctx.axes = normalize_axes(axis, x.ndim, "sum")
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
    axes = normalize_axes(axis, x.ndim, "mean")
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
    axes = normalize_axes(axis, len(shape), op)
    if any(shape[a] == 0 for a in axes):
        raise ValueError(f"{op}: cannot take the {what} over an empty axis (shape {shape}, axis {axis})")
    return axes


def minimum(x, axis=None, keepdims=False):
    """x.min(axis, keepdims) as -max(-x): the same tie rule and gradient, errors named min."""
    axes = _nonempty_axes(x.shape, axis, "min", "minimum")
    return -Max.apply(-x, axis=axes, keepdims=keepdims)
