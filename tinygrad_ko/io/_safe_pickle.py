"""A restricted unpickler for the book's weight files: plain data and NumPy arrays, nothing else.

A NumPy array in a pickle is three calls and two ``BUILD`` steps::

    _reconstruct(ndarray, (0,), b"b")              -> an empty array ...
        .__setstate__((1, shape, dtype, is_fortran, raw_bytes))
    dtype("f4", False, True)                       -> its dtype ...
        .__setstate__((3, "<", None, None, None, -1, -1, 0))

Here each name the file may use maps to a stand-in of ours: ``_reconstruct`` and
``dtype`` return placeholders whose ``__setstate__`` checks the state and builds a
plain ``ndarray`` from the bytes, so neither NumPy's ``__setstate__`` (which would
accept object arrays) nor any other callable is ever reached from the file. Before
unpickling, the opcodes are walked without running any (``pickletools.genops``), so
that a length, a memo index or a global name that the unpickler would act on is
checked first.
"""

import io
import math
import pickle
import pickletools
import re

import numpy as np


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for something other than plain data and NumPy arrays; nothing in
    it was run. The message names the refused global ("module.name") or opcode.

    >>> import pickle
    >>> import tinygrad_ko as tk
    >>> issubclass(tk.UnsafePickleError, pickle.UnpicklingError)
    True
    """


# The opcodes that plain data, NumPy arrays and their dtypes need (protocols 0 to 5).
# Refused: INST, OBJ, NEWOBJ(_EX) (class instances), PERSID, BINPERSID, EXT1/2/4,
# sets, DUP, and the out-of-band buffers of protocol 5.
_OPCODES = frozenset("""
    PROTO FRAME STOP MARK POP POP_MARK PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET
    NONE NEWTRUE NEWFALSE INT BININT BININT1 BININT2 LONG LONG1 LONG4 FLOAT BINFLOAT
    STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE BINUNICODE8
    BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8
    EMPTY_LIST APPEND APPENDS LIST EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3
    EMPTY_DICT DICT SETITEM SETITEMS GLOBAL STACK_GLOBAL REDUCE BUILD
""".split())

_DTYPE_NAME = re.compile(r"[biufc][0-9]{1,2}")  # 'f4', 'i8', 'b1', 'c16': plain numbers only
_MAX_DIMS = 64
_MAX_OPCODES = 1_000_000  # the book's biggest file has about 600; each costs the scan ~1 us


class _OverLimit(ValueError):
    """The file's arrays need more than max_bytes: a limit reached, not a damaged file."""


class _Budget:
    """Bytes of arrays built so far, against max_bytes (a memoised buffer can be reused)."""

    def __init__(self, max_bytes):
        self.max_bytes, self.used = max_bytes, 0

    def take(self, nbytes, what):
        if self.used + nbytes > self.max_bytes:
            raise _OverLimit(
                f"{what} needs {nbytes:,} bytes, which takes the file's arrays over the limit of "
                f"{self.max_bytes:,} bytes (max_bytes); if you trust this file, pass a larger "
                f"max_bytes")
        self.used += nbytes


class _Stand:
    """What a global name of the file becomes: callable only as our checked stand-in,
    and never a target of BUILD (which would set attributes on it)."""

    __slots__ = ("name", "call")

    def __init__(self, name, call):
        self.name, self.call = name, call

    def __call__(self, *args):
        return self.call(*args)

    def __setstate__(self, state):
        raise UnsafePickleError(f"refused: the pickle tries to change {self.name}")


class _DtypeSpec:
    """A dtype the file asked for: a plain numeric type, with its byte order once BUILD says it."""

    __slots__ = ("dtype", "built")

    def __init__(self, dtype):
        self.dtype, self.built = dtype, False

    def __setstate__(self, state):
        if self.built or not isinstance(state, tuple) or len(state) not in (8, 9):
            raise ValueError(f"a dtype has an unexpected state {_short(state)}")
        version, order, subarray, names, fields = state[:5]
        if version not in (3, 4) or order not in ("<", ">", "|", "="):
            raise ValueError(f"a dtype has an unexpected state {_short(state)}")
        if (subarray, names, fields) != (None, None, None) or state[8:] not in ((), (None,)):
            raise UnsafePickleError(
                f"refused: a structured dtype {_short(state)}; only plain numeric dtypes load")
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)
        self.built = True


class _ArraySpec:
    """An array the file asked for; ``array`` is set once BUILD gives its state."""

    __slots__ = ("array", "budget")

    def __init__(self, budget):
        self.array, self.budget = None, budget

    def __setstate__(self, state):
        if self.array is not None or not isinstance(state, tuple) or len(state) not in (4, 5):
            raise ValueError(f"an array has an unexpected state {_short(state)}")
        if len(state) == 5:
            if state[0] != 1:
                raise ValueError(f"an array has an unexpected state version {_short(state[0])}")
            state = state[1:]
        shape, dtype, is_fortran, raw = state
        self.array = _build_array(raw, dtype, shape, "F" if is_fortran else "C", None, self.budget)


