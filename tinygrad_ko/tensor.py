"""Tensor: an ndarray that remembers the operation that made it.

This module holds construction, dtype rules, properties and the operators;
the math of each operation lives in ``ops/`` and ``functional/``.
"""

import numbers

import numpy as np

from ._checks import one_axis


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

    def __init__(self, data, requires_grad=False, dtype=None):
        if type(data) is np.ndarray and dtype is None and not requires_grad and data.dtype in _NATIVE_REAL:
            self.data, self.grad, self.requires_grad, self._ctx, self._version = data, None, False, None, 0
            return  # the common case (wrapping an array), kept fast
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data, dtype=dtype)
        else:
            data = _from_python(data, dtype)
        kind = data.dtype.kind
        if kind not in "biufc":
            raise TypeError(_not_real_message(data.dtype))
        if requires_grad and kind != "f":
            raise TypeError(_float_only_message(data.dtype))
        if kind == "c":
            raise TypeError(_not_real_message(data.dtype))
        if not data.dtype.isnative:  # big-endian data (from a file or another machine): our byte order
            data = data.astype(data.dtype.newbyteorder("="))
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

    # NumPy's functions on a Tensor (np.exp(t), np.sum(t), ndarray + t) run as Tensor operations
    # and keep the graph, or raise TypeError saying what to call (see _numpy_interop).

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _numpy_interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _numpy_interop.array_function(func, types, args, kwargs)

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
            raise TypeError(_float_only_message(self.dtype))
        self.requires_grad = requires_grad
        return self

    def clone(self):
        """A copy with its own memory (differentiable)."""
        return ops.Copy.apply(self, dtype=self.dtype)

    def copy(self):
        """A copy with its own memory (differentiable), as ``clone()`` and ``ndarray.copy()``."""
        return ops.Copy.apply(self, dtype=self.dtype)

    def astype(self, dtype):
        """A copy converted to ``dtype`` (differentiable between float dtypes)."""
        dtype = np.dtype(dtype)
        if dtype not in _NATIVE_REAL:
            if dtype.kind not in "biuf":
                raise TypeError(_not_real_message(dtype, "astype"))
            dtype = dtype.newbyteorder("=")  # '>f8' gives float64 values in this machine's byte order
        return ops.Copy.apply(self, dtype=dtype)

    def float(self):
        """This tensor as float32: itself if it is float32 already (as PyTorch), else a converted copy."""
        return self if self.dtype == np.float32 else self.astype(np.float32)

    def double(self):
        """This tensor as float64: itself if it is float64 already (as PyTorch), else a converted copy."""
        return self if self.dtype == np.float64 else self.astype(np.float64)

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
        return ops.Positive.apply(self)

    def __abs__(self):
        return ops.Abs.apply(self)

    def __pow__(self, exponent):
        if isinstance(exponent, numbers.Real):
            return ops.Pow.apply(self, exponent=exponent)  # a constant exponent: the cheaper op
        return ops.PowTensor.apply(self, _operand(exponent, self))

    def __rpow__(self, base):
        return ops.PowTensor.apply(_operand(base, self), self)

    # // and % are step functions: plain results that do not require grad (their slope is 0 or 1)

    def __floordiv__(self, other):
        return Tensor(np.floor_divide(self.data, _operand(other, self).data))

    def __rfloordiv__(self, other):
        return Tensor(np.floor_divide(_operand(other, self).data, self.data))

    def __mod__(self, other):
        return Tensor(np.remainder(self.data, _operand(other, self).data))

    def __rmod__(self, other):
        return Tensor(np.remainder(_operand(other, self).data, self.data))

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
        return np.argmax(self.data, axis=_arg_axis(axis, self.shape, "argmax"))

    def argmin(self, axis=None):
        """Indices of the minima along ``axis`` as an ndarray (no gradient)."""
        return np.argmin(self.data, axis=_arg_axis(axis, self.shape, "argmin"))

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

    def abs(self):
        return ops.Abs.apply(self)

    def sign(self):
        """-1, 0 or 1 elementwise; its gradient is 0."""
        return ops.Sign.apply(self)

    def square(self):
        return ops.Square.apply(self)

    def reciprocal(self):
        return ops.Reciprocal.apply(self)

    def sin(self):
        return ops.Sin.apply(self)

    def cos(self):
        return ops.Cos.apply(self)

    def log1p(self):
        """log(1 + x), accurate for small x."""
        return ops.Log1p.apply(self)

    def expm1(self):
        """exp(x) - 1, accurate for small x."""
        return ops.Expm1.apply(self)

    def clip(self, min=None, max=None):  # noqa: A002 (PyTorch's names)
        """Limit to [min, max] (either may be None); gradient 1 inside, bounds included, else 0."""
        return ops.clip(self, min, max)

    def maximum(self, other):
        """Elementwise maximum with ``other``; ties split the gradient 1/2 each, as PyTorch."""
        return ops.maximum(self, other)

    def minimum(self, other):
        """Elementwise minimum with ``other``; ties split the gradient 1/2 each, as PyTorch."""
        return ops.minimum(self, other)

    def where(self, condition, other):
        """self where ``condition`` is true, else ``other``, as ``torch.Tensor.where``."""
        return ops.where(condition, self, other)

    def leaky_relu(self, negative_slope=0.01):
        return ops.LeakyReLU.apply(self, negative_slope=negative_slope)

    def elu(self, alpha=1.0):
        return ops.ELU.apply(self, alpha=alpha)

    def gelu(self, approximate="none"):
        """x * Phi(x); ``approximate="tanh"`` for the tanh formula, as PyTorch."""
        return ops.GELU.apply(self, approximate=approximate)

    def softplus(self, beta=1.0, threshold=20.0):
        """log(1 + exp(beta x)) / beta, and x where beta x > threshold, as PyTorch."""
        return ops.Softplus.apply(self, beta=beta, threshold=threshold)

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
        return ops.reduce_min(self, axis, keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance over ``axis``, as ``np.var`` (ddof=0; PyTorch's default is ddof=1)."""
        return ops.Var.apply(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        """Standard deviation over ``axis``, as ``np.std``; gradient 0 where it is 0, as PyTorch."""
        return ops.Std.apply(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def prod(self, axis=None, keepdims=False):
        """Product over ``axis``; exact gradients at zeros (nothing is divided)."""
        return ops.Prod.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        return ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        """Running sum along ``axis`` (None: of the flattened tensor, as NumPy)."""
        if axis is None:
            return ops.Cumsum.apply(self.reshape(-1), axis=0)
        return ops.Cumsum.apply(self, axis=axis)

    # --- movement ---

    def reshape(self, *shape):
        """Reshape to ``shape`` (varargs or one tuple; one entry may be -1)."""
        return ops.Reshape.apply(self, shape=_shape_arg(shape))

    def transpose(self, *axes):
        """Permute the axes (varargs or one tuple); no axes reverses them, as NumPy."""
        if not axes:
            return ops.Transpose.apply(self, axes=None)
        if len(axes) == 1 and not isinstance(axes[0], numbers.Integral):
            axes = axes[0]
        return ops.Transpose.apply(self, axes=tuple(axes))

    def squeeze(self, axis=None):
        """Remove size-1 axes (None: all), as ``np.squeeze``; naming an axis of another size is an error."""
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis):
        """Insert a size-1 axis at position ``axis`` of the result, as ``torch.unsqueeze``."""
        return ops.expand_dims(self, axis, "unsqueeze")

    def expand_dims(self, axis):
        """Insert size-1 axes (an int or a tuple of positions in the result), as ``np.expand_dims``."""
        return ops.expand_dims(self, axis)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge the axes start_dim..end_dim into one, as ``torch.flatten`` (all of them by default)."""
        return ops.flatten(self, start_dim, end_dim)

    def broadcast_to(self, *shape):
        """A read-only view broadcast to ``shape`` (varargs or a tuple); gradients are summed back."""
        return ops.BroadcastTo.apply(self, shape=_shape_arg(shape))

    def sum_to(self, *shape):
        """Sum down to ``shape``, which must broadcast to this tensor's shape (the reverse of broadcast_to)."""
        return ops.sum_to(self, _shape_arg(shape))

    def swapaxes(self, axis0, axis1):
        return ops.swapaxes(self, axis0, axis1)

    def permute(self, *dims):
        """Reorder the axes (varargs or a tuple), as ``torch.permute``."""
        return self.transpose(*dims)

    def repeat(self, *sizes):
        """PyTorch's repeat, i.e. NumPy's tile: ``x.repeat(2, 1)`` stacks two copies along axis 0.
        (NumPy's element-wise ``np.repeat`` is another operation.)"""
        return ops.repeat(self, _shape_arg(sizes))

    def tile(self, *reps):
        """np.tile: repeat along each axis (varargs or a tuple; fewer reps than axes are padded with 1s)."""
        return ops.tile(self, _shape_arg(reps))

    def __getitem__(self, index):
        """Basic slicing and integer-array indexing; repeated indices accumulate their gradients."""
        return ops.GetItem.apply(self, index=_raw_index(index))


_IN_PLACE_SYMBOLS = {np.add: "+=", np.subtract: "-=", np.multiply: "*=", np.true_divide: "/="}

_NUMBERS_ONLY = ("tinygrad_ko computes with numbers: pass a number, a (nested) list of numbers, a numeric "
                 "ndarray or a Tensor (convert strings first, e.g. float(\"1.5\"))")


# The dtypes a Tensor holds as they are: bool, ints, floats, in this machine's byte order.
_NATIVE_REAL = frozenset(np.dtype(code) for code in "?bhilqpBHILQPefdg")


def _not_real_message(dtype, where="Tensor"):
    """Why a Tensor cannot hold ``dtype`` (named as given, e.g. '>c16') and what to pass instead."""
    if dtype.kind == "c":
        return (f"{where}: cannot hold complex values (dtype {dtype}): tinygrad_ko computes with real numbers; "
                f"pass the real part (x.real) or the magnitude (np.abs(x))")
    return f"{where}: cannot hold values of dtype {dtype}; {_NUMBERS_ONLY}"


def _float_only_message(dtype):
    if dtype.kind == "c":
        return (f"only floating-point tensors can require gradients, got dtype {dtype}: tinygrad_ko "
                f"differentiates real numbers only; pass the real part (x.real) or the magnitude (np.abs(x))")
    return (f"only floating-point tensors can require gradients, got dtype {dtype}; "
            f"convert first, e.g. Tensor(x, dtype=np.float64, requires_grad=True)")


def _arg_axis(axis, shape, op):
    """argmax's and argmin's axis: None (the flattened tensor) or one int in range, else a clear error."""
    if axis is None:
        return None
    return one_axis(axis, len(shape), op, shape)


def _from_python(data, dtype):
    """A Python number or (nested) list as an ndarray: float64 unless ``dtype`` says otherwise."""
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} {data!r}; {_NUMBERS_ONLY}")
    array = np.array(data)
    kind = array.dtype.kind
    if kind == "O":  # a mix: None or strings inside a list, or ints too large for int64
        for item in array.flat:
            if not isinstance(item, numbers.Number) or isinstance(item, complex):
                raise TypeError(
                    f"Tensor: cannot make a tensor from a list holding {type(item).__name__} {item!r}; "
                    f"{_NUMBERS_ONLY}")
    elif kind in "SUV":
        raise TypeError(f"Tensor: cannot make a tensor from {array.dtype} values such as "
                        f"{array.flat[0]!r}; {_NUMBERS_ONLY}")
    elif kind == "c" and np.dtype(np.float64 if dtype is None else dtype).kind != "c":
        raise TypeError("Tensor: Python complex numbers are not supported (Python numbers become "
                        "float64); pass the real part (z.real) or the magnitude (abs(z))")
    return array.astype(np.float64 if dtype is None else dtype, copy=False)


def _shape_arg(args):
    """Varargs ``(2, 3)`` or a single tuple ``((2, 3),)`` as one tuple, as reshape takes them."""
    if len(args) == 1 and not isinstance(args[0], numbers.Integral):
        if isinstance(args[0], (str, bytes)) or not hasattr(args[0], "__iter__"):
            return args  # one size of the wrong type (6.0, "6"): the op's check names it
        return tuple(args[0])
    return args


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
        if data.dtype.kind not in "biufc":
            raise TypeError(f"a Tensor cannot be combined with an array of dtype {data.dtype}; {_NUMBERS_ONLY}")
        if data.dtype.kind == "c":
            which = "a Tensor that requires grad" if like.requires_grad else "a Tensor"
            raise TypeError(f"{which} cannot be combined with complex values (dtype {data.dtype}): tinygrad_ko "
                            f"computes with real numbers; use the real part (z.real) or the magnitude (np.abs(z))")
        return Tensor(data)
    if isinstance(value, complex):
        raise TypeError(f"a Tensor cannot be combined with the complex number {value!r}: tinygrad_ko "
                        f"computes with real numbers; use the real part (z.real) or the magnitude (abs(z))")
    if isinstance(value, numbers.Number):
        return Tensor(np.asarray(value, dtype=np.result_type(like.data.dtype, value)))
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"a Tensor cannot be combined with {type(value).__name__} {value!r}; {_NUMBERS_ONLY}")
    return Tensor(value)  # lists, as in Tensor(...)


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
        if index.dtype.kind in "fc":
            raise IndexError(
                f"getitem: an index tensor must hold integers or booleans, got dtype {index.dtype}; "
                f"make it with an integer dtype (tk.Tensor(np.array([0, 2])), tk.arange(n, dtype=int)) "
                f"or convert it with .astype(int)")
        return index.data
    if isinstance(index, list):
        return np.asarray(index) if index else np.zeros(0, dtype=np.intp)  # [] selects nothing
    return index


# ops.py and autograd.py build on Tensor, so they are imported once it exists.
from . import _numpy_interop, autograd, ops  # noqa: E402
