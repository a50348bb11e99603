"""The Tensor methods as functions, for ndarrays as well as Tensors (``F.abs(x)`` is ``x.abs()``),
and the functions of several tensors: ``concatenate``, ``stack``, ``split``.

Each returns a Tensor (``argmin`` an ndarray, ``split`` a tuple of Tensors).
``where``, ``maximum``, ``minimum``, ``clip``, ``concatenate``, ``stack`` and
``split`` are also at the top level (``tk.where`` ...), as in PyTorch and NumPy.

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> tk.maximum(np.array([1.0, 5.0]), tk.Tensor([3.0, 2.0]))
Tensor([3., 5.])
"""

import numpy as np  # noqa: F401 (the examples below use it)

from .. import ops
from ._common import _tensor

# --- elementwise ---


def abs(x):  # noqa: A001 (PyTorch's name)
    """|x| elementwise; its gradient at 0 is 0, as PyTorch."""
    return _tensor(x).abs()


def sign(x):
    """-1, 0 or 1 elementwise; its gradient is 0.

    >>> sign(np.array([-2.0, 0.0, 3.0]))
    Tensor([-1.,  0.,  1.])
    """
    return _tensor(x).sign()


def square(x):
    """x * x elementwise; gradient 2 x.

    >>> square(np.array([-2.0, 3.0]))
    Tensor([4., 9.])
    """
    return _tensor(x).square()


def reciprocal(x):
    """1 / x elementwise; gradient -1 / x**2.

    >>> reciprocal(np.array([2.0, -4.0]))
    Tensor([ 0.5 , -0.25])
    """
    return _tensor(x).reciprocal()


def sin(x):
    """sin(x) elementwise; gradient cos(x).

    >>> sin(np.array([0.0, np.pi / 2]))
    Tensor([0., 1.])
    """
    return _tensor(x).sin()


def cos(x):
    """cos(x) elementwise; gradient -sin(x).

    >>> cos(np.array([0.0, np.pi]))
    Tensor([ 1., -1.])
    """
    return _tensor(x).cos()


def log1p(x):
    """log(1 + x), accurate for small x; gradient 1 / (1 + x).

    >>> log1p(np.array([0.0, 1e-20]))
    Tensor([0.e+00, 1.e-20])
    """
    return _tensor(x).log1p()


def expm1(x):
    """exp(x) - 1, accurate for small x; gradient exp(x).

    >>> expm1(np.array([0.0, 1e-20]))
    Tensor([0.e+00, 1.e-20])
    """
    return _tensor(x).expm1()


def clip(x, min=None, max=None):  # noqa: A002 (PyTorch's names)
    """x limited to [min, max] (either may be None); gradient 1 inside, bounds included, else 0.

    >>> clip(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
    Tensor([0. , 0.5, 1. ])
    """
    return ops.clip(_tensor(x), min, max)


def maximum(a, b):
    """Elementwise maximum (broadcasting); ties split the gradient 1/2 each, as ``torch.maximum``.

    >>> maximum(np.array([1.0, 5.0]), 3.0)
    Tensor([3., 5.])
    """
    return ops.maximum(a, b)


def minimum(a, b):
    """Elementwise minimum (broadcasting); ties split the gradient 1/2 each, as ``torch.minimum``.

    >>> minimum(np.array([1.0, 5.0]), 3.0)
    Tensor([1., 3.])
    """
    return ops.minimum(a, b)


def where(condition, a, b):
    """a where ``condition`` is true, else b (broadcasting); the gradient goes to the branch taken.

    >>> where(np.array([True, False]), np.array([1.0, 2.0]), 0.0)
    Tensor([1., 0.])
    """
    return ops.where(condition, a, b)


# --- reductions ---


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, without overflow.

    >>> logsumexp(np.array([1e4, 1e4]))
    Tensor(10000.69314718)
    """
    return _tensor(x).logsumexp(axis, keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis`` (ddof=0, as NumPy and the book; ``ddof=1`` is PyTorch's default).

    >>> var(np.array([1.0, 2.0, 3.0, 4.0]))
    Tensor(1.25)
    """
    return _tensor(x).var(axis, keepdims, ddof)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation over ``axis`` (ddof as in ``var``); gradient 0 where it is 0.

    >>> std(np.array([[1.0, 3.0], [2.0, 2.0]]), axis=1)
    Tensor([1., 0.])
    """
    return _tensor(x).std(axis, keepdims, ddof)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``, with exact gradients at zeros.

    >>> prod(np.array([[1.0, 2.0], [3.0, 0.0]]), axis=1)
    Tensor([2., 0.])
    """
    return _tensor(x).prod(axis, keepdims)


def cumsum(x, axis=None):
    """Running sum along ``axis`` (None: of the flattened x).

    >>> cumsum(np.array([1.0, 2.0, 3.0]))
    Tensor([1., 3., 6.])
    """
    return _tensor(x).cumsum(axis)


