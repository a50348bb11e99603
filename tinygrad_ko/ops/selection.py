"""Elementwise selection: where, clip, and the two-input maximum and minimum.

Each picks one of its inputs per element, so its gradient is a 0/1 (or 1/2 at
ties) weight saved by forward: a constant, whose own derivative is zero.
"""

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _operand


def zero_like(t):
    """A 0-d constant 0 of t's dtype."""
    return Tensor(np.zeros((), t.dtype))


def one_like(t):
    """A 0-d constant 1 of t's dtype."""
    return Tensor(np.ones((), t.dtype))


class Where(Function):
    """z = a where cond else b (broadcasting), as ``np.where``; cond is a constant boolean array.

    dz/da = cond, dz/db = not cond: the gradient goes to the branch taken and
    is exactly zero (not 0 * gz) for the other, so an inf or NaN in gz or in a
    branch not taken stays out of the gradient. Saves cond.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, a, b, cond):
        ctx.cond = cond
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, gz):
        need_a, need_b = ctx.needs_input_grad
        zero = zero_like(gz)
        ga = Where.apply(gz, zero, cond=ctx.cond) if need_a else None
        gb = Where.apply(zero, gz, cond=ctx.cond) if need_b else None
        return ga, gb


class Clip(Function):
    """y = min(max(x, lo), hi) elementwise (either bound may be None), as ``torch.clamp``.

    dy/dx = 1 where lo <= x <= hi (the bounds included, as PyTorch), else 0;
    with lo > hi every y is hi and every gradient 0. The bounds are constants
    (numbers or arrays). Saves the mask.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, lo, hi):
        y, mask = x, None
        if lo is not None:
            y = np.maximum(y, lo)
            mask = x >= lo
        if hi is not None:
            y = np.minimum(y, hi)
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        ctx.mask = mask
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.mask


def _tie_weights(loses, tie, dtype):
    """1 where an input wins (or is NaN), 1/2 at ties, 0 where it loses, as PyTorch splits them."""
    return (1.0 - loses - 0.5 * tie).astype(dtype if dtype.kind == "f" else np.float64, copy=False)


class Maximum(Function):
    """z = max(x, y) elementwise (broadcasting; NaN wins, as ``np.maximum``).

    dz/dx = 1 where x > y, 0 where x < y, and 1/2 each at ties, as PyTorch's
    ``torch.maximum``. Saves the two weight arrays.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, y):
        z = np.maximum(x, y)
        tie = x == y
        ctx.wx = _tie_weights(x < y, tie, z.dtype)
        ctx.wy = _tie_weights(x > y, tie, z.dtype)
        return z

    @staticmethod
    def backward(ctx, gz):
        need_x, need_y = ctx.needs_input_grad
        return (gz * ctx.wx if need_x else None), (gz * ctx.wy if need_y else None)


class Minimum(Function):
    """z = min(x, y) elementwise (broadcasting; NaN wins, as ``np.minimum``).

    dz/dx = 1 where x < y, 0 where x > y, and 1/2 each at ties, as PyTorch's
    ``torch.minimum``. Saves the two weight arrays.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, y):
        z = np.minimum(x, y)
        tie = x == y
        ctx.wx = _tie_weights(x > y, tie, z.dtype)
        ctx.wy = _tie_weights(x < y, tie, z.dtype)
        return z

    @staticmethod
    def backward(ctx, gz):
        need_x, need_y = ctx.needs_input_grad
        return (gz * ctx.wx if need_x else None), (gz * ctx.wy if need_y else None)


# --- the public forms (Tensor methods, tk.functional and tk.where ... call these) ---


def _pair(a, b):
    """a, b as Tensors; a Python number takes the other side's dtype, as in the operators."""
    if isinstance(a, Tensor):
        return a, _operand(b, a)
    if isinstance(b, Tensor):
        return _operand(a, b), b
    a = Tensor(a)
    return a, _operand(b, a)


def where(cond, a, b):
    """a where cond is true, else b (broadcasting), as ``np.where`` and ``torch.where``.

    cond: booleans (a Tensor, ndarray or list; other values count by truth);
    a, b: Tensors, ndarrays or numbers. The gradient flows to the branch taken.
    """
    cond = np.asarray(cond.data if isinstance(cond, Tensor) else cond).astype(bool, copy=False)
    a, b = _pair(a, b)
    return Where.apply(a, b, cond=cond)


def maximum(a, b):
    """Elementwise maximum of a and b (broadcasting); ties split the gradient 1/2 each, as PyTorch."""
    return Maximum.apply(*_pair(a, b))


def minimum(a, b):
    """Elementwise minimum of a and b (broadcasting); ties split the gradient 1/2 each, as PyTorch."""
    return Minimum.apply(*_pair(a, b))


def _bound(value, x, name):
    """A clip bound as a constant array of x's dtype (numbers) or as given (arrays)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TypeError(
                f"clip: the {name} bound is a constant here, but this one requires grad; for a bound "
                f"that needs a gradient write tk.maximum(x, lo) and tk.minimum(x, hi)")
        return value.data
    if isinstance(value, (np.ndarray, list, tuple)):
        return np.asarray(value)
    if x.dtype.kind == "f":
        return np.asarray(value, dtype=x.dtype)  # float32 stays float32 (np.float64 bounds too)
    return np.asarray(value)


def clip(x, min=None, max=None):  # noqa: A002 (PyTorch's and NumPy 2's argument names)
    """x limited to [min, max] elementwise, as ``torch.clamp``; either bound may be None.

    The gradient is 1 inside, bounds included, and 0 outside, as PyTorch.
    """
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return Clip.apply(x, lo=_bound(min, x, "min"), hi=_bound(max, x, "max"))
