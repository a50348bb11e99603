"""Movement: shape changes, broadcasting, copies and indexing (no arithmetic)."""

import numpy as np

from ..autograd import Function


def sum_to_shape(x, shape):
    """Sum the ndarray ``x`` over the axes that broadcasting added or stretched, down to ``shape``."""
    lead = x.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


class SumTo(Function):
    """y = x summed down to ``shape`` (undoes broadcasting).  Backward broadcasts gy back.

    Saves x's shape.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return sum_to_shape(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return BroadcastTo.apply(gy, shape=ctx.in_shape)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (a read-only view).  Backward: the engine sums gy back to x's shape."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return gy


class Reshape(Function):
    """y = x.reshape(shape).  Backward reshapes gy to x's shape.  Saves x's shape."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(ctx.in_shape)


class Transpose(Function):
    """y = x.transpose(axes) (None reverses the axes).  Backward applies the inverse permutation."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, axes):
        y = np.transpose(x, axes)  # NumPy checks the permutation
        ctx.axes = None if axes is None else tuple(int(a) % x.ndim for a in axes)
        return y

    @staticmethod
    def backward(ctx, gy):
        if ctx.axes is None:
            return gy.transpose()
        return gy.transpose(tuple(np.argsort(ctx.axes)))


class Copy(Function):
    """y = a copy of x as ``dtype`` (clone and astype).  Backward: the engine casts gy back to x's dtype."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy


def _is_basic(index):
    """True when ``x[index]`` cannot name an element twice (slices, ints, None, ..., boolean masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype != bool:
            return False
        if isinstance(part, (list, tuple)):
            return False
    return True


class GetItem(Function):
    """y = x[index] (basic slicing, boolean masks, integer-array indexing).

    Backward scatters gy into zeros of x's shape; where integer arrays repeat
    an index, the gradients add up (``np.add.at``). Saves the index and x's shape.
    """

    op_name = "getitem"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        ctx.in_shape = x.shape
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, gy):
        return ScatterAdd.apply(gy, index=ctx.index, shape=ctx.in_shape)


class ScatterAdd(Function):
    """y = zeros(shape) with x added at ``index`` (the gradient of GetItem).  Backward: gy[index]."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, index, shape):
        ctx.index = index
        y = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            y[index] = x
        else:
            np.add.at(y, index, x)
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.index]
