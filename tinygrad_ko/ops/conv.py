"""Convolution (the book's chapter 7) as ops, the sliding-window helpers pooling shares, and padding.

Shapes follow the book and PyTorch: x (N, C, H, W), W (FN, C, FH, FW), and an
output of OH = (H + 2*pad - FH) // stride + 1 rows (floor), OW columns alike.

How the arrays are laid out, and why:

- A convolution is one matrix product. The columns of the windows are built
  from a strided view of the padded input (``windows``) in one copy, as
  ``cols`` of shape (C*FH*FW, N*OH*OW): the transpose of the book's im2col
  layout, because with OpenBLAS the product ``W (FN, C*FH*FW) @ cols`` took
  less time in float64 than the book's ``col @ W.T`` for the book's thin
  shapes (8.1 against 9.2 ms of CPU for SimpleConvNet's; float32 about even).
- The product is (FN, N*OH*OW), so the output is a (N, FN, OH, OW) view of an
  array stored channel by channel. Elementwise ops keep that memory order, and
  so do the pooling ops and all gradients here (``empty_in_order``), so the
  gradient that reaches the convolution's backward is already in the order
  its matrix product wants: no transposing copy (the book's backward makes one).
- The reverse of the columns (the book's col2im) adds one strided slab per
  kernel offset (``window_slices``): FH*FW vectorised additions, no ``np.add.at``.
  For stride 1 the input's gradient is computed as a plain convolution of the
  padded gradient instead (``_grad_input_as_conv``), which BLAS runs faster.
- Large columns are built a few images at a time (``conv_rows``,
  ``weight_grad_rows``), each chunk used by its matrix product while it is
  still in the cache.
- In float32 (inputs of two or more channels) all of this is done pixel by
  pixel instead (``pixel_conv`` and the section "float32: pixel by pixel"):
  arrays stored as (N, H, W, C), the book's (N*OH*OW, FH*FW*C) row layout
  for the columns and ``columns @ W^T``, which OpenBLAS's float32 kernels run
  faster; float64 was faster channel by channel. Either layout carries
  through ReLU and pooling to the next convolution and back.

Each gradient is an op too (``Conv2dGradInput``, ``Conv2dGradWeight``), whose
own backward is again one of these ops, so ``create_graph=True`` and
``gradgradcheck`` work. A plain backward (not recording) computes the same
formulas straight on the arrays.
"""

import numbers
from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .matmul import add_bias, dot2, ones, sum_rows
from .scratch import scratch_empty

# x_shape: (N, C, H, W); kernel, stride, pad and out (OH, OW): pairs of ints
Geometry = namedtuple("Geometry", "x_shape kernel stride pad out")


# --- arguments and sizes -------------------------------------------------------


def as_pair(value, name, op):
    """(a, b) from an int or a pair of ints; a TypeError naming the op otherwise."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)
                                 for v in pair):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def output_size(size, kernel, stride, pad):
    """(size + 2*pad - kernel) // stride + 1: the book's and PyTorch's output size (floor)."""
    return (size + 2 * pad - kernel) // stride + 1


def geometry(op, x_shape, kernel, stride, pad, kernel_name="kernel size"):
    """Check the sizes of a sliding-window op and compute its output size; returns a Geometry."""
    if len(x_shape) != 4:
        raise ValueError(f"{op}: x must be 4-D (N, C, H, W), got shape {tuple(x_shape)}; "
                         f"for a single image add a batch axis: x.reshape(1, *x.shape)")
    kernel, stride, pad = as_pair(kernel, kernel_name, op), as_pair(stride, "stride", op), as_pair(pad, "pad", op)
    if min(kernel) <= 0:
        raise ValueError(f"{op}: the {kernel_name} must be positive, got {kernel}")
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(pad) < 0:
        raise ValueError(f"{op}: pad must be >= 0, got {pad}")
    size = (x_shape[2] + 2 * pad[0], x_shape[3] + 2 * pad[1])
    if kernel[0] > size[0] or kernel[1] > size[1]:
        raise ValueError(
            f"{op}: the {kernel_name} {kernel[0]}x{kernel[1]} is larger than the padded input "
            f"{size[0]}x{size[1]} (x of shape {tuple(x_shape)}, pad {pad}); "
            f"use a smaller {kernel_name} or more padding")
    out = tuple(output_size(n, k, s, p) for n, k, s, p in zip(x_shape[2:], kernel, stride, pad))
    return Geometry(tuple(x_shape), kernel, stride, pad, out)


