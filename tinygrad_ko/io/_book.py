"""The book's weight files: pickles of a dict of NumPy arrays, read without running them.

The book saves parameters with ``pickle.dump(params, f)``; ``pickle.load`` on such a
file can run any code the file names. ``load_book_params`` reads the same files with
the restricted unpickler of ``_safe_pickle``, and ``save_book_params`` writes them
byte by byte, so that the book's own ``pickle.load`` reads them under NumPy 1.x and 2.x.
"""

import os
import pickle

import numpy as np

from ._files import open_regular, write_atomically
from ._npz import DEFAULT_MAX_BYTES, _check_state_dict, _load_npz
from ._safe_pickle import UnsafePickleError, unpickle_params

__all__ = ["UnsafePickleError", "load_book_params", "save_book_params"]


def load_book_params(path, max_bytes=DEFAULT_MAX_BYTES):
    """Read the book's weight files (``params.pkl``, ``sample_weight.pkl``) safely, as a dict name -> ndarray.

    The book saves parameters with ``pickle.dump``, and ``pickle.load`` would run any
    code such a file names. Here the pickle is read by a restricted unpickler: plain
    data (dicts, lists, tuples, strings, bytes, numbers) and NumPy arrays of plain
    numeric dtypes (bool, int, float, complex), nothing else. Any other global name
    (``os.system``, ``builtins.open``, an ndarray subclass), an object array or a
    class instance raises ``UnsafePickleError`` (a ``pickle.UnpicklingError``) naming
    it, and nothing in the file is run. The result must be a dict of str -> ndarray;
    arrays come back in native byte order, writable, C-ordered.

    Files written by NumPy 1.x or 2.x, with any pickle protocol, load; so do ``.npz``
    files (recognised by their content, not their name), read by ``tk.load``.
    ``max_bytes`` bounds the file and its arrays (4 GiB unless told otherwise), checked
    before anything is allocated. Only a regular file is opened. A truncated, corrupt
    or malformed file raises ``ValueError`` naming it.

    >>> import os, tempfile
    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> path = os.path.join(tempfile.mkdtemp(), "params.pkl")
    >>> tk.save_book_params({"W1": np.eye(2, dtype=np.float32), "b1": np.zeros(2)}, path)
    >>> params = tk.load_book_params(path)
    >>> {name: (a.shape, a.dtype.name) for name, a in params.items()}
    {'W1': ((2, 2), 'float32'), 'b1': ((2,), 'float64')}
    """
    where = repr(os.fspath(path))
    with open_regular(path, f"cannot load {where}") as f:
        if f.read(2) == b"PK":  # a zip: an .npz, whatever its name
            f.seek(0)
            return _load_npz(f, where, max_bytes)
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise ValueError(f"cannot load {where}: the file holds {size:,} bytes, over the limit "
                             f"of {max_bytes:,} bytes (max_bytes); if you trust it, pass a larger "
                             f"max_bytes")
        f.seek(0)
        data = f.read(size)  # never read(max_bytes): that would allocate max_bytes at once
    if not data:
        raise ValueError(f"cannot load {where}: the file is empty")
    return unpickle_params(data, where, max_bytes)


# --- save ---

def save_book_params(params, path):
    """Write ``params`` (str name -> array) as the book's pickle format, read by its ``pickle.load``.

    The file is what NumPy 1.x's ``pickle.dump(params, f)`` writes (protocol 3, the
    global ``numpy.core.multiarray._reconstruct``), so the book's own
    ``load_params`` reads it under NumPy 1.x and 2.x, and so does
    ``load_book_params``. Only numeric and bool arrays (or Tensors, numbers) are
    accepted, checked before anything is written; the write is atomic, as ``tk.save``.

    >>> import os, tempfile
    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> path = os.path.join(tempfile.mkdtemp(), "params.pkl")
    >>> tk.save_book_params({"W1": np.arange(6.0).reshape(2, 3)}, path)
    >>> tk.load_book_params(path)["W1"]
    array([[0., 1., 2.],
           [3., 4., 5.]])
    """
    arrays = _check_state_dict(params, op="save_book_params")
    write_atomically(path, lambda f: _write_pickle(f, arrays))


def _write_pickle(f, arrays):
    big = any(a.nbytes >= 2**32 for a in arrays.values())
    f.write(pickle.PROTO + bytes([4 if big else 3]) + pickle.EMPTY_DICT)
    if arrays:
        f.write(pickle.MARK)
    for key, array in arrays.items():
        _write_str(f, key)
        _write_array(f, array)
    if arrays:
        f.write(pickle.SETITEMS)
    f.write(pickle.STOP)


def _write_array(f, array):
    # _reconstruct(ndarray, (0,), b'b'), then BUILD with (1, shape, dtype, False, data)
    f.write(b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
            + pickle.BININT1 + b"\x00" + pickle.TUPLE1 + pickle.SHORT_BINBYTES + b"\x01b"
            + pickle.TUPLE3 + pickle.REDUCE)
    f.write(pickle.MARK + pickle.BININT1 + b"\x01")
    _write_tuple_of_ints(f, array.shape)
    _write_dtype(f, array.dtype)
    f.write(pickle.NEWFALSE)  # is_fortran: the data below is in C order
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    if data.nbytes < 2**32:
        f.write(pickle.BINBYTES + data.nbytes.to_bytes(4, "little"))
    else:
        f.write(pickle.BINBYTES8 + data.nbytes.to_bytes(8, "little"))
    f.write(data)
    f.write(pickle.TUPLE + pickle.BUILD)


def _write_dtype(f, dtype):
    # dtype(name, False, True), then BUILD with (3, byte order, None, None, None, -1, -1, 0),
    # both as NumPy's own dtype.__reduce__ gives them
    _, (name, _, _), state = dtype.__reduce__()
    order = state[1]
    f.write(b"cnumpy\ndtype\n")
    _write_str(f, name)
    f.write(pickle.NEWFALSE + pickle.NEWTRUE + pickle.TUPLE3 + pickle.REDUCE)
    f.write(pickle.MARK + pickle.BININT1 + b"\x03")
    _write_str(f, order)
    f.write(pickle.NONE * 3 + pickle.BININT + (-1).to_bytes(4, "little", signed=True)
            + pickle.BININT + (-1).to_bytes(4, "little", signed=True) + pickle.BININT1 + b"\x00"
            + pickle.TUPLE + pickle.BUILD)


def _write_str(f, text):
    data = text.encode("utf-8")
    f.write(pickle.BINUNICODE + len(data).to_bytes(4, "little") + data)


def _write_tuple_of_ints(f, values):
    f.write(pickle.MARK)
    for n in values:
        if n < 256:
            f.write(pickle.BININT1 + bytes([n]))
        elif n < 2**31:
            f.write(pickle.BININT + n.to_bytes(4, "little"))
        else:
            f.write(pickle.LONG1 + bytes([8]) + n.to_bytes(8, "little", signed=True))
    f.write(pickle.TUPLE)