def min(x, axis=None, keepdims=False):  # noqa: A001 (the Tensor method's name)
    """Minimum over ``axis``; ties split the gradient evenly. (For two tensors: ``minimum``.)"""
    return _tensor(x).min(axis, keepdims)


def argmin(x, axis=None):
    """Indices of the minima along ``axis``, an ndarray (no gradient).

    >>> argmin(np.array([[3.0, 1.0], [0.0, 2.0]]), axis=1)
    array([1, 0])
    """
    return _tensor(x).argmin(axis)


# --- shape ---


def squeeze(x, axis=None):
    """x without its size-1 axes (or only ``axis``), as ``np.squeeze``.

    >>> squeeze(np.zeros((2, 1, 3))).shape
    (2, 3)
    """
    return _tensor(x).squeeze(axis)


def unsqueeze(x, axis):
    """x with a new size-1 axis at ``axis``, as ``torch.unsqueeze``.

    >>> unsqueeze(np.zeros((2, 3)), 1).shape
    (2, 1, 3)
    """
    return _tensor(x).unsqueeze(axis)


def expand_dims(x, axis):
    """``unsqueeze`` under NumPy's name.

    >>> expand_dims(np.zeros(3), 0).shape
    (1, 3)
    """
    return _tensor(x).expand_dims(axis)


def broadcast_to(x, shape):
    """x broadcast to ``shape``; the gradient is summed back to x's shape.

    >>> broadcast_to(np.array([1.0, 2.0]), (2, 2))
    Tensor([[1., 2.],
                [1., 2.]])
    """
    return _tensor(x).broadcast_to(shape)


def sum_to(x, shape):
    """x summed down to ``shape`` (the shape it was broadcast from), the book's vol. 3 ``sum_to``.

    >>> sum_to(np.ones((2, 3)), (1, 3))
    Tensor([[2., 2., 2.]])
    """
    return _tensor(x).sum_to(shape)


def swapaxes(x, axis0, axis1):
    """x with two axes exchanged, as ``np.swapaxes``.

    >>> swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
    (4, 3, 2)
    """
    return _tensor(x).swapaxes(axis0, axis1)


def permute(x, *dims):
    """x with its axes in the order ``dims``, as ``torch.permute``.

    >>> permute(np.zeros((2, 3, 4)), 2, 0, 1).shape
    (4, 2, 3)
    """
    return _tensor(x).permute(*dims)


def repeat(x, *sizes):
    """PyTorch's ``repeat``: NumPy's ``tile`` with one size per axis.

    >>> repeat(np.array([1.0, 2.0]), 2)
    Tensor([1., 2., 1., 2.])
    """
    return _tensor(x).repeat(*sizes)


def tile(x, reps):
    """x repeated ``reps`` times along each axis, as ``np.tile``.

    >>> tile(np.array([[1.0, 2.0]]), (2, 1))
    Tensor([[1., 2.],
                [1., 2.]])
    """
    return _tensor(x).tile(reps)


def clone(x):
    """A copy with its own memory (differentiable), as ``torch.clone``.

    >>> clone(np.array([1.0, 2.0]))
    Tensor([1., 2.])
    """
    return _tensor(x).clone()


def copy(x):
    """``clone`` under NumPy's name.

    >>> copy(np.array([1.0]))
    Tensor([1.])
    """
    return _tensor(x).copy()


# --- several tensors ---


def concatenate(tensors, axis=0):
    """The tensors (or arrays) joined along an existing axis, as ``np.concatenate``.

    >>> concatenate([np.zeros((1, 2)), np.ones((2, 2))]).shape
    (3, 2)
    """
    return ops.concatenate([_tensor(t) for t in tensors], axis)


def stack(tensors, axis=0):
    """The tensors (all of one shape) joined along a new axis, as ``np.stack``.

    >>> stack([np.zeros(3), np.ones(3)], axis=1).shape
    (3, 2)
    """
    return ops.stack([_tensor(t) for t in tensors], axis)


def split(x, size_or_sizes, axis=0):
    """x cut along ``axis`` into pieces, as ``torch.split``: an int is the size of each piece (the
    last may be smaller), a list the sizes of all of them.

    >>> [piece.shape for piece in split(np.arange(7.0), 3)]
    [(3,), (3,), (1,)]
    >>> [piece.shape for piece in split(np.arange(7.0), [2, 5])]
    [(2,), (5,)]
    """
    return ops.split(_tensor(x), size_or_sizes, axis)


__all__ = ["abs", "sign", "square", "reciprocal", "sin", "cos", "log1p", "expm1", "clip", "maximum",
           "minimum", "where", "logsumexp", "var", "std", "prod", "cumsum", "min", "argmin", "squeeze",
           "unsqueeze", "expand_dims", "broadcast_to", "sum_to", "swapaxes", "permute", "repeat", "tile",
           "clone", "copy", "concatenate", "stack", "split"]
