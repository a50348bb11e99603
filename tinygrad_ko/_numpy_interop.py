"""NumPy's functions on Tensors: keep the graph, or say why not.

``np.exp(t)``, ``np.sum(t, axis=0)``, ``ndarray + t`` ... reach ``Tensor.__array_ufunc__``
and ``Tensor.__array_function__``, which send them here. A function tinygrad_ko
has (the tables below) runs as the Tensor operation and returns a Tensor with
its gradient. Any other function runs on the arrays and returns NumPy's result
when that cannot lose a gradient: no input requires grad (plotting, printing),
grad mode is off, or the result carries none anyway (comparisons, argmax,
shapes). Otherwise it raises TypeError naming the function and what to call
instead, rather than hand back an array that silently dropped the graph.
"""

import operator

import numpy as np

from . import ops
from .autograd import is_grad_enabled
from .tensor import Tensor, _operand


class _Unsupported(Exception):
    """A handler met an argument it cannot honour (dtype=, out=, order=...)."""


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _binary(op):
    def handler(x, y):
        if isinstance(x, Tensor):
            return op(x, _operand(y, x))
        return op(_operand(x, y), y)  # x + Tensor would call np.add again: make x a Tensor first
    return handler


def _power(x, y):
    return x ** y if isinstance(x, Tensor) else _operand(x, y) ** y


def _method(name):
    return lambda x: getattr(_tensor(x), name)()


_UFUNCS = {
    np.add: _binary(operator.add), np.subtract: _binary(operator.sub),
    np.multiply: _binary(operator.mul), np.true_divide: _binary(operator.truediv),
    np.matmul: _binary(operator.matmul), np.power: _power,
    np.floor_divide: _binary(operator.floordiv), np.remainder: _binary(operator.mod),
    np.maximum: ops.maximum, np.minimum: ops.minimum,
    np.negative: operator.neg, np.positive: operator.pos, np.absolute: _method("abs"),
    np.exp: _method("exp"), np.log: _method("log"), np.sqrt: _method("sqrt"), np.tanh: _method("tanh"),
    np.sin: _method("sin"), np.cos: _method("cos"), np.log1p: _method("log1p"), np.expm1: _method("expm1"),
    np.square: _method("square"), np.reciprocal: _method("reciprocal"), np.sign: _method("sign"),
}
_UFUNC_REDUCTIONS = {np.add: "sum", np.multiply: "prod", np.maximum: "max", np.minimum: "min"}

# Results with no gradient to lose: booleans and step functions.
_VALUE_ONLY_UFUNCS = {
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.logical_and, np.logical_or, np.logical_xor,
    np.logical_not, np.floor, np.ceil, np.trunc, np.rint,
}


def array_ufunc(ufunc, method, inputs, kwargs):
    """Tensor.__array_ufunc__: a ufunc called with a Tensor among its inputs."""
    out = kwargs.get("out")
    if out is not None and any(o is not None for o in out):
        return _into_arrays(ufunc, method, inputs, kwargs)
    kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    if method == "__call__" and not kwargs and ufunc in _UFUNCS:
        return _UFUNCS[ufunc](*inputs)
    if method == "reduce" and ufunc in _UFUNC_REDUCTIONS and set(kwargs) <= {"axis", "keepdims"}:
        name = _UFUNC_REDUCTIONS[ufunc]
        return getattr(_tensor(inputs[0]), name)(axis=kwargs.get("axis", 0), keepdims=kwargs.get("keepdims", False))
    if method == "accumulate" and ufunc is np.add and set(kwargs) <= {"axis"}:
        return _tensor(inputs[0]).cumsum(axis=kwargs.get("axis", 0))
    name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    if ufunc in _VALUE_ONLY_UFUNCS or not _records_grad(inputs):
        return getattr(ufunc, method)(*_arrays(inputs), **_arrays(kwargs))
    known = ufunc in _UFUNCS or ufunc in _UFUNC_REDUCTIONS
    reason = f"{', '.join(kwargs)}= not supported on Tensors" if known and kwargs else ""
    raise TypeError(_drop_message(name, reason))


