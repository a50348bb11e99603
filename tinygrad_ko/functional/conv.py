"""Convolution, pooling, flattening and padding (the book's chapter 7), differentiable.

The ops take ndarrays as well as Tensors and return Tensors; ``im2col`` and
``col2im`` are the book's ndarray helpers (``common/util.py``) and return
ndarrays. Shapes: x (N, C, H, W), filters W (FN, C, FH, FW); an output has
OH = (H + 2*pad - FH) // stride + 1 rows (floor, as the book and PyTorch)
and OW columns alike. ``stride`` and ``pad`` are an int or a pair (rows, columns).

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> conv2d(x, np.ones((1, 1, 2, 2)), stride=2)
Tensor([[[[10., 18.],
          [42., 50.]]]])
>>> max_pool2d(x, 2)
Tensor([[[[ 5.,  7.],
          [13., 15.]]]])
"""

import numbers

import numpy as np

from .. import ops
from ..ops import conv as _conv
from ..tensor import Tensor
from ._common import _tensor


def _array(a):
    return a.data if isinstance(a, Tensor) else np.asarray(a)


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """The book's im2col: every filter-sized window of the input as one row.

    input_data: (N, C, H, W). Returns an ndarray (N*OH*OW, C*FH*FW): row
    n*OH*OW + i*OW + j holds window (i, j) of image n, in the order
    (channel, row, column), with ``pad`` zeros around each image. The dtype is
    the input's (the book's always gives float64).

    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> im2col(x, 2, 2)
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    x = _array(input_data)
    g = _conv.geometry("im2col", x.shape, (filter_h, filter_w), stride, pad, kernel_name="filter")
    return _conv.im2col_array(x, g)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The book's col2im: rows of windows back to images, overlapping entries summed.

    col: (N*OH*OW, C*FH*FW) as ``im2col`` gives it; input_shape: (N, C, H, W).
    Returns an ndarray of ``input_shape`` (the padding dropped). It is the
    adjoint of im2col, the step the Convolution layer's backward needs; it
    does not invert im2col where windows overlap.

    >>> col2im(np.ones((4, 4)), (1, 1, 3, 3), 2, 2)
    array([[[[1., 2., 1.],
             [2., 4., 2.],
             [1., 2., 1.]]]])
    """
    col = _array(col)
    input_shape = tuple(input_shape)
    g = _conv.geometry("col2im", input_shape, (filter_h, filter_w), stride, pad, kernel_name="filter")
    n, c, _, _ = input_shape
    expected = (n * g.out[0] * g.out[1], c * g.kernel[0] * g.kernel[1])
    if col.shape != expected:
        raise ValueError(f"col2im: col must have the shape (N*OH*OW, C*FH*FW) = {expected} for input_shape "
                         f"{input_shape}, filter {g.kernel}, stride {g.stride} and pad {g.pad}; got {col.shape}")
    return _conv.col2im_array(col, g)


def conv2d(x, W, b=None, stride=1, pad=0):
    """2-D convolution (cross-correlation), as the book's Convolution layer and PyTorch's conv2d.

    x: (N, C, H, W), W: (FN, C, FH, FW), b: (FN,) or None. Returns
    (N, FN, OH, OW): y[n, f, i, j] = sum over c, p, q of
    x_pad[n, c, i*sh + p, j*sw + q] * W[f, c, p, q] + b[f], where x_pad has
    ``pad`` zeros around each image.

    >>> x = np.ones((2, 3, 5, 5))
    >>> conv2d(x, np.ones((4, 3, 3, 3)), np.zeros(4), stride=2, pad=1).shape
    (2, 4, 3, 3)
    """
    x, W = _tensor(x), _tensor(W)
    if b is None:
        return ops.Conv2d.apply(x, W, stride=stride, pad=pad)
    return ops.Conv2d.apply(x, W, _tensor(b), stride=stride, pad=pad)


def max_pool2d(x, pool_h, pool_w=None, stride=None, pad=0):
    """The maximum of each pool_h x pool_w window, as the book's Pooling layer and PyTorch's max_pool2d.

    x: (N, C, H, W) -> (N, C, OH, OW). pool_w defaults to pool_h, stride to
    the pool size. Padding never wins a maximum (it counts as -inf, as in
    PyTorch), and may be at most half the pool size. At ties the first maximum
    of the window (row by row) gets the gradient, as the book's argmax does.

    >>> x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    >>> max_pool2d(x, 2)
    Tensor([[[[3.]]]])
    """
    kernel = pool_h if pool_w is None else (pool_h, pool_w)
    return ops.MaxPool2d.apply(_tensor(x), kernel=kernel, stride=stride, pad=pad)


def avg_pool2d(x, pool_h, pool_w=None, stride=None, pad=0):
    """The mean of each pool_h x pool_w window, as PyTorch's avg_pool2d.

    x: (N, C, H, W) -> (N, C, OH, OW). pool_w defaults to pool_h, stride to
    the pool size. The padding is zeros and counts in the average: every
    window divides by pool_h * pool_w (PyTorch's default count_include_pad=True).

    >>> avg_pool2d(np.arange(4.0).reshape(1, 1, 2, 2), 2)
    Tensor([[[[1.5]]]])
    """
    kernel = pool_h if pool_w is None else (pool_h, pool_w)
    return ops.AvgPool2d.apply(_tensor(x), kernel=kernel, stride=stride, pad=pad)


def flatten(x, start_dim=1, end_dim=-1):
    """x with the axes start_dim to end_dim (both included) merged into one, by reshape.

    The default keeps the batch axis, as ``nn.Flatten``: (N, C, H, W) -> (N, C*H*W).

    >>> flatten(np.ones((2, 3, 4, 5))).shape
    (2, 60)
    >>> flatten(np.ones((2, 3, 4, 5)), 1, 2).shape
    (2, 12, 5)
    """
    x = _tensor(x)
    dims = []
    for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
        if isinstance(dim, bool) or not isinstance(dim, (numbers.Integral, np.integer)):
            raise TypeError(f"flatten: {name} must be an int, got {dim!r}")
        if not -x.ndim <= dim < x.ndim:
            raise ValueError(f"flatten: {name}={dim} is out of range for an input of shape {x.shape} "
                             f"({x.ndim} axes: use -{x.ndim} to {x.ndim - 1})")
        dims.append(int(dim) % x.ndim)
    start, end = dims
    if start > end:
        raise ValueError(f"flatten: start_dim={start_dim} comes after end_dim={end_dim} "
                         f"for an input of shape {x.shape}")
    merged = 1
    for n in x.shape[start:end + 1]:
        merged *= n
    return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])


def pad(x, pad_width, value=0.0):
    """x with borders of ``value``, as ``np.pad(x, pad_width, constant_values=value)``; differentiable.

    pad_width: an int (every side of every axis), a pair (before, after) for
    every axis, or one pair per axis.

    >>> pad(np.ones((1, 2)), ((0, 0), (1, 2)))
    Tensor([[0., 1., 1., 0., 0.]])
    """
    return ops.Pad.apply(_tensor(x), pad_width=pad_width, value=value)
