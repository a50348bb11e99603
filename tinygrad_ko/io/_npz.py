"""``tk.save`` and ``tk.load``: state dicts as ``.npz`` files, plain arrays only, never pickle."""

import itertools
import math
import numbers
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np
from numpy.lib import format as npy_format

from ..tensor import Tensor
from ._files import open_regular, write_atomically

__all__ = ["save", "load", "DEFAULT_MAX_BYTES"]

_ALLOWED_KINDS = "biufc"  # bool, signed int, unsigned int, float, complex
_CHUNK = 16 * 2**20  # read arrays 16 MiB at a time
# Deflate can shrink data at most about 1032 times; a member that claims to
# expand more than this is corrupt or crafted (a "zip bomb").
_MAX_DEFLATE_RATIO = 1100
# The most bytes of arrays one file may hold unless the caller says otherwise
# (``max_bytes=``): generous for the book's nets, finite against crafted files.
DEFAULT_MAX_BYTES = 4 * 2**30


# --- save ---

def save(state_dict, path):
    """Write ``state_dict`` (str name -> array) to ``path`` as an ``.npz`` file.

    state_dict: a mapping from str names (``"W1"``, ``"layers.0.weight"``)
    to numeric or bool ndarrays, NumPy scalars, Python numbers or Tensors
    (their ``.data`` is saved; the gradient is not).
    path: a str or ``os.PathLike``, used exactly as given: unlike
    ``np.savez``, no ``.npz`` is appended, so ``load(path)`` with the same
    path reads the file back. ``".npz"`` is the conventional ending.

    Entries are checked before anything is written: a non-str or empty name
    raises ``TypeError``/``ValueError``; a value that is not an array or
    number raises ``TypeError``; an object, string or structured array raises
    ``ValueError`` (only numeric and bool arrays are stored, so the file
    never needs pickle). Each message names the key.

    The write is atomic: the data goes to a temporary file in the same
    folder, is flushed and fsync'ed, and then ``os.replace`` puts it at
    ``path``. If anything fails, including Ctrl-C, the temporary file is
    removed and a file already at ``path`` is left untouched. On Linux the
    temporary file has no name until the data is safely on disk (``O_TMPFILE``),
    so even a killed process leaves nothing behind.

    ``path`` must be a new path or a regular file; a file it replaces keeps its
    permission bits. A directory raises ``IsADirectoryError``; a device, a FIFO
    or a symbolic link raises ``ValueError`` (pass the link's real path): nothing
    is replaced or written through silently. Errors name ``path``.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from tinygrad_ko import Tensor
    >>> from tinygrad_ko.io import save, load    # also tk.save, tk.load
    >>> params = {"W1": np.ones((2, 3), dtype=np.float32), "b1": Tensor([0.5, -0.5])}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "params.npz")
    ...     save(params, path)
    ...     loaded = load(path)
    >>> sorted(loaded)
    ['W1', 'b1']
    >>> loaded["W1"].dtype, loaded["b1"]
    (dtype('float32'), array([ 0.5, -0.5]))
    """
    arrays = _check_state_dict(state_dict)
    write_atomically(path, lambda f: _write_npz(f, arrays))