def conv_geometry(x_shape, W_shape, b_shape, stride, pad):
    """Check conv2d's x, W and b shapes; returns the Geometry."""
    if len(W_shape) != 4:
        raise ValueError(f"conv2d: W must be 4-D (FN, C, FH, FW), got shape {tuple(W_shape)}")
    if W_shape[0] == 0:  # as PyTorch: a convolution needs at least one filter
        raise ValueError(f"conv2d: W of shape {tuple(W_shape)} has no filters; FN (its first size) must be "
                         f"at least 1")
    g = geometry("conv2d", x_shape, W_shape[2:], stride, pad)
    if x_shape[1] != W_shape[1]:
        raise ValueError(
            f"conv2d: x has {x_shape[1]} channels (shape {tuple(x_shape)}) but W expects {W_shape[1]} "
            f"(shape {tuple(W_shape)}); W must have the shape (FN, C, FH, FW) with C = x.shape[1]")
    if b_shape is not None and tuple(b_shape) != (W_shape[0],):
        raise ValueError(f"conv2d: b must have the shape (FN,) = ({W_shape[0]},), one per filter of W "
                         f"{tuple(W_shape)}; got {tuple(b_shape)}")
    return g


# --- array helpers ---------------------------------------------------------------


def memory_order(a):
    """a's axes from the outermost in memory to the innermost."""
    return tuple(np.argsort([-s for s in a.strides], kind="stable"))


def empty_in_order(shape, dtype, order):
    """An uninitialised array of ``shape`` whose memory runs along the axes in ``order``."""
    stored = np.empty([shape[i] for i in order], dtype)
    return stored.transpose(np.argsort(order))


def padded_shape(g):
    (n, c, h, w), (ph, pw) = g.x_shape, g.pad
    return n, c, h + 2 * ph, w + 2 * pw


def padded(x, pad, value):
    """x with ``pad`` rows and columns of ``value`` around each image (x itself when pad is 0)."""
    ph, pw = pad
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    out = np.empty_like(x, shape=(n, c, h + 2 * ph, w + 2 * pw))  # keeps x's memory order
    out.fill(value)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def unpad(xp, g):
    (ph, pw), (h, w) = g.pad, g.x_shape[2:]
    return xp[:, :, ph:ph + h, pw:pw + w] if ph or pw else xp


