"""Matrix products: matmul and the Affine layer (book's or PyTorch's weight layout) as one op."""

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
    """y = x @ W + b as one op, in the book's layout or in PyTorch's.

    Book layout (the Affine layer): W (in, out).  PyTorch's layout
    (``out_in=True``, what ``nn.Linear`` holds): W (out, in) and y = x @ W^T + b;
    the forward hands BLAS the transposed view, so no transpose op is recorded.
    x: (..., in); b: (out,), or left out (``Linear.apply(x, W)``: no bias).

    gx = gy @ W^T and gW = x^T @ gy in the book's layout (gx = gy @ W and
    gW = gy^T @ x in PyTorch's), gb = gy summed, over all leading axes of x.
    Saves nothing; only the gradients that are needed are computed.
    """

    uses_inputs = (0, 1)  # x and W; b is not read

    @staticmethod
    def forward(ctx, x, W, b=None, out_in=False):
        ctx.out_in = out_in
        W_in_out = W.T if out_in else W
        if W.ndim != 2 or (b is not None and b.shape != W_in_out.shape[1:]):
            layout = "(out_features, in_features)" if out_in else "(in, out)"
            got = f"W {W.shape}" + ("" if b is None else f" and b {b.shape}")
            raise ValueError(f"linear: W must be 2-D {layout} and b of shape (out,); got {got}")
        try:
            if x.ndim == 2 and x.shape[1] == W_in_out.shape[0]:
                y = dot2(x, W_in_out)
            else:
                y = np.matmul(x, W_in_out)
        except ValueError:
            if out_in:
                raise ValueError(
                    f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features on its last "
                    f"axis, but the weight of shape {W.shape} (out_features, in_features) expects "
                    f"{W.shape[1]}") from None
            check_matmul_shapes(x.shape, W.shape, "linear")
            raise
        return add_bias(y, b)

    @staticmethod
    def backward(ctx, gy):
        inputs = ctx.inputs
        x, W = inputs[0], inputs[1]
        needs = ctx.needs_input_grad
        if len(needs) == 2:
            needs += (False,)
        if is_grad_enabled():  # create_graph: record the formulas as Tensor ops
            grads = _linear_grads(needs, gy, x, W, ctx.out_in)
        else:  # a plain backward runs every training step: the same formulas on the arrays
            gx, gW, gb = _linear_grads(needs, gy.data, x.data, W.data, ctx.out_in)
            grads = (None if gx is None else Tensor(gx), None if gW is None else Tensor(gW),
                     None if gb is None else Tensor(gb))
        return grads if len(inputs) == 3 else grads[:2]


def _linear_grads(needs, gy, x, W, out_in=False):
    """gx, gW, gb of y = x @ W + b (or x @ W^T + b when out_in): on Tensors or on ndarrays alike."""
    need_x, need_W, need_b = needs
    n_out, n_in = W.shape if out_in else W.shape[::-1]
    gx = _matmul(gy, W if out_in else W.T) if need_x else None
    rows = gy.reshape(-1, n_out) if gy.ndim != 2 else gy
    gW = gb = None
    if need_W:
        x_rows = x.reshape(-1, n_in) if x.ndim != 2 else x
        gW = _matmul(rows.T, x_rows) if out_in else _matmul(x_rows.T, rows)
    if need_b:
        gb = sum_rows(rows)
    return gx, gW, gb


def add_bias(y, b):
    """y + b with b broadcast over y; in place when the sum keeps y's dtype, so y must be the
    caller's own fresh array (an op's product). y itself when b is None."""
    if b is None:
        return y
    if b.dtype == y.dtype or np.result_type(y, b) == y.dtype:
        y += b
        return y
    return y + b


def sum_rows(a):
    """a.sum(axis=0) of a 2-D array, as a row of ones times ``a`` (BLAS), or as ``.sum`` for Tensors.

    NumPy reduces the rows of a (100, 10) array in 2 us; the matrix product takes
    0.6 us. Ones are never 0, so no NaN or inf is skipped (see dot2).
    """
    if isinstance(a, Tensor):
        return a.sum(axis=0)
    return np.dot(ones(a.shape[0], a.dtype), a)


_constants = {}  # (what, size, dtype) -> read-only array: the ones and row indices every step reuses


def _constant(what, size, dtype, make):
    key = (what, size, dtype)
    array = _constants.get(key)
    if array is None:
        if len(_constants) >= 256:
            _constants.clear()  # a bound for programs that use many sizes
        array = make()
        array.flags.writeable = False
        _constants[key] = array
    return array


def ones(size, dtype):
    """np.ones(size, dtype) (size an int or a shape), made once and read-only: a training step
    needs the same ones for its bias gradients every time."""
    return _constant("ones", size, dtype, lambda: np.ones(size, dtype))


def row_indices(n):
    """np.arange(n) (intp), made once and read-only: picks one entry per row (``a[row_indices(n), t]``)."""
    return _constant("arange", n, None, lambda: np.arange(n))


def _matmul(a, b):
    """a @ b, recorded for Tensors; dot2 for 2-D arrays (np.matmul is slow for thin operands)."""
    if isinstance(a, Tensor):
        return a @ b
    return dot2(a, b) if a.ndim == 2 else np.matmul(a, b)