def _into_arrays(ufunc, method, inputs, kwargs):
    """A ufunc with out=: NumPy writes the values into the caller's ndarrays (as a += t does)."""
    if any(isinstance(o, Tensor) for o in kwargs["out"]):
        raise TypeError(
            f"np.{ufunc.__name__}(..., out=<Tensor>): NumPy cannot write into a Tensor; use the "
            f"operators (t += x, under tk.no_grad() for a tensor that requires grad) or write into t.data")
    return getattr(ufunc, method)(*_arrays(inputs), **_arrays(kwargs))


# --- NumPy functions (__array_function__) ---


def _plain(**given):
    """Raise _Unsupported if any of these NumPy arguments was given a value other than its default."""
    for name, value in given.items():
        if value is not None:
            raise _Unsupported(f"{name}= is not supported on Tensors")


def _reduction(method):
    def handler(a, axis=None, dtype=None, out=None, keepdims=False, **rest):
        _plain(dtype=dtype, out=out, **rest)
        return getattr(_tensor(a), method)(axis=axis, keepdims=bool(keepdims))
    return handler


def _spread(method):
    def handler(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None, **rest):
        _plain(dtype=dtype, out=out, **rest)
        return getattr(_tensor(a), method)(axis=axis, keepdims=bool(keepdims),
                                           ddof=ddof if correction is None else correction)
    return handler


def _cumsum(a, axis=None, dtype=None, out=None):
    _plain(dtype=dtype, out=out)
    return _tensor(a).cumsum(axis)


def _transpose(a, axes=None):
    return _tensor(a).transpose() if axes is None else _tensor(a).transpose(tuple(axes))


def _reshape(a, shape=None, order="C", newshape=None, copy=None):
    _plain(order=None if order == "C" else order, copy=copy)
    return _tensor(a).reshape(newshape if shape is None else shape)


def _ravel(a, order="C"):
    _plain(order=None if order == "C" else order)
    return _tensor(a).reshape(-1)


def _copy(a, order="K", subok=False):
    return _tensor(a).copy()


def _squeeze(a, axis=None):
    return _tensor(a).squeeze(axis)


def _expand_dims(a, axis):
    return _tensor(a).expand_dims(axis)


def _swapaxes(a, axis1, axis2):
    return _tensor(a).swapaxes(axis1, axis2)


def _broadcast_to(array, shape, subok=False):
    return _tensor(array).broadcast_to(shape)


def _tile(A, reps):  # noqa: N803 (NumPy's argument name)
    return _tensor(A).tile(reps)


def _concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    _plain(out=out, dtype=dtype, casting=casting)
    return ops.concatenate([_tensor(a) for a in arrays], axis)


def _stack(arrays, axis=0, out=None, dtype=None, casting=None):
    _plain(out=out, dtype=dtype, casting=casting)
    return ops.stack([_tensor(a) for a in arrays], axis)


_NO_VALUE = object()


def _clip(a, a_min=_NO_VALUE, a_max=_NO_VALUE, out=None, *, min=_NO_VALUE, max=_NO_VALUE, **rest):  # noqa: A002
    _plain(out=out, **rest)
    lo = min if a_min is _NO_VALUE else a_min
    hi = max if a_max is _NO_VALUE else a_max
    return ops.clip(_tensor(a), None if lo is _NO_VALUE else lo, None if hi is _NO_VALUE else hi)


def _where(condition, x=_NO_VALUE, y=_NO_VALUE):
    if x is _NO_VALUE and y is _NO_VALUE:
        return np.where(_arrays(condition))  # the indices of the true entries: no gradient
    return ops.where(condition, x, y)


