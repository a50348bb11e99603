"""Matrix products: matmul and the book's Affine layer as one op."""

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .movement import SumTo


def dot2(a, b):
    """np.dot of two 2-D arrays (np.matmul is several times slower for thin operands).

    For an inner size of 1 the product is an outer product, computed as one
    multiplication: OpenBLAS's gemm skips the terms when a factor is 0, which
    would turn 0 * nan into 0.
    """
    if a.shape[1] == 1:
        return np.multiply(a, b)
    return np.dot(a, b)


def check_matmul_shapes(x_shape, y_shape, op="matmul"):
    """Raise a ValueError naming both shapes when x @ y is not defined."""
    if len(x_shape) == 0 or len(y_shape) == 0:
        raise ValueError(
            f"{op}: shapes {x_shape} and {y_shape}: both operands need at least one dimension; "
            f"use * to multiply by a scalar")
    k_x = x_shape[-1]
    k_y = y_shape[-2] if len(y_shape) > 1 else y_shape[0]
    if k_x != k_y:
        raise ValueError(f"{op}: shapes {x_shape} and {y_shape} are not aligned ({k_x} != {k_y})")


def _swap_last(t):
    """t with its last two axes swapped (the batched transpose)."""
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return t.transpose(axes)


class MatMul(Function):
    """z = x @ y, as ``np.matmul`` (1-D operands, broadcast batch axes).

    dz/dx = gz @ y^T, dz/dy = x^T @ gz (summed over broadcast batch axes).  Saves nothing.
    """

    @staticmethod
    def forward(ctx, x, y):
        try:
            if x.ndim == 2 and y.ndim == 2 and x.shape[1] == y.shape[0]:
                return dot2(x, y)
            return np.asarray(np.matmul(x, y))
        except ValueError:
            check_matmul_shapes(x.shape, y.shape)  # say which shapes, in our words
            raise

    @staticmethod
    def backward(ctx, gz):
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        if x.ndim == 2 and y.ndim == 2:
            return (gz @ y.T if need_x else None), (x.T @ gz if need_y else None)
        # Make both operands at least 2-D, as matmul does, and bring gz to that product's shape.
        xm = x.reshape(1, -1) if x.ndim == 1 else x
        ym = y.reshape(-1, 1) if y.ndim == 1 else y
        batch = np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
        gzm = gz.reshape(batch + (xm.shape[-2], ym.shape[-1]))
        gx = gy_ = None
        if need_x:
            gx = gzm @ _swap_last(ym)
            gx = (SumTo.apply(gx, shape=xm.shape) if gx.shape != xm.shape else gx).reshape(x.shape)
        if need_y:
            gy_ = _swap_last(xm) @ gzm
            gy_ = (SumTo.apply(gy_, shape=ym.shape) if gy_.shape != ym.shape else gy_).reshape(y.shape)
        return gx, gy_


class Linear(Function):
    """y = x @ W + b, the book's Affine layer as one op.  x: (..., in), W: (in, out), b: (out,).

    gx = gy @ W^T, gW = x^T @ gy and gb = gy summed, both over all leading
    axes of x.  Saves nothing; only the gradients that are needed are computed.
    """

    uses_inputs = (0, 1)  # x and W; b is not read

    @staticmethod
    def forward(ctx, x, W, b):
        if W.ndim != 2 or b.shape != W.shape[1:]:
            raise ValueError(f"linear: W must be 2-D (in, out) and b of shape (out,); "
                             f"got W {W.shape} and b {b.shape}")
        try:
            y = dot2(x, W) if x.ndim == 2 and x.shape[1] == W.shape[0] else np.matmul(x, W)
        except ValueError:
            check_matmul_shapes(x.shape, W.shape, "linear")
            raise
        if b.dtype == y.dtype or np.result_type(y, b) == y.dtype:
            y += b  # y is our own fresh array
        else:
            y = y + b
        return y

    @staticmethod
    def backward(ctx, gy):
        x, W, b = ctx.inputs
        if is_grad_enabled():  # create_graph: record the formulas as Tensor ops
            return _linear_grads(ctx.needs_input_grad, gy, x, W)
        # A plain backward runs every training step: the same formulas on the arrays.
        grads = _linear_grads(ctx.needs_input_grad, gy.data, x.data, W.data)
        return tuple(None if g is None else Tensor(g) for g in grads)


def _linear_grads(needs, gy, x, W):
    """gx = gy @ W^T, gW = x^T @ gy, gb = gy summed over rows: on Tensors or on ndarrays alike."""
    need_x, need_W, need_b = needs
    gx = _matmul(gy, W.T) if need_x else None
    rows = gy.reshape(-1, W.shape[1]) if gy.ndim != 2 else gy
    gW = gb = None
    if need_W:
        gW = _matmul((x.reshape(-1, W.shape[0]) if x.ndim != 2 else x).T, rows)
    if need_b:
        gb = sum_rows(rows)
    return gx, gW, gb


def sum_rows(a):
    """a.sum(axis=0) of a 2-D array, as a row of ones times ``a`` (BLAS), or as ``.sum`` for Tensors.

    NumPy reduces the rows of a (100, 10) array in 2 us; the matrix product takes
    0.6 us. Ones are never 0, so no NaN or inf is skipped (see dot2).
    """
    if isinstance(a, Tensor):
        return a.sum(axis=0)
    return np.dot(np.ones(a.shape[0], a.dtype), a)


def _matmul(a, b):
    """a @ b, recorded for Tensors; dot2 for 2-D arrays (np.matmul is slow for thin operands)."""
    if isinstance(a, Tensor):
        return a @ b
    return dot2(a, b) if a.ndim == 2 else np.matmul(a, b)
