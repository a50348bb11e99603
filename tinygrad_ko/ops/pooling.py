"""Max and average pooling (the book's chapter 7) as ops, with their gradients as ops.

The windows are walked one kernel offset at a time (``window_slices``): each
offset sees one strided (N, C, OH, OW) slab of the padded input, so a pool of
PH x PW is PH*PW vectorised passes, and no window is ever copied out. Outputs
and gradients keep the input's memory order (see ops/conv.py).
"""

import numpy as np

from ..autograd import Function
from .conv import empty_in_order, geometry, memory_order, padded, padded_shape, unpad, window_slices


def pool_geometry(op, x_shape, kernel, stride, pad):
    """Check a pooling op's sizes (stride defaults to the pool size); returns the Geometry."""
    g = geometry(op, x_shape, kernel, kernel if stride is None else stride, pad, kernel_name="pool size")
    if g.pad[0] > g.kernel[0] // 2 or g.pad[1] > g.kernel[1] // 2:
        raise ValueError(f"{op}: pad {g.pad} must be at most half the pool size {g.kernel}, as in PyTorch, "
                         f"so that every window holds at least one pixel of x")
    return g


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _first_real_offset(g):
    """(OH, OW): the first kernel offset k of each window that lies on x, not on the padding."""
    fw, (sh, sw), (ph, pw), (oh, ow) = g.kernel[1], g.stride, g.pad, g.out
    p = np.maximum(0, ph - sh * np.arange(oh))
    q = np.maximum(0, pw - sw * np.arange(ow))
    return p[:, None] * fw + q[None, :]


class MaxPool2d(Function):
    """y[n, c, i, j] = max over the window (p, q) of x_pad[n, c, i*sh + p, j*sw + q].

    The padding is -inf, so it never wins. Ties: the first maximum in the
    window (row-major) gets the gradient, as the book's Pooling layer with
    argmax; a NaN is the maximum, as in PyTorch. gx = MaxPool2dScatter(gy):
    gy sent to the argmax of each window. Saves the argmax (the offset k =
    p*FW + q as a small unsigned integer array of y's shape) and the geometry.
    """

    op_name = "max_pool2d"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, kernel, stride=None, pad=0):
        g = pool_geometry("max_pool2d", x.shape, kernel, stride, pad)
        order = memory_order(x)
        low = _lowest(x.dtype)
        xp = padded(x, g.pad, low)
        shape = x.shape[:2] + g.out
        y = empty_in_order(shape, x.dtype, order)
        argmax = empty_in_order(shape, np.min_scalar_type(g.kernel[0] * g.kernel[1] - 1), order)
        better = empty_in_order(shape, bool, order)
        for k, index in window_slices(g):
            s = xp[index]
            if k == 0:
                y[...] = s
                argmax.fill(0)
                continue
            np.greater(s, y, out=better)  # strict: at ties the first maximum keeps the gradient
            np.maximum(y, s, out=y)  # a NaN wins, as in np.max and PyTorch
            np.copyto(argmax, np.asarray(k, argmax.dtype), where=better)
        if x.dtype.kind == "f" and np.isnan(y).any():  # as PyTorch: the window's last NaN gets the gradient
            for k, index in window_slices(g):
                np.copyto(argmax, np.asarray(k, argmax.dtype), where=np.isnan(xp[index]))
        if g.pad != (0, 0):  # a window whose pixels are all -inf: its first pixel on x, not the padding
            lowest = y == low
            if lowest.any():
                first = np.broadcast_to(_first_real_offset(g).astype(argmax.dtype), shape)
                np.copyto(argmax, first, where=lowest)
        ctx.argmax, ctx.geometry, ctx.order = argmax, g, order
        return y

    @staticmethod
    def backward(ctx, gy):
        return MaxPool2dScatter.apply(gy, argmax=ctx.argmax, geometry=ctx.geometry, order=ctx.order)