def _dot(a, b, out=None):
    _plain(out=out)
    a, b = (a, _operand(b, a)) if isinstance(a, Tensor) else (_operand(a, b), b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        raise _Unsupported("np.dot of arrays with more than 2 dimensions differs from @; use a @ b "
                           "(batched, as np.matmul)")
    return a @ b


_FUNCTIONS = {
    np.sum: _reduction("sum"), np.mean: _reduction("mean"), np.prod: _reduction("prod"),
    np.max: _reduction("max"), np.min: _reduction("min"), np.amax: _reduction("max"), np.amin: _reduction("min"),
    np.var: _spread("var"), np.std: _spread("std"), np.cumsum: _cumsum,
    np.transpose: _transpose, np.reshape: _reshape, np.ravel: _ravel, np.copy: _copy,
    np.squeeze: _squeeze, np.expand_dims: _expand_dims, np.swapaxes: _swapaxes,
    np.broadcast_to: _broadcast_to, np.tile: _tile, np.concatenate: _concatenate, np.stack: _stack,
    np.clip: _clip, np.where: _where, np.dot: _dot,
}

# Results with no gradient to lose: shapes, indices, truth values, files and text.
_VALUE_ONLY = {getattr(np, name) for name in (
    "shape ndim size argmax argmin argsort argwhere nonzero flatnonzero count_nonzero all any allclose "
    "isclose array_equal array_equiv searchsorted digitize bincount histogram histogram_bin_edges "
    "may_share_memory shares_memory result_type can_cast iscomplexobj isrealobj round around "
    "save savez savez_compressed savetxt array2string array_repr array_str").split() if hasattr(np, name)}

_HINTS = {
    "np.linalg.norm": "use (t ** 2).sum().sqrt() (or t.abs().sum(), t.abs().max() for other norms)",
    "np.log2": "use t.log() / math.log(2)",
    "np.log10": "use t.log() / math.log(10)",
    "np.split": "use tk.split(t, size_or_sizes, axis) (piece sizes, as torch.split)",
    "np.average": "use t.mean(axis) or (t * w).sum(axis) / w.sum(axis)",
    "np.outer": "use a.reshape(-1, 1) * b.reshape(1, -1)",
    "np.einsum": "use @, transpose, reshape and sum",
    "np.logaddexp": "use tk.stack([a, b]).logsumexp(axis=0)",
    "np.dot": "use a @ b",
}


def array_function(func, types, args, kwargs):
    """Tensor.__array_function__: a NumPy function called with a Tensor among its arguments."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented  # another library's array: let it answer
    handler = _FUNCTIONS.get(func)
    reason = ""
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except _Unsupported as unsupported:
            reason = str(unsupported)
    if func in _VALUE_ONLY or not _records_grad(args, kwargs):
        return func(*_arrays(args), **_arrays(kwargs))
    raise TypeError(_drop_message(_numpy_name(func), reason))


def _numpy_name(func):
    module = getattr(func, "__module__", None) or "numpy"
    prefix = "np" if module == "numpy" or module.startswith("numpy._") else module.replace("numpy", "np", 1)
    return f"{prefix}.{func.__name__}"


def _drop_message(name, reason):
    if reason:
        hint = f"call {name} without that argument"
    else:
        hint = _HINTS.get(name) or "use the Tensor methods and tk.functional (tinygrad_ko has no such op)"
    return (f"{name} on a Tensor that requires grad would drop the graph"
            f"{f' ({reason})' if reason else ''}: {hint}; or, for a value without gradient, call "
            f"{name} on t.numpy() (or t.detach())")


def _records_grad(args, kwargs=None):
    """True when an operation on these arguments should be recorded (a Tensor in them requires grad)."""
    if not is_grad_enabled():
        return False
    found = [False]

    def visit(value):
        if isinstance(value, Tensor):
            found[0] = found[0] or value.requires_grad
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)

    visit(args)
    if kwargs:
        visit(list(kwargs.values()))
    return found[0]


def _arrays(value):
    """value with every Tensor (also inside lists, tuples and dicts) replaced by its ndarray."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return value
