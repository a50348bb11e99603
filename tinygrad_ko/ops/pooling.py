"""Max and average pooling (the book's chapter 7) as ops, with their gradients as ops.

The windows are walked one kernel offset at a time (``window_slices``): each
offset sees one strided (N, C, OH, OW) slab of the padded input, so a pool of
PH x PW is PH*PW vectorised passes, and no window is ever copied out. Outputs
and gradients keep the input's memory order (see ops/conv.py), and the passes
run on views whose axes follow that order (``in_memory_order``): NumPy then
walks memory forwards, about twice as fast as through the (N, C, H, W) view of
a channel-major array.
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


def in_memory_order(a, order):
    """``a`` with its axes permuted to ``order`` (outermost in memory first): a C-ordered view when dense."""
    return a.transpose(order)


def memory_slices(g, order):
    """(k, index) per kernel offset, as ``window_slices``, for an array viewed ``in_memory_order``."""
    h_at, w_at = order.index(2), order.index(3)
    for k, (_, rows, cols) in window_slices(g):
        index = [slice(None)] * 4
        index[h_at], index[w_at] = rows, cols
        yield k, tuple(index)


def _separable_max(xv, g, order):
    """The maximum of each window of xv (a padded input viewed in memory order): first over the
    window's rows, on whole rows of pixels (long runs in memory), then over its columns.

    The same maxima as a pass per kernel offset, NaN included, in kh + kw - 2 passes instead of
    kh*kw - 1, the first kh - 1 of them on contiguous memory. No argmax: for unrecorded calls.
    """
    (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out
    h_at, w_at = order.index(2), order.index(3)
    index = [slice(None)] * 4
    index[w_at] = slice(0, sw * (ow - 1) + kw)  # the columns some window uses
    row_slabs = []
    for p in range(kh):
        index[h_at] = slice(p, p + sh * (oh - 1) + 1, sh)
        row_slabs.append(xv[tuple(index)])
    rows = _running_max(row_slabs)
    index[h_at] = slice(None)
    column_slabs = []
    for q in range(kw):
        index[w_at] = slice(q, q + sw * (ow - 1) + 1, sw)
        column_slabs.append(rows[tuple(index)])
    y = _running_max(column_slabs)
    return y if y.base is None else y.copy()  # a pool one pixel wide would hand back a view


def _running_max(slabs):
    """The elementwise maximum of the slabs, in a new array (the slab itself when there is one)."""
    if len(slabs) == 1:
        return slabs[0]
    y = np.maximum(slabs[0], slabs[1])
    for slab in slabs[2:]:
        np.maximum(y, slab, out=y)
    return y


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
    p*FW + q as a small unsigned integer array of y's shape) and the geometry;
    an unrecorded call (no_grad, inference) computes only the maxima, rows first.
    """

    op_name = "max_pool2d"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, kernel, stride=None, pad=0):
        g = pool_geometry("max_pool2d", x.shape, kernel, stride, pad)
        order = memory_order(x)
        low = _lowest(x.dtype)
        xp = padded(x, g.pad, low)
        xv = in_memory_order(xp, order)
        if not ctx.needs_input_grad:  # nothing will go backward: no argmax
            return in_memory_order(_separable_max(xv, g, order), np.argsort(order))
        shape = x.shape[:2] + g.out
        y = empty_in_order(shape, x.dtype, order)
        argmax = empty_in_order(shape, np.min_scalar_type(g.kernel[0] * g.kernel[1] - 1), order)
        _max_and_argmax([xv[index] for _, index in memory_slices(g, order)],
                        in_memory_order(y, order), in_memory_order(argmax, order))
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


def _max_and_argmax(slabs, y, argmax):
    """Fill y with the elementwise maximum of the slabs and argmax with the index of the first one
    that holds it (a NaN wins in y; the caller fixes argmax for NaNs). All arrays of one shape."""
    if len(slabs) == 1:
        y[...] = slabs[0]
        argmax.fill(0)
        return
    better = np.empty(y.shape, bool)
    np.greater(slabs[1], slabs[0], out=better)  # strict: at ties the first maximum keeps the gradient
    np.maximum(slabs[0], slabs[1], out=y)  # a NaN wins, as in np.max and PyTorch
    np.copyto(argmax, better)
    small = better.view(np.uint8) if argmax.dtype == np.uint8 else None
    for k in range(2, len(slabs)):
        np.greater(slabs[k], y, out=better)
        np.maximum(y, slabs[k], out=y)
        if small is not None:
            # The offsets come in increasing order, so argmax = max(argmax, k * better) sets k
            # exactly where better: two byte-wide passes instead of a masked copy.
            small *= k
            np.maximum(argmax, small, out=argmax)
        else:
            np.copyto(argmax, np.asarray(k, argmax.dtype), where=better)


def _select(condition, values, out):
    """out[...] = np.where(condition, values, 0) for float arrays: values where condition, else +0.0.

    For float32/float64 it is done on the bits, values AND (all ones or all zeros): the same
    result as np.where (inf and NaN kept where selected, +0.0 elsewhere, never -0.0 or NaN from
    inf * 0) in about a third of np.where's time for float32.
    """
    kind = values.dtype
    if kind.kind != "f" or kind.itemsize not in (2, 4, 8):
        out[...] = np.where(condition, values, 0)
        return
    bits = np.dtype(f"u{kind.itemsize}")
    mask = np.subtract(0, condition, dtype=bits)  # True -> all ones, False -> 0
    np.bitwise_and(values.view(bits), mask, out=out.view(bits))


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
        gxv = in_memory_order(gxp, order)
        gyv = np.ascontiguousarray(in_memory_order(gy, order))  # one copy if gy came in another order
        argv = in_memory_order(argmax, order)
        (kh, kw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out
        if sh < kh or sw < kw:  # overlapping windows: a pixel may be the argmax of several
            gxp.fill(0)
            for k, index in memory_slices(g, order):
                gxv[index] += np.where(argv == k, gyv, 0)
            return unpad(gxp, g)
        if gxp.shape[2:] != (oh * kh, ow * kw) or (sh, sw) != (kh, kw):
            gxp.fill(0)  # some pixels lie in no window
        # Each pixel lies in at most one window: one plain write per kernel offset, gy where the
        # argmax is that offset and +0.0 elsewhere (gy * mask would give NaN for inf * 0 and -0.0
        # for a negative gy).
        chosen = np.empty(argv.shape, bool)
        for k, index in memory_slices(g, order):
            np.equal(argv, k, out=chosen)
            _select(chosen, gyv, gxv[index])
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
