"""Tensor: an ndarray that remembers the operation that made it.

This module holds construction, dtype rules, properties and the operators;
the math of each operation lives in ``ops/`` and ``functional/``.
"""

import numbers

import numpy as np


class Tensor:
    """An n-dimensional array whose operations are recorded for backprop.

    data: a Python number, a nested list, an ndarray or a Tensor. Python
    numbers and lists become float64; an ndarray keeps its dtype (float32
    stays float32) and is wrapped without a copy, like ``np.asarray``.
    requires_grad: record operations on this tensor, so that ``backward()``
    fills its ``.grad``. Only floating-point tensors can require gradients.
    dtype: convert the data to this dtype first.

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    Tensor([[2., 4.]])
    """

    # _version: the tick of the last in-place change (autograd.mark_changed); _changed_by: its operator
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_version", "_changed_by", "__weakref__")
    __array_ufunc__ = None  # ndarray + Tensor calls Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=False, dtype=None):
        if type(data) is np.ndarray and dtype is None and not requires_grad:
            self.data, self.grad, self.requires_grad, self._ctx, self._version = data, None, False, None, 0
            return  # the common case (wrapping an array), kept fast
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data, dtype=dtype)
        else:
            data = np.array(data, dtype=np.float64 if dtype is None else dtype)
        if requires_grad and data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {data.dtype}; "
                f"convert first, e.g. Tensor(x, dtype=np.float64, requires_grad=True)")
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._ctx = None
        self._version = 0

    # --- properties ---

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        """True for a tensor no recorded operation made (user-created, or made under no_grad)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The Function that made this tensor (None for a leaf)."""
        return self._ctx

    @property
    def T(self):
        """The tensor with its axes reversed, as ndarray.T."""
        return self.transpose()

    # --- conversion ---

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __bool__(self):
        return bool(self.data)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        text = np.array_repr(self.data)
        body = text[len("array("):-1].replace("\n", "\n ")  # "Tensor(" is one wider than "array("
        if self._ctx is not None:
            return f"Tensor({body}, grad_fn=<{type(self._ctx).__name__}>)"
        if self.requires_grad:
            return f"Tensor({body}, requires_grad=True)"
        return f"Tensor({body})"

    __hash__ = object.__hash__  # == compares elements, so restore hashing by identity

    # --- autograd ---

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Backprop from this tensor; gradients accumulate into the leaves' ``.grad``.

        grad: the gradient of some scalar with respect to this tensor (Tensor or
        ndarray of this tensor's shape); optional for a one-element tensor.
        retain_graph: keep the graph for another backward pass through it; by
        default (``create_graph``'s value) the pass frees what the graph saved,
        and a second pass raises RuntimeError, as in PyTorch.
        create_graph: record the backward pass too, for higher derivatives.
        """
        autograd.tensor_backward(self, grad, retain_graph, create_graph)

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        self.grad = None

    def detach(self):
        """A new leaf sharing this tensor's data, cut off from the graph."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (floating-point tensors only) and return self."""
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def clone(self):
        """A copy with its own memory (differentiable)."""
        return ops.Copy.apply(self, dtype=self.dtype)

    def astype(self, dtype):
        """A copy converted to ``dtype`` (differentiable between float dtypes)."""
        return ops.Copy.apply(self, dtype=np.dtype(dtype))

    # --- arithmetic; the other operand may be a Python number, an ndarray or a Tensor ---

    def __add__(self, other):
        return ops.Add.apply(self, _operand(other, self))

    def __radd__(self, other):
        return ops.Add.apply(_operand(other, self), self)

    def __sub__(self, other):
        return ops.Sub.apply(self, _operand(other, self))

    def __rsub__(self, other):
        return ops.Sub.apply(_operand(other, self), self)

    def __mul__(self, other):
        return ops.Mul.apply(self, _operand(other, self))

    def __rmul__(self, other):
        return ops.Mul.apply(_operand(other, self), self)

    def __truediv__(self, other):
        return ops.Div.apply(self, _operand(other, self))

    def __rtruediv__(self, other):
        return ops.Div.apply(_operand(other, self), self)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, _operand(other, self))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(_operand(other, self), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
            raise TypeError(
                f"pow: the exponent must be a real Python number, got {type(exponent).__name__}; "
                f"for a tensor exponent write (y * x.log()).exp()")
        return ops.Pow.apply(self, exponent=exponent)

    # --- in place, for updates such as w -= lr * w.grad (not recorded) ---

    def _in_place(self, ufunc, other):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                f"in-place {ufunc.__name__} on a tensor that requires grad would not be recorded; "
                f"do it under tk.no_grad() (as an optimizer step does), or write x = x - y")
        ufunc(self.data, _raw(other), out=self.data)
        autograd.mark_changed(self, _IN_PLACE_SYMBOLS[ufunc])
        return self

    def __iadd__(self, other):
        return self._in_place(np.add, other)

    def __isub__(self, other):
        return self._in_place(np.subtract, other)

    def __imul__(self, other):
        return self._in_place(np.multiply, other)

    def __itruediv__(self, other):
        return self._in_place(np.true_divide, other)

    # --- comparisons: plain boolean ndarrays, no gradient ---

    def __eq__(self, other):
        return self.data == _raw(other)

    def __ne__(self, other):
        return self.data != _raw(other)

    def __lt__(self, other):
        return self.data < _raw(other)

    def __le__(self, other):
        return self.data <= _raw(other)

    def __gt__(self, other):
        return self.data > _raw(other)

    def __ge__(self, other):
        return self.data >= _raw(other)

    def argmax(self, axis=None):
        """Indices of the maxima along ``axis`` as an ndarray (no gradient)."""
        return np.argmax(self.data, axis=axis)

    # --- elementwise functions ---

    def exp(self):
        return ops.Exp.apply(self)

    def log(self):
        return ops.Log.apply(self)

    def sqrt(self):
        return ops.Sqrt.apply(self)

    def relu(self):
        return ops.ReLU.apply(self)

    def sigmoid(self):
        return ops.Sigmoid.apply(self)

    def tanh(self):
        return ops.Tanh.apply(self)

    # --- reductions ---

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (None: all; an int or a tuple; negative counts from the end)."""
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean over ``axis``, as ``np.mean``."""
        return ops.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum over ``axis``; at ties the gradient is split evenly between the tied entries."""
        return ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum over ``axis``; at ties the gradient is split evenly between the tied entries."""
        return ops.minimum(self, axis, keepdims)

    # --- movement ---

    def reshape(self, *shape):
        """Reshape to ``shape`` (varargs or one tuple; one entry may be -1)."""
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        return ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes):
        """Permute the axes (varargs or one tuple); no axes reverses them, as NumPy."""
        if not axes:
            return ops.Transpose.apply(self, axes=None)
        if len(axes) == 1 and not isinstance(axes[0], numbers.Integral):
            axes = axes[0]
        return ops.Transpose.apply(self, axes=tuple(axes))

    def __getitem__(self, index):
        """Basic slicing and integer-array indexing; repeated indices accumulate their gradients."""
        return ops.GetItem.apply(self, index=_raw_index(index))