def _short(value, depth=0):
    """A short repr for messages, which never builds the repr of a huge value."""
    if isinstance(value, (str, bytes, bytearray)) and len(value) > 40:
        return f"<{type(value).__name__} of length {len(value):,}>"
    if isinstance(value, int) and value.bit_length() > 64:
        return f"<int of {value.bit_length():,} bits>"
    if isinstance(value, (tuple, list, dict)):
        if depth == 2 or isinstance(value, dict):
            return f"<{type(value).__name__} of length {len(value):,}>"
        items = [_short(item, depth + 1) for item in value[:6]] + (["..."] if len(value) > 6 else [])
        return ("({})" if isinstance(value, tuple) else "[{}]").format(", ".join(items))
    return repr(value)[:80]


def _make_dtype(name, align=False, copy=False):
    """The file's ``numpy.dtype(name, align, copy)``, for plain numeric names only."""
    if not isinstance(name, str) or not _DTYPE_NAME.fullmatch(name):
        raise UnsafePickleError(
            f"refused: dtype {_short(name)}; only plain numeric dtypes (bool, int, float, complex) "
            f"load, never Python objects ('O') or structured types")
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        raise ValueError(f"unknown dtype {name!r}") from None
    return _DtypeSpec(dtype)


def _check_shape(shape):
    if (not isinstance(shape, tuple) or len(shape) > _MAX_DIMS
            or not all(type(n) is int and 0 <= n < 2**63 for n in shape)):
        raise ValueError(f"an array has an invalid shape {_short(shape)}")


def _build_array(raw, dtype, shape, order, axis_order, budget):
    """A new plain ndarray (native byte order, C order) from the file's bytes, after checks."""
    if not isinstance(dtype, _DtypeSpec):
        raise ValueError(f"an array's dtype is {_short(dtype)}, not a NumPy dtype")
    _check_shape(shape)
    dtype = dtype.dtype
    if isinstance(raw, str):  # Python 2 pickles hold the bytes as a latin-1 str
        raw = raw.encode("latin-1")
    if not isinstance(raw, (bytes, bytearray)):
        raise UnsafePickleError(
            f"refused: an array whose data is a {type(raw).__name__}, not bytes (an object array)")
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: cannot overflow
    what = f"an array of shape {shape} and dtype {dtype}"
    budget.take(nbytes, what)  # before anything is allocated
    if nbytes != len(raw):
        raise ValueError(f"{what} needs {nbytes:,} bytes but the file holds {len(raw):,} for it")
    flat = np.frombuffer(raw, dtype=dtype)
    if axis_order is not None:  # NumPy's order="K": C-order data of shape, then transposed
        array = flat.reshape(shape).transpose(axis_order)
    else:
        array = flat.reshape(shape, order=order)
    return np.array(array, dtype=dtype.newbyteorder("="), order="C")  # a copy: writable, our own


def _reconstruct(budget, cls, shape, typecode):
    """The file's ``numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')``."""
    if cls is not _NDARRAY:
        name = cls.name if isinstance(cls, _Stand) else type(cls).__name__
        raise UnsafePickleError(
            f"refused: an array of class {name}; only numpy.ndarray loads, no subclass")
    if shape != (0,) or typecode not in (b"b", "b"):
        raise ValueError(f"unexpected arguments to _reconstruct: {_short((shape, typecode))}")
    return _ArraySpec(budget)


def _frombuffer(budget, buffer, dtype, shape, order, axis_order=None):
    """The file's ``numpy.core.numeric._frombuffer`` (NumPy's protocol-5 pickles)."""
    if order not in ("C", "F", "K") or (order == "K") != (axis_order is not None):
        raise ValueError(f"unexpected array order {_short((order, axis_order))}")
    _check_shape(shape)
    if axis_order is not None and (not isinstance(axis_order, tuple)
                                   or sorted(axis_order) != list(range(len(shape)))):
        raise ValueError(f"invalid axis order {_short(axis_order)}")
    spec = _ArraySpec(budget)
    spec.array = _build_array(buffer, dtype, shape, order, axis_order, budget)
    return spec


def _encode(budget, text, encoding):
    """The file's ``_codecs.encode(text, 'latin1')``: how protocols 0-2 store bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError(f"unexpected arguments to _codecs.encode: {_short((text, encoding))}")
    budget.take(len(text), "a byte string")
    return text.encode("latin-1")


def _empty_bytes(*args):
    """The file's ``bytes()``: how protocols 0-2 store an empty byte string."""
    if args:
        raise ValueError(f"unexpected arguments to bytes: {_short(args)}")
    return b""


_NDARRAY = _Stand("numpy.ndarray", lambda *args: _not_callable("numpy.ndarray"))


def _not_callable(name):
    raise UnsafePickleError(f"refused: the pickle calls {name} directly")