def _check_state_dict(state_dict, op="save"):
    """Validate every entry and return a dict name -> ndarray; nothing is written yet."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"{op}: state_dict must be a dict of name -> array, got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"{op}: key {key!r} is a {type(key).__name__}; keys must be str names")
        if key == "" or "\x00" in key:
            raise ValueError(f"{op}: key {key!r} is not a valid name (empty or holds a NUL character)")
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{op}: key {key!r} cannot be stored: it is not valid Unicode text") from None
        if isinstance(value, Tensor):
            value = value.data
        if not isinstance(value, (np.ndarray, np.generic, numbers.Number)):
            raise TypeError(
                f"{op}: key {key!r} holds a {type(value).__name__}, not an array; "
                f"only numeric arrays, numbers and Tensors can be saved (convert with np.asarray)")
        array = np.asarray(value)
        reason = _bad_dtype_reason(array.dtype)
        if reason is not None:
            raise ValueError(
                f"{op}: key {key!r} holds an array of dtype {array.dtype} ({reason}); "
                f"only numeric and bool arrays can be saved, so that the file never needs pickle")
        arrays[key] = array
    return arrays


def _bad_dtype_reason(dtype):
    """Why ``dtype`` cannot be stored or loaded, or None if it is a plain numeric/bool dtype."""
    if dtype.hasobject:
        return "Python objects, which would need pickle"
    if dtype.fields is not None or dtype.subdtype is not None:
        return "a structured or sub-array dtype"
    if dtype.kind not in _ALLOWED_KINDS:
        return "not a numeric or bool dtype"
    return None


def _write_npz(f, arrays):
    """The layout np.savez writes: one uncompressed ``<key>.npy`` member per array."""
    # NOTE: np.savez(f, **arrays) would misread keys such as "file" or
    # "allow_pickle" as its own arguments, so the members are written here.
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, array in arrays.items():
            with zf.open(key + ".npy", mode="w", force_zip64=True) as member:
                npy_format.write_array(member, array, allow_pickle=False)


# --- load ---

def load(path, max_bytes=DEFAULT_MAX_BYTES):
    """Read an ``.npz`` file written by :func:`save` (or ``np.savez``) into a dict name -> ndarray.

    Only plain numeric and bool arrays are read, and nothing in the file is
    trusted: pickle is never used, so a file holding pickled Python objects
    is refused with ``ValueError`` before anything in it is executed. Each
    array's ``.npy`` header is read first and its shape and dtype are checked
    against the number of bytes actually stored, so a crafted header (say,
    shape ``(10**12,)``) is refused before any memory is allocated.

    Returns a dict of fully read, writable arrays (the file is closed), in the
    order they were saved. A missing file raises ``FileNotFoundError``; a
    file that is not an ``.npz``, a truncated or corrupt one, or one holding
    something other than plain arrays raises ``ValueError`` naming the path
    and the key.

    The file is data, never a weapon: only a regular file is opened (a FIFO,
    a device or a link to one raises ``ValueError`` at once), the zip entries
    must lie inside the file without overlapping (overlapping entries are how
    a small zip expands to terabytes), and together they may hold at most
    ``max_bytes`` bytes of arrays (4 GiB unless told otherwise; pass a larger
    ``max_bytes`` for a bigger file you trust). All of this is checked before
    any array is allocated.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from tinygrad_ko.io import save, load    # also tk.save, tk.load
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "model.npz")
    ...     save({"layers.0.weight": np.eye(2)}, path)
    ...     state = load(path)
    >>> state
    {'layers.0.weight': array([[1., 0.],
           [0., 1.]])}
    """
    where = repr(os.fspath(path))
    with open_regular(path, f"cannot load {where}") as f:
        return _load_npz(f, where, max_bytes)


def _load_npz(f, where, max_bytes):
    """The arrays of the .npz open as ``f``; ``where`` names it in errors."""
    zf = _open_zip(f, where)
    with zf:
        infos = _check_members(zf, where)
        archive_size = os.fstat(f.fileno()).st_size
        _check_layout(f, zf, infos, where, archive_size)
        _check_budget(infos, where, max_bytes)
        return {info.filename[:-4]: _read_member(zf, info, where) for info in infos}


def _open_zip(f, where):
    start = f.read(8)
    f.seek(0)
    if start == b"":
        raise ValueError(f"cannot load {where}: the file is empty")
    if start.startswith(npy_format.MAGIC_PREFIX):
        raise ValueError(
            f"cannot load {where}: it is a single .npy array, not an .npz state dict; "
            f"read it with np.load(path, allow_pickle=False)")
    try:
        return zipfile.ZipFile(f)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as e:
        if start.startswith(b"PK"):
            raise ValueError(
                f"cannot load {where}: the .npz (zip) file is truncated or corrupt ({e})") from None
        raise ValueError(f"cannot load {where}: it is not an .npz file (not a zip archive)") from None


def _check_members(zf, where):
    """Refuse anything that is not a readable ``<key>.npy`` member; return the members."""
    infos, seen = zf.infolist(), set()
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or info.is_dir():  # this order: is_dir() fails on an empty name
            raise ValueError(
                f"cannot load {where}: entry {name!r} is not an array (.npy); "
                f"a state dict file holds only arrays")
        if name in seen:
            raise ValueError(f"cannot load {where}: key {name[:-4]!r} appears twice")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise ValueError(f"cannot load {where}: key {name[:-4]!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(
                f"cannot load {where}: key {name[:-4]!r} uses zip compression method "
                f"{info.compress_type}; .npz files are stored or deflated")
    return infos


def _check_layout(f, zf, infos, where, archive_size):
    """Each entry (local header and data) lies inside the file, before the zip directory,
    and no two overlap: the sizes in the zip directory are claims too."""
    spans = []
    for info in infos:
        at = f"cannot load {where}: key {info.filename[:-4]!r}"
        if not 0 <= info.header_offset < archive_size:  # zipfile's guess for bytes before the zip can be < 0
            raise ValueError(f"{at}: the file is truncated or corrupt (the zip directory points outside "
                             f"the file)")
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ValueError(f"{at}: the file is truncated or corrupt (no entry header where the "
                             f"zip directory says)")
        name_length, extra_length = struct.unpack("<HH", local[26:30])
        end = info.header_offset + 30 + name_length + extra_length + info.compress_size
        if end > archive_size:
            raise ValueError(f"{at}: the file is truncated (the entry runs past the end of the file)")
        if end > zf.start_dir:
            raise ValueError(f"{at}: the entry overlaps the zip directory; the file is corrupt or "
                             f"crafted, refused")
        spans.append((info.header_offset, end, info.filename[:-4]))
    spans.sort()
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        if start < end:
            raise ValueError(
                f"cannot load {where}: entries {first!r} and {second!r} overlap in the file "
                f"(a crafted zip: overlapping entries make a small file expand to far more "
                f"data), refused")
    f.seek(0)


def _check_budget(infos, where, max_bytes):
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise ValueError(
            f"cannot load {where}: its entries declare {total:,} bytes of arrays, over the limit "
            f"of {max_bytes:,} bytes (max_bytes); if you trust this file, pass a larger "
            f"max_bytes (at least {total:,})")


def _read_member(zf, info, where):
    key = info.filename[:-4]
    at = f"cannot load {where}: key {key!r}"
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise ValueError(f"{at}: the zip directory gives inconsistent sizes for this entry")
    if info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 2**16:
        raise ValueError(f"{at}: the entry claims an impossible uncompressed size {info.file_size}")
    try:
        with zf.open(info) as member:
            shape, fortran_order, dtype = _read_header(member, at)
            data_size = info.file_size - member.tell()
            nbytes = math.prod(shape) * dtype.itemsize  # Python ints: cannot overflow
            if nbytes != data_size:
                raise ValueError(
                    f"{at}: the header says shape {shape} of {dtype} ({nbytes} bytes) but the "
                    f"entry holds {data_size} bytes of data; the file is corrupt or crafted, refused")
            # Only now is memory allocated, for exactly the bytes the entry holds.
            array = np.empty(shape[::-1] if fortran_order else shape, dtype=dtype)
            _read_exactly(member, array, at)
            if member.read(1) != b"":  # also makes zipfile check the CRC
                raise ValueError(f"{at}: extra bytes after the array data")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:  # NotImplementedError: zipfile
        raise ValueError(f"{at}: the file is truncated or corrupt ({e})") from None   # on a bad version field
    return array.T if fortran_order else array


def _read_header(member, at):
    """Read the ``.npy`` magic and header; return (shape, fortran_order, dtype) after checks."""
    try:
        version = npy_format.read_magic(member)
        if version == (1, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran_order, dtype = npy_format.read_array_header_2_0(member)
        else:  # 3.0 only exists for structured dtypes with non-latin-1 field names
            raise ValueError(f"unsupported .npy format version {version}")
    except ValueError as e:
        raise ValueError(f"{at}: not a valid .npy array ({e})") from None
    if dtype.hasobject:
        raise ValueError(
            f"{at}: the file holds pickled Python objects (dtype {dtype}) and is refused; "
            f"nothing was unpickled or executed. Only plain numeric arrays are loaded")
    reason = _bad_dtype_reason(dtype)
    if reason is not None:
        raise ValueError(f"{at}: dtype {dtype} is refused ({reason}); only numeric and bool arrays load")
    if any(n < 0 for n in shape):
        raise ValueError(f"{at}: the header has a negative dimension in shape {shape}")
    return shape, fortran_order, dtype


def _read_exactly(member, array, at):
    """Fill ``array`` from ``member`` in chunks, so no second full-size buffer is needed."""
    buffer = memoryview(array.reshape(-1).view(np.uint8))  # array is new and C-contiguous
    done = 0
    while done < len(buffer):
        n = member.readinto(buffer[done:done + _CHUNK])
        if not n:
            raise ValueError(f"{at}: the file is truncated (the array data ends early)")
        done += n