def windows(xp, g):
    """A read-only view (N, C, FH, FW, OH, OW) of the padded input xp.

    [n, c, p, q, i, j] = xp[n, c, i*sh + p, j*sw + q]: no copy, only strides.
    """
    sn, sc, sy, sx = xp.strides
    (fh, fw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out
    return as_strided(xp, (xp.shape[0], xp.shape[1], fh, fw, oh, ow), (sn, sc, sy, sx, sy * sh, sx * sw),
                      writeable=False)


def window_slices(g):
    """(k, index) per kernel offset (p, q), k = p*FW + q in row-major order; ``xp[index]`` is the
    (N, C, OH, OW) slab of the padded input that offset sees in every window."""
    (fh, fw), (sh, sw), (oh, ow) = g.kernel, g.stride, g.out
    for p in range(fh):
        for q in range(fw):
            yield p * fw + q, (Ellipsis, slice(p, p + sh * (oh - 1) + 1, sh), slice(q, q + sw * (ow - 1) + 1, sw))


def columns(x, g, dtype=None, pooled=False):
    """The windows of x as columns (C*FH*FW, N*OH*OW): the transpose of the book's im2col layout.

    ``dtype``: convert while copying (one pass instead of two when x is float32 and W float64).
    ``pooled``: in memory from ``scratch`` (for columns kept until backward).
    """
    n, c = g.x_shape[:2]
    view = windows(padded(x, g.pad, 0), g).transpose(1, 2, 3, 0, 4, 5)
    cols = (scratch_empty if pooled else np.empty)(view.shape, x.dtype if dtype is None else dtype)
    np.copyto(cols, view, casting="unsafe")
    return cols.reshape(c * g.kernel[0] * g.kernel[1], n * g.out[0] * g.out[1])


def add_columns(dcols, g):
    """The adjoint of ``columns``: each column's entries added back to the pixels they came from.

    Returns a (N, C, H, W) view, stored channel by channel (as ``columns`` reads).
    """
    n, c, _, _ = g.x_shape
    (fh, fw), (oh, ow) = g.kernel, g.out
    d = dcols.reshape(c, fh * fw, n, oh, ow)
    n, c, hp, wp = padded_shape(g)
    gxp = np.zeros((c, n, hp, wp), dcols.dtype)
    for k, index in window_slices(g):
        gxp[index] += d[:, k]
    return unpad(gxp.transpose(1, 0, 2, 3), g)


def im2col_array(x, g):
    """The book's im2col: (N*OH*OW, C*FH*FW), row n*OH*OW + i*OW + j holding window (i, j) of image n."""
    n, c = g.x_shape[:2]
    cols = np.ascontiguousarray(windows(padded(x, g.pad, 0), g).transpose(0, 4, 5, 1, 2, 3))
    return cols.reshape(n * g.out[0] * g.out[1], c * g.kernel[0] * g.kernel[1])


def col2im_array(col, g):
    """The book's col2im: the adjoint of im2col_array, overlapping entries summed; (N, C, H, W)."""
    n, c, _, _ = g.x_shape
    (fh, fw), (oh, ow) = g.kernel, g.out
    d = col.reshape(n, oh, ow, c, fh * fw)
    img = np.zeros(padded_shape(g), col.dtype)
    for k, index in window_slices(g):
        img[index] += d[..., k].transpose(0, 3, 1, 2)
    return unpad(img, g)


# When the columns of a whole batch would be large, they are built a few images at a time, and each
# chunk goes straight into its matrix product while it is still in the cache, instead of out to memory
# and back (the columns are FH*FW times the input). On the DeepConvNet's convolutions in float64 at
# batch 100 (AMD EPYC, OpenBLAS) chunks of about 4 MiB took about 25% less CPU time than the whole
# columns at once (95 against 131 ms for the forward pass); at 32 float32 images nothing changed,
# so columns up to twice that size stay whole.
COLUMN_CHUNK_BYTES = 4 * 2 ** 20


def _images_per_chunk(g, column_rows, itemsize):
    """How many images' columns to build at once (all of them when they are small); at least 1."""
    n = g.x_shape[0]
    per_image = column_rows * g.out[0] * g.out[1] * itemsize
    if per_image * n <= 2 * COLUMN_CHUNK_BYTES:
        return max(n, 1)  # an empty batch too: a chunk loop needs a step
    return max(1, COLUMN_CHUNK_BYTES // per_image)


def _chunks(x, g, step):
    """(first image, the images, their Geometry) for each chunk of ``step`` images of x."""
    for start in range(0, x.shape[0], step):
        part = x[start:start + step]
        yield start, part, g._replace(x_shape=part.shape)


def conv_rows(x, Wm, g, keep=None):
    """Wm (FN, C*FH*FW) @ columns(x): the convolution as rows (FN, N*OH*OW), in Wm's dtype.

    ``keep``: a list that receives the columns, chunk by chunk, for backward.
    """
    n, m = x.shape[0], g.out[0] * g.out[1]
    step = _images_per_chunk(g, Wm.shape[1], Wm.dtype.itemsize)
    if step >= n:
        cols = columns(x, g, Wm.dtype, pooled=keep is not None)
        if keep is not None:
            keep.append(cols)
        return dot2(Wm, cols)
    y = np.empty((Wm.shape[0], n * m), Wm.dtype)
    for start, part, part_g in _chunks(x, g, step):
        cols = columns(part, part_g, Wm.dtype, pooled=keep is not None)
        if keep is not None:
            keep.append(cols)
        y[:, start * m:(start + part.shape[0]) * m] = dot2(Wm, cols)
    return y


def weight_grad_rows(rows, x, g, kept=None):
    """rows (FN, N*OH*OW) @ columns(x)^T: the weights' gradient as (FN, C*FH*FW), in rows' dtype.

    ``kept``: the columns as ``conv_rows`` kept them (chunk by chunk); else they are rebuilt.
    """
    n = x.shape[0]
    if kept is None:
        step = _images_per_chunk(g, g.x_shape[1] * g.kernel[0] * g.kernel[1], rows.dtype.itemsize)
        if step >= n:
            return _times_transposed(rows, columns(x, g, rows.dtype))
        kept = (columns(part, part_g, rows.dtype) for _, part, part_g in _chunks(x, g, step))
    total, start = None, 0
    for cols in kept:
        term = _times_transposed(rows[:, start:start + cols.shape[1]], cols)
        start += cols.shape[1]
        total = term if total is None else np.add(total, term, out=total)
    return total


def _times_transposed(rows, cols):
    """rows (FN, M) @ cols (K, M)^T, the weight gradient's product; (FN, K).

    In float32 it is computed as (cols @ rows^T)^T, the same sums with the operands
    handed to BLAS the other way round: OpenBLAS's AVX-512 kernel (SkylakeX) took
    1.4 to 1.7 times less time that way for the DeepConvNet's shapes (AMD EPYC,
    1 thread), its Haswell kernel about the same. In float64 the SkylakeX kernel is
    faster with the first order (up to 1.3 times), so float64 keeps it.
    """
    if rows.dtype == np.float32 and cols.dtype == np.float32:
        return dot2(cols, rows.T).T
    return dot2(rows, cols.T)


def _rows(gy):
    """The gradient of a conv output (N, FN, OH, OW) as rows (FN, N*OH*OW): free in our memory order."""
    return gy.transpose(1, 0, 2, 3).reshape(gy.shape[1], -1)


def _grad_input(rows, W, g):
    """gx = col2im(W^T @ gy): the transposed convolution of the gradient rows; (N, C, H, W),
    stored channel by channel."""
    (fh, fw), (ph, pw), fn, c = g.kernel, g.pad, W.shape[0], W.shape[1]
    if g.stride == (1, 1) and ph < fh and pw < fw and fn < 2 * c:
        return _grad_input_as_conv(rows, W, g)
    return add_columns(dot2(W.reshape(fn, -1).T, rows), g)


def _grad_input_as_conv(rows, W, g):
    """gx for stride 1, as a plain convolution: gy padded by FH-1-ph (FW-1-pw) correlated with
    W flipped in both spatial axes and with its two channel axes swapped:

        gx[n, c, u, v] = sum over f, p, q of gy_pad[n, f, u + p, v + q] * W[f, c, FH-1-p, FW-1-q]

    The same sums as col2im(W^T @ gy) in another order. It trades the product with an inner size of
    FN and the FH*FW strided additions of col2im for the columns of gy and a product with an inner
    size of FN*FH*FW, which BLAS runs faster: the DeepConvNet's gradients took about 35% less time
    (benchmarks/README.md). Used when FN < 2C: at FN = 2C (the DeepConvNet's 16->32 and 32->64
    convolutions) col2im was as fast or up to 15% faster (AMD EPYC, 1 thread, float32 and float64,
    OpenBLAS's SkylakeX and Haswell kernels alike), and beyond that the columns of gy outgrow the saving.
    """
    n, c, h, w = g.x_shape
    (fh, fw), (ph, pw), (oh, ow) = g.kernel, g.pad, g.out
    fn = W.shape[0]
    gy = rows.reshape(fn, n, oh, ow).transpose(1, 0, 2, 3)
    full = Geometry((n, fn, oh, ow), (fh, fw), (1, 1), (fh - 1 - ph, fw - 1 - pw), (h, w))
    flipped = W.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1].reshape(c, fn * fh * fw).astype(rows.dtype, copy=False)
    return conv_rows(gy, flipped, full).reshape(c, n, h, w).transpose(1, 0, 2, 3)


def _grad_weight(rows, x, W_shape, g, kept=None):
    """gW = gy @ cols(x)^T, reshaped to W's shape; ``kept``: the columns, when forward kept them."""
    return weight_grad_rows(rows, x, g, kept).reshape(W_shape)


# --- float32: pixel by pixel (NHWC memory) ------------------------------------------
#
# In float32 the convolutions work on arrays stored pixel by pixel: x as (N, H, W, C) in memory,
# columns as the book's (N*OH*OW, FH*FW*C) rows with each row ordered (p, q, c), and an output
# (N*OH*OW, FN) that is the (N, FN, OH, OW) result stored pixel by pixel. OpenBLAS's float32
# kernels ran these products 1.1 to 1.7 times faster than W @ columns, and the columns are copied
# in runs of C numbers: DeepConvNet's five 3x3 convolutions with C > 1 took 11.6 instead of 17.2 ms
# (forward and both gradients, batch 32, AMD EPYC, SkylakeX kernel, 1 thread), its whole float32
# step 19.4 instead of 23.9 ms (benchmarks/README.md). In float64 the same layout was slower
# (35.1 against 31.9 ms), so float64 keeps channel by channel. The layout travels with the arrays:
# ReLU and pooling keep their input's memory order, so the next convolution and every gradient
# find the order they want without a copy.
PIXEL_MAJOR_DTYPES = (np.dtype(np.float32),)
# An input of one channel (the images) keeps channel by channel: with an inner size of only FH*FW
# the product W @ columns was the faster one (SimpleConvNet's float32 step: 9.8 ms, against 10.4
# with its convolution pixel by pixel).
PIXEL_MAJOR_MIN_CHANNELS = 2


def pixel_major(dtype, g):
    """Whether conv2d in ``dtype`` with geometry ``g`` stores its arrays pixel by pixel (NHWC)."""
    return np.dtype(dtype) in PIXEL_MAJOR_DTYPES and g.x_shape[1] >= PIXEL_MAJOR_MIN_CHANNELS


def as_pixel_major(x):
    """The (N, H, W, C) array behind an (N, C, H, W) view: free when x is stored pixel by pixel."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def pixel_columns(xs, g, dtype):
    """The windows of xs (N, H, W, C) as rows (N*OH*OW, FH*FW*C), each row ordered (p, q, c).

    With one channel the pixel and channel orders are the same, and the channel-major columns,
    transposed, are these (copying runs of FW numbers instead of C took about 3 times longer).
    """
    n, h, w, c = xs.shape
    if c == 1:
        return columns(xs.reshape(n, 1, h, w), g, dtype).T
    (fh, fw), (sh, sw), (ph, pw), (oh, ow) = g.kernel, g.stride, g.pad, g.out
    xp = xs
    if ph or pw:
        xp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), xs.dtype)
        xp[:, ph:ph + h, pw:pw + w] = xs
    sn, sy, sx, sc = xp.strides
    view = as_strided(xp, (n, oh, ow, fh, fw, c), (sn, sy * sh, sx * sw, sy, sx, sc), writeable=False)
    cols = np.empty(view.shape, dtype)
    np.copyto(cols, view, casting="unsafe")
    return cols.reshape(n * oh * ow, fh * fw * c)


def pixel_weights(W):
    """W (FN, C, FH, FW) as (FN, FH*FW*C), each row in the columns' (p, q, c) order."""
    fn, c, fh, fw = W.shape
    return W.transpose(0, 2, 3, 1).reshape(fn, fh * fw * c)


def pixel_column_chunks(xs, g, dtype):
    """(first row, columns) of xs's images, a few at a time when the columns are large (``_chunks``)."""
    step = _images_per_chunk(g, g.kernel[0] * g.kernel[1] * xs.shape[3], np.dtype(dtype).itemsize)
    for start, part, part_g in _chunks(xs.transpose(0, 3, 1, 2), g, step):
        yield start * g.out[0] * g.out[1], pixel_columns(as_pixel_major(part), part_g, dtype)


def pixel_conv(xs, W, g):
    """The convolution of xs (N, H, W, C) with W (FN, C, FH, FW), no bias, as rows (N*OH*OW, FN):
    columns @ W^T, in W's dtype."""
    Wt = pixel_weights(W).T
    rows = xs.shape[0] * g.out[0] * g.out[1]
    y = None
    for start, cols in pixel_column_chunks(xs, g, W.dtype):
        product = dot2(cols, Wt)
        if product.shape[0] == rows:
            return product  # one chunk held every image
        if y is None:
            y = np.empty((rows, W.shape[0]), W.dtype)
        y[start:start + product.shape[0]] = product
    return np.empty((0, W.shape[0]), W.dtype) if y is None else y  # y is None only for no images


def pixel_rows(gy):
    """The gradient of a conv output (N, FN, OH, OW) as rows (N*OH*OW, FN): free when stored pixel by pixel."""
    n, fn, oh, ow = gy.shape
    return gy.transpose(0, 2, 3, 1).reshape(n * oh * ow, fn)


def pixel_output(y, n, g):
    """Rows (N*OH*OW, FN) as the (N, FN, OH, OW) view they store pixel by pixel."""
    return y.reshape(n, g.out[0], g.out[1], y.shape[1]).transpose(0, 3, 1, 2)


def pixel_grad_weight(gy_rows, x, W_shape, g):
    """gW = gy_rows^T @ columns(x), as W's shape (FN, C, FH, FW).

    The columns are built again from x, a few images at a time, rather than kept from forward:
    pixel by pixel that was the faster choice (DeepConvNet float32 step 17.4-19.6 against
    19.4-20.1 ms keeping them, each in a process of its own). Each product is computed as
    columns^T @ gy_rows, (FH*FW*C, FN), and transposed once at the end: the same sums with the
    operands handed to BLAS the other way round, 1.5-3% off the DeepConvNet float32 step with
    OpenBLAS's SkylakeX kernel and 0-1.5% with its Haswell kernel (AMD EPYC, interleaved).
    """
    fn, c, fh, fw = W_shape
    total = None
    for start, cols in pixel_column_chunks(as_pixel_major(x), g, gy_rows.dtype):
        term = dot2(cols.T, gy_rows[start:start + cols.shape[0]])
        total = term if total is None else np.add(total, term, out=total)
    if total is None:  # no images: no terms
        return np.zeros((fn, c, fh, fw), gy_rows.dtype)
    return np.ascontiguousarray(total.T).reshape(fn, fh, fw, c).transpose(0, 3, 1, 2)


def pixel_grad_input(gy_rows, W, g):
    """gx (N, C, H, W), stored pixel by pixel, from the output's gradient as rows (N*OH*OW, FN).

    Stride 1 (pad < kernel): a plain convolution of gy padded by FH-1-ph (FW-1-pw) with W flipped in
    both spatial axes and its channel axes swapped, as ``_grad_input_as_conv``; in this layout it
    was the faster route for every DeepConvNet shape. Otherwise the adjoint of the columns: one
    strided addition per kernel offset.
    """
    n, c, h, w = g.x_shape
    (fh, fw), (sh, sw), (ph, pw), (oh, ow) = g.kernel, g.stride, g.pad, g.out
    fn = W.shape[0]
    W = W.astype(gy_rows.dtype, copy=False)
    if g.stride == (1, 1) and ph < fh and pw < fw:
        full = Geometry((n, fn, oh, ow), (fh, fw), (1, 1), (fh - 1 - ph, fw - 1 - pw), (h, w))
        flipped = W.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
        gx = pixel_conv(gy_rows.reshape(n, oh, ow, fn), flipped, full)
        return gx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    d = dot2(gy_rows, pixel_weights(W)).reshape(n, oh, ow, fh, fw, c)
    gxp = np.zeros((n, h + 2 * ph, w + 2 * pw, c), d.dtype)
    for p in range(fh):
        for q in range(fw):
            gxp[:, p:p + sh * (oh - 1) + 1:sh, q:q + sw * (ow - 1) + 1:sw] += d[:, :, :, p, q]
    return gxp[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)


def grad_input(gy, W, g):
    """gx of conv2d from the output's gradient gy (N, FN, OH, OW), in the layout of gy's dtype."""
    if pixel_major(np.result_type(gy.dtype, W.dtype), g):
        return pixel_grad_input(pixel_rows(gy), W, g)
    return _grad_input(_rows(gy), W, g)


def grad_weight(gy, x, W_shape, g):
    """gW of conv2d from gy (N, FN, OH, OW) and x, in the layout of their common dtype."""
    dtype = np.result_type(x.dtype, gy.dtype)
    if pixel_major(dtype, g):
        return pixel_grad_weight(pixel_rows(gy).astype(dtype, copy=False), x, W_shape, g)
    return _grad_weight(_rows(gy).astype(dtype, copy=False), x, W_shape, g)


# --- convolution -----------------------------------------------------------------


class Conv2d(Function):
    """y[n, f, i, j] = sum over c, p, q of x_pad[n, c, i*sh + p, j*sw + q] * W[f, c, p, q] + b[f].

    Cross-correlation, as the book's Convolution layer and PyTorch's conv2d;
    x_pad is x with ``pad`` zeros around each image. As one matrix product:
    y = W (FN, C*FH*FW) @ cols(x) + b.
    gx = Conv2dGradInput(gy, W) (col2im of W^T @ gy), gW = Conv2dGradWeight(x, gy)
    (gy @ cols(x)^T), gb = gy summed over n, i and j.
    Saves the geometry (shapes, stride, pad) and, channel by channel (float64), when W needs a
    gradient, cols(x) for gW, as the book's Convolution layer does (in scratch-pool memory;
    ``save_columns = False`` rebuilds them from x in backward instead); pixel by pixel (float32)
    they are always rebuilt, which was faster there. Backward reads x and W from ctx.inputs; b is
    never read.
    """

    op_name = "conv2d"
    uses_inputs = (0, 1)
    # Keep the columns from forward (True) or rebuild them from x in backward (False)? Keeping holds
    # FH*FW / stride**2 times x's memory from forward to backward, as the book's Convolution layer
    # does; rebuilding costs one more copy of that size. Kept in ordinary arrays, the columns made the
    # step slower in a process of its own (DeepConvNet float32 75 against 47 ms): each step the C
    # library handed their memory back to the system and asked for it again, page by page. Kept in
    # buffers of the scratch pool (ops/scratch.py), which the next step uses again, there is no
    # such cost, and keeping wins (AMD EPYC, 1 BLAS thread, benchmarks/conv_step.py): DeepConvNet
    # float32 43 against 47 ms per step alone, 44.6 against 48.8 interleaved with PyTorch. (Float32
    # now works pixel by pixel, where rebuilding won; this applies to the channel-by-channel layout.)
    save_columns = True

    @staticmethod
    def forward(ctx, x, W, b=None, stride=1, pad=0):
        g = conv_geometry(x.shape, W.shape, None if b is None else b.shape, stride, pad)
        dtype = np.result_type(x.dtype, W.dtype)  # what x @ W gives: float32 images, float64 net -> float64
        ctx.geometry = g
        ctx.pixel_major = pixel_major(dtype, g)
        if ctx.pixel_major:  # columns rebuilt in backward (pixel_grad_weight)
            y = pixel_conv(as_pixel_major(x), W.astype(dtype, copy=False), g)  # (N*OH*OW, FN)
            return pixel_output(add_bias(y, b), x.shape[0], g)
        needs = ctx.needs_input_grad
        ctx.cols = [] if Conv2d.save_columns and needs and needs[1] else None  # kept for gW
        Wm = W.reshape(W.shape[0], -1).astype(dtype, copy=False)
        y = conv_rows(x, Wm, g, ctx.cols)  # (FN, N*OH*OW)
        y = add_bias(y, None if b is None else b[:, None])
        n, (oh, ow) = x.shape[0], g.out
        return y.reshape(W.shape[0], n, oh, ow).transpose(1, 0, 2, 3)

    @staticmethod
    def backward(ctx, gy):
        x, W = ctx.inputs[0], ctx.inputs[1]
        need = ctx.needs_input_grad
        g = ctx.geometry
        if is_grad_enabled():  # create_graph: record the gradients as ops
            gx = Conv2dGradInput.apply(gy, W, geometry=g) if need[0] else None
            gW = Conv2dGradWeight.apply(x, gy, geometry=g, W_shape=W.shape) if need[1] else None
            gb = gy.sum(axis=(0, 2, 3)) if len(need) == 3 and need[2] else None
            return gx, gW, gb
        if ctx.pixel_major:  # rows (N*OH*OW, FN)
            rows = pixel_rows(gy.data)
            gx = Tensor(pixel_grad_input(rows, W.data, g)) if need[0] else None
            gW = Tensor(pixel_grad_weight(rows, x.data, W.shape, g)) if need[1] else None
            gb = Tensor(sum_rows(rows)) if len(need) == 3 and need[2] else None
            return gx, gW, gb
        rows = _rows(gy.data)  # (FN, N*OH*OW)
        gx = Tensor(_grad_input(rows, W.data, g)) if need[0] else None
        gW = None
        if need[1]:
            gW = Tensor(_grad_weight(rows, x.data, W.shape, g, ctx.cols))
        gb = Tensor(np.dot(rows, ones(rows.shape[1], rows.dtype))) if len(need) == 3 and need[2] else None
        return gx, gW, gb


class Conv2dGradInput(Function):
    """gx = col2im(W^T @ rows(gy)): the gradient of conv2d for x (a transposed convolution).

    Linear in gy and in W: its backward gives ggy = conv2d(ggx, W) and
    gW = Conv2dGradWeight(ggx, gy). Saves the geometry.
    """

    op_name = "conv2d_grad_input"

    @staticmethod
    def forward(ctx, gy, W, geometry):
        ctx.geometry = geometry
        return grad_input(gy, W, geometry)

    @staticmethod
    def backward(ctx, ggx):
        gy, W = ctx.inputs
        g = ctx.geometry
        need_gy, need_W = ctx.needs_input_grad
        d_gy = Conv2d.apply(ggx, W, stride=g.stride, pad=g.pad) if need_gy else None
        d_W = Conv2dGradWeight.apply(ggx, gy, geometry=g, W_shape=W.shape) if need_W else None
        return d_gy, d_W


class Conv2dGradWeight(Function):
    """gW = rows(gy) @ cols(x)^T: the gradient of conv2d for W.

    Linear in x and in gy: its backward gives gx = Conv2dGradInput(gy, ggW)
    and ggy = conv2d(x, ggW). Saves the geometry and W's shape.
    """

    op_name = "conv2d_grad_weight"

    @staticmethod
    def forward(ctx, x, gy, geometry, W_shape):
        ctx.geometry = geometry
        return grad_weight(gy, x, W_shape, geometry)

    @staticmethod
    def backward(ctx, ggW):
        x, gy = ctx.inputs
        g = ctx.geometry
        need_x, need_gy = ctx.needs_input_grad
        d_x = Conv2dGradInput.apply(gy, ggW, geometry=g) if need_x else None
        d_gy = Conv2d.apply(x, ggW, stride=g.stride, pad=g.pad) if need_gy else None
        return d_x, d_gy


# --- padding -----------------------------------------------------------------------


def pad_widths(pad_width, ndim, op="pad"):
    """((before, after), ...) per axis from np.pad's forms: an int, (before, after), or one pair per axis."""
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"{op}: pad_width must be integers (an int, a pair (before, after), or one pair "
                        f"per axis), got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(f"{op}: pad_width {pad_width!r} does not fit an input of {ndim} dimensions; give an "
                         f"int, a pair (before, after), or {ndim} pairs") from None
    if (widths < 0).any():
        raise ValueError(f"{op}: pad_width must be >= 0, got {pad_width!r}")
    return tuple((int(before), int(after)) for before, after in widths)


class Pad(Function):
    """y = x with constant borders, as ``np.pad(x, pad_width, constant_values=value)``.

    gx = gy without the borders (a slice). Saves that slice.
    """

    op_name = "pad"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, pad_width, value=0.0):
        widths = pad_widths(pad_width, x.ndim)
        ctx.index = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.index]