# The globals a book weight file may name (NumPy 1.x's and 2.x's spellings; _codecs.encode
# and bytes are how protocols 0-2 store bytes; _frombuffer is protocol 5), each with the
# stand-in it becomes, given the file's byte budget.
_GLOBALS = {
    "numpy.ndarray": lambda budget: _NDARRAY,
    "numpy.dtype": lambda budget: _make_dtype,
    "numpy.core.multiarray._reconstruct": lambda budget: lambda *a: _reconstruct(budget, *a),
    "numpy._core.multiarray._reconstruct": lambda budget: lambda *a: _reconstruct(budget, *a),
    "numpy.core.numeric._frombuffer": lambda budget: lambda *a: _frombuffer(budget, *a),
    "numpy._core.numeric._frombuffer": lambda budget: lambda *a: _frombuffer(budget, *a),
    "_codecs.encode": lambda budget: lambda *a: _encode(budget, *a),
    "__builtin__.bytes": lambda budget: _empty_bytes,
    "builtins.bytes": lambda budget: _empty_bytes,
}


class _BookUnpickler(pickle.Unpickler):
    def __init__(self, file, budget):
        super().__init__(file, encoding="latin1")  # latin1: Python 2 byte strings stay intact
        self._budget = budget

    def find_class(self, module, name):
        full = f"{module}.{name}"
        if full not in _GLOBALS:
            raise UnsafePickleError(_refused_global(full))
        stand = _GLOBALS[full](self._budget)
        return stand if isinstance(stand, _Stand) else _Stand(full, stand)

    def persistent_load(self, pid):
        raise UnsafePickleError("refused: a persistent id")


def _refused_global(full):
    return (f"refused global {_short(full)}: a parameter file may name only numpy.ndarray, "
            f"numpy.dtype and numpy.core.multiarray._reconstruct; nothing in the file was run")


def _scan(data):
    """Walk the opcodes without running any: refuse unknown ones and foreign GLOBALs, and
    check every size the file declares before the unpickler would allocate for it."""
    end, memo_size = None, 0
    for count, (op, arg, pos) in enumerate(pickletools.genops(data)):  # lengths checked here
        if count == _MAX_OPCODES:
            raise ValueError(f"more than {_MAX_OPCODES:,} pickle operations; a parameter file "
                             f"needs a few dozen per array")
        if op.name not in _OPCODES:
            raise UnsafePickleError(f"refused: pickle opcode {op.name} at byte {pos}; only plain data "
                                    f"and NumPy arrays load, nothing in the file was run")
        if op.name == "GLOBAL" and arg.replace(" ", ".", 1) not in _GLOBALS:
            raise UnsafePickleError(_refused_global(arg.replace(" ", ".", 1)))
        # The unpickler sizes its memo by the largest index; a pickler numbers them 0, 1, 2...
        if op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            if arg > memo_size:
                raise ValueError(f"memo index {arg:,} at byte {pos} skips ahead of the "
                                 f"{memo_size:,} entries stored so far")
            memo_size = max(memo_size, arg + 1)
        elif op.name == "MEMOIZE":
            memo_size += 1
        elif op.name == "STOP":
            end = pos + 1
    if end != len(data):
        raise ValueError(f"{len(data) - end:,} extra bytes after the end of the pickle")


def unpickle_params(data, where, max_bytes):
    """The dict name -> ndarray pickled in ``data`` (the bytes of the file ``where``)."""
    try:
        _scan(data)
        params = _BookUnpickler(io.BytesIO(data), _Budget(max_bytes)).load()
    except UnsafePickleError as e:
        raise UnsafePickleError(f"cannot load {where}: {e}") from None
    except _OverLimit as e:
        raise ValueError(f"cannot load {where}: {e}") from None
    except (ValueError, EOFError, pickle.UnpicklingError) as e:
        raise ValueError(f"cannot load {where}: not a valid parameter file (truncated, corrupt "
                         f"or crafted): {e}") from None
    except (TypeError, AttributeError, IndexError, KeyError, RecursionError) as e:
        # e.g. REDUCE on something that is not callable: a malformed or crafted file
        raise ValueError(f"cannot load {where}: not a valid parameter file (truncated, corrupt "
                         f"or crafted): {type(e).__name__}: {e}") from None
    return _check_params(params, where)


def _check_params(params, where):
    if not isinstance(params, dict):
        raise ValueError(f"cannot load {where}: it holds a {type(params).__name__}, not a dict of "
                         f"name -> array (the book's params)")
    result = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise ValueError(
                f"cannot load {where}: key {_short(key)} is a {type(key).__name__}, not a str name")
        if not isinstance(value, _ArraySpec) or value.array is None:
            what = "an unfinished array" if isinstance(value, _ArraySpec) else f"a {type(value).__name__}"
            raise ValueError(f"cannot load {where}: key {_short(key)} holds {what}, not a NumPy array")
        result[key] = value.array
    return result
