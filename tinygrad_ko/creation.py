"""Factories: new tensors of a given shape, as PyTorch's ``torch.zeros`` ... and NumPy's ``np.zeros`` ...

Each makes float64 unless ``dtype=`` says otherwise (``tk.arange(5)`` too: pass
``dtype=int`` for indices), and takes ``requires_grad`` (floating-point dtypes
only). Shapes are varargs or one tuple: ``tk.zeros(2, 3)`` and ``tk.zeros((2, 3))``.
``randn`` and ``rand`` draw from ``np.random``, so ``np.random.seed(0)`` repeats them.

>>> import tinygrad_ko as tk
>>> tk.zeros(2, 3).shape
(2, 3)
>>> tk.ones((2,), dtype="float32")
Tensor([1., 1.], dtype=float32)
>>> tk.arange(3)
Tensor([0., 1., 2.])
"""

import numbers

import numpy as np

from ._checks import non_negative_int
from .tensor import Tensor

__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye", "randn", "rand"]


def _shape(args, op):
    """Varargs (2, 3) or one sequence ((2, 3),) as a tuple of ints."""
    shape = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list, np.ndarray)) else args
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"{op}: a shape holds non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def _dtype(dtype):
    return np.dtype(np.float64 if dtype is None else dtype)


def zeros(*shape, requires_grad=False, dtype=None):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``.

    >>> zeros(2, requires_grad=True)
    Tensor([0., 0.], requires_grad=True)
    """
    return Tensor(np.zeros(_shape(shape, "zeros"), _dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, dtype=None):
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``.

    >>> ones((1, 2))
    Tensor([[1., 1.]])
    """
    return Tensor(np.ones(_shape(shape, "ones"), _dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, requires_grad=False, dtype=None):
    """A tensor of ``shape`` (an int or a tuple) filled with ``fill_value``.

    >>> full((2,), 7.5)
    Tensor([7.5, 7.5])
    """
    shape = _shape((shape,), "full")
    return Tensor(np.full(shape, fill_value, _dtype(dtype)), requires_grad=requires_grad)


def _like(x):
    """The array behind x: a Tensor's data, an ndarray, or a Python list as Tensor() makes it."""
    if isinstance(x, Tensor):
        return x.data
    return x if isinstance(x, np.ndarray) else Tensor(x).data


def zeros_like(x, requires_grad=False, dtype=None):
    """Zeros of x's shape and dtype (or ``dtype``), as ``torch.zeros_like``; x a Tensor or an array.

    >>> zeros_like(np.ones(2, dtype=np.float32))
    Tensor([0., 0.], dtype=float32)
    """
    like = _like(x)
    return Tensor(np.zeros(like.shape, like.dtype if dtype is None else dtype), requires_grad=requires_grad)


def ones_like(x, requires_grad=False, dtype=None):
    """Ones of x's shape and dtype (or ``dtype``), as ``torch.ones_like``.

    >>> ones_like(Tensor([[5.0, 6.0]]))
    Tensor([[1., 1.]])
    """
    like = _like(x)
    return Tensor(np.ones(like.shape, like.dtype if dtype is None else dtype), requires_grad=requires_grad)


def full_like(x, fill_value, requires_grad=False, dtype=None):
    """``fill_value`` in x's shape and dtype (or ``dtype``), as ``torch.full_like``.

    >>> full_like(np.zeros(2), 0.5)
    Tensor([0.5, 0.5])
    """
    like = _like(x)
    return Tensor(np.full(like.shape, fill_value, like.dtype if dtype is None else dtype), requires_grad=requires_grad)


def arange(start, stop=None, step=1, requires_grad=False, dtype=None):
    """Evenly spaced values in [start, stop), as ``np.arange``; float64 unless ``dtype=`` (e.g. int).

    >>> arange(1, 2, 0.25)
    Tensor([1.  , 1.25, 1.5 , 1.75])
    >>> arange(3, dtype=int)
    Tensor([0, 1, 2])
    """
    if stop is None:
        start, stop = 0, start
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise TypeError(f"arange: {name} must be a finite number, got {value!r}")
    if step == 0:
        raise ValueError(f"arange: step must not be 0 (it would never reach stop={stop!r}); "
                         f"use a positive step to count up, a negative one to count down")
    return Tensor(np.arange(start, stop, step, dtype=_dtype(dtype)), requires_grad=requires_grad)


def eye(n, m=None, requires_grad=False, dtype=None):
    """The n x m identity matrix (m defaults to n).

    >>> eye(2)
    Tensor([[1., 0.],
            [0., 1.]])
    """
    n = non_negative_int(n, "n", "eye")
    m = None if m is None else non_negative_int(m, "m", "eye")
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)), requires_grad=requires_grad)


def randn(*shape, requires_grad=False, dtype=None):
    """Samples of the standard normal distribution from ``np.random.randn`` (so ``np.random.seed`` repeats them).

    >>> import numpy as np
    >>> np.random.seed(0); a = randn(2, 3)
    >>> np.random.seed(0); bool((randn((2, 3)) == a).all())
    True
    """
    data = np.asarray(np.random.randn(*_shape(shape, "randn")))
    return Tensor(data.astype(_dtype(dtype), copy=False), requires_grad=requires_grad)


def rand(*shape, requires_grad=False, dtype=None):
    """Uniform samples in [0, 1) from ``np.random.rand`` (so ``np.random.seed`` repeats them).

    >>> x = rand(1000)
    >>> bool((x >= 0).all() and (x < 1).all())
    True
    """
    data = np.asarray(np.random.rand(*_shape(shape, "rand")))
    return Tensor(data.astype(_dtype(dtype), copy=False), requires_grad=requires_grad)