class MaxPool2dScatter(Function):
    """gx = zeros of x's shape with gy[n, c, i, j] added at the argmax of window (i, j).

    The gradient of max_pool2d; linear in gy, its backward is MaxPool2dGather
    (read ggx at the argmax). Saves the argmax and the geometry (shared with MaxPool2d).
    """

    op_name = "max_pool2d_scatter"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, gy, argmax, geometry, order):
        g = geometry
        ctx.argmax, ctx.geometry, ctx.order = argmax, g, order
        gxp = empty_in_order(padded_shape(g), gy.dtype, order)
        (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out
        if sh < kh or sw < kw:  # overlapping windows: a pixel may be the argmax of several
            gxp.fill(0)
            for k, index in window_slices(g):
                gxp[index] += np.where(argmax == k, gy, 0)
            return unpad(gxp, g)
        if gxp.shape[2:] != (oh * kh, ow * kw) or (sh, sw) != (kh, kw):
            gxp.fill(0)  # some pixels lie in no window
        # Each pixel lies in at most one window: one plain write per kernel offset. np.where, not
        # gy * mask, which would write NaN for inf * 0 and -0.0 for a negative gy times 0.
        for k, index in window_slices(g):
            gxp[index] = np.where(argmax == k, gy, 0)
        return unpad(gxp, g)

    @staticmethod
    def backward(ctx, ggx):
        return MaxPool2dGather.apply(ggx, argmax=ctx.argmax, geometry=ctx.geometry, order=ctx.order)


class MaxPool2dGather(Function):
    """y[n, c, i, j] = x_pad[n, c, at the argmax of window (i, j)]: the adjoint of MaxPool2dScatter.

    Its backward is MaxPool2dScatter. Saves the argmax and the geometry.
    """

    op_name = "max_pool2d_gather"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, argmax, geometry, order):
        g = geometry
        ctx.argmax, ctx.geometry, ctx.order = argmax, g, order
        xp = padded(x, g.pad, 0)
        y = empty_in_order(argmax.shape, x.dtype, order)
        for k, index in window_slices(g):
            np.copyto(y, xp[index], where=argmax == k)
        return y

    @staticmethod
    def backward(ctx, gy):
        return MaxPool2dScatter.apply(gy, argmax=ctx.argmax, geometry=ctx.geometry, order=ctx.order)


class AvgPool2d(Function):
    """y[n, c, i, j] = (sum over the window (p, q) of x_pad[n, c, i*sh + p, j*sw + q]) / (PH*PW).

    The padding is zeros and counts in the average (PyTorch's default
    count_include_pad=True). gx = AvgPool2dGrad(gy): gy / (PH*PW) added to
    every pixel of each window. Saves the geometry.
    """

    op_name = "avg_pool2d"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, kernel, stride=None, pad=0):
        g = pool_geometry("avg_pool2d", x.shape, kernel, stride, pad)
        order = memory_order(x)
        xp = padded(x, g.pad, 0)
        y = empty_in_order(x.shape[:2] + g.out, x.dtype if x.dtype.kind in "fc" else np.float64, order)
        for k, index in window_slices(g):
            if k == 0:
                y[...] = xp[index]
            else:
                y += xp[index]
        y /= g.kernel[0] * g.kernel[1]
        ctx.geometry, ctx.order = g, order
        return y

    @staticmethod
    def backward(ctx, gy):
        return AvgPool2dGrad.apply(gy, geometry=ctx.geometry, order=ctx.order)


class AvgPool2dGrad(Function):
    """gx = gy / (PH*PW) added to every pixel of each window: the gradient (adjoint) of avg_pool2d.

    Its backward is avg_pool2d itself. Saves the geometry.
    """

    op_name = "avg_pool2d_grad"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, gy, geometry, order):
        g = geometry
        ctx.geometry = g
        share = gy / (g.kernel[0] * g.kernel[1])
        gxp = empty_in_order(padded_shape(g), share.dtype, order)
        gxp.fill(0)
        for _, index in window_slices(g):
            gxp[index] += share
        return unpad(gxp, g)

    @staticmethod
    def backward(ctx, ggx):
        g = ctx.geometry
        return AvgPool2d.apply(ggx, kernel=g.kernel, stride=g.stride, pad=g.pad)