_IN_PLACE_SYMBOLS = {np.add: "+=", np.subtract: "-=", np.multiply: "*=", np.true_divide: "/="}


def _operand(value, like):
    """The other operand of a binary op as a Tensor.

    A Python number takes ``like``'s dtype where it fits (float32 * 2.0 stays
    float32, as in NumPy 2); an ndarray keeps its own dtype.
    """
    if isinstance(value, Tensor):
        return value
    kind = type(value)
    if (kind is float or kind is int) and like.data.dtype.kind == "f":
        return _number(value, like.data.dtype)  # the common case, kept fast
    if isinstance(value, (np.ndarray, np.generic)):
        data = np.asarray(value)
    elif isinstance(value, numbers.Number):
        data = np.asarray(value, dtype=np.result_type(like.data.dtype, value))
    else:
        data = np.array(value, dtype=np.float64)  # lists, as in Tensor(...)
    return Tensor(data)


_numbers = {}  # (value, dtype) -> constant Tensor: formulas repeat their numbers (1 - y, x * 0.5)


def _number(value, dtype):
    """A Python number as a read-only 0-d constant Tensor of ``dtype``, made once and reused."""
    key = (value, dtype)  # 2 and 2.0 give the same array of a float dtype
    constant = _numbers.get(key)
    if constant is None:
        with np.errstate(over="ignore"):  # as NumPy's own float32 + 1e300 gives inf
            data = np.array(value, dtype=dtype)
        data.flags.writeable = False
        constant = Tensor(data)
        if not np.isfinite(data) and np.isfinite(value):
            autograd.overflowed_numbers.add(constant)
        elif value and value == value:  # not 0.0 (== -0.0, whose sign matters) and not NaN
            if len(_numbers) >= 1024:
                _numbers.clear()  # a bound for programs that use many different numbers
            _numbers[key] = constant
    return constant


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _raw_index(index):
    """An index with Tensors replaced by their arrays and lists by integer arrays."""
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index) if index else np.zeros(0, dtype=np.intp)  # [] selects nothing
    return index


# ops.py and autograd.py build on Tensor, so they are imported once it exists.
from . import autograd, ops  # noqa: E402
