"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, then one 4-byte size per dimension, then the
values in C order, all big-endian::

    0x00 0x00 <type code> <ndim>   e.g. 00 00 08 03 = unsigned bytes, 3 dimensions
    <size 0> ... <size ndim-1>      e.g. 60000, 28, 28
    <data>                          60000 * 28 * 28 bytes

Files may be gzip-compressed (``.gz``); the reader looks at the first two bytes,
not at the name. Everything in the header is checked before any array is made, so a
damaged file gives a ``ValueError`` that names the file and says what is wrong,
never a huge allocation or a silently wrong array.
"""

import gzip
import os
import struct
import zlib

import numpy as np

# IDX type code -> NumPy dtype (big-endian, as the format says).
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# The largest data section read_idx accepts unless told otherwise. MNIST's biggest
# file holds 47,040,000 bytes; a header claiming more than 1 GiB is damage, not data.
MAX_BYTES = 1 << 30

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def _shape_text(dims, itemsize):
    text = "x".join(str(d) for d in dims)
    return text if itemsize == 1 else f"{text} values of {itemsize} bytes"


def _read_exact(stream, n):
    """Up to n bytes: fewer only at the end of the stream."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_data(stream, nbytes, path, where):
    """The data section: exactly nbytes, read in chunks so memory follows the bytes
    actually present, not the header's claim."""
    buf = bytearray()
    try:
        while len(buf) <= nbytes:          # one byte past nbytes reveals extra data
            part = stream.read(min(_CHUNK, nbytes + 1 - len(buf)))
            if not part:
                break
            buf += part
    except EOFError:                       # a gzip stream cut off mid-way
        raise ValueError(
            f"{path}: truncated: header says {where} = {nbytes:,} bytes, "
            f"file holds {len(buf):,} (the compressed data ends early)") from None
    if len(buf) < nbytes:
        raise ValueError(
            f"{path}: truncated: header says {where} = {nbytes:,} bytes, file holds {len(buf):,}")
    if len(buf) > nbytes:
        raise ValueError(
            f"{path}: more data than the header says ({where} = {nbytes:,} bytes); "
            f"the file is damaged or its header is wrong")
    return buf


def read_idx(path, ndim=None, max_bytes=MAX_BYTES):
    """Read an IDX file (raw or gzip-compressed) into a NumPy array.

    ``ndim``: the number of dimensions expected (3 for images, 1 for labels), or None
    for any. ``max_bytes``: the largest data section accepted. Multi-byte types come
    back in native byte order. Raises ``ValueError`` naming the file for a wrong
    magic number, an unexpected number of dimensions, a size over ``max_bytes``, or
    data shorter or longer than the header says.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "demo-idx1-ubyte.gz")
    >>> write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    >>> read_idx(path, ndim=1)
    array([7, 2, 1], dtype=uint8)
    """
    path = os.fspath(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            return _parse(stream, raw, compressed, path, ndim, max_bytes)
        except (gzip.BadGzipFile, zlib.error) as exc:
            raise ValueError(f"{path}: damaged gzip data ({exc})") from None
        except EOFError:
            raise ValueError(f"{path}: truncated: the compressed data ends early") from None
        finally:
            if compressed:
                stream.close()


def _parse(stream, raw, compressed, path, ndim, max_bytes):
    magic = _read_exact(stream, 4)
    if len(magic) < 4:
        raise ValueError(
            f"{path}: not an IDX file: only {len(magic)} bytes, "
            f"but an IDX file starts with a 4-byte magic number")
    zero1, zero2, code, file_ndim = magic
    if zero1 != 0 or zero2 != 0:
        raise ValueError(
            f"{path}: not an IDX file: wrong magic number 0x{magic.hex().upper()} "
            f"(an IDX file starts with two zero bytes, then a type code and the number "
            f"of dimensions, e.g. 0x00000803 for images)")
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"{path}: wrong magic number 0x{magic.hex().upper()}: unknown type code "
            f"0x{code:02X} (known: {known})")
    if file_ndim == 0:
        raise ValueError(f"{path}: wrong magic number 0x{magic.hex().upper()}: 0 dimensions")
    if ndim is not None and file_ndim != ndim:
        raise ValueError(
            f"{path}: wrong number of dimensions: the magic number 0x{magic.hex().upper()} "
            f"says {file_ndim}, expected {ndim}")

    header = _read_exact(stream, 4 * file_ndim)
    if len(header) < 4 * file_ndim:
        raise ValueError(
            f"{path}: truncated header: {file_ndim} dimensions need {4 * file_ndim} bytes "
            f"of sizes, file holds {len(header)}")
    dims = struct.unpack(f">{file_ndim}I", header)

    dtype = IDX_DTYPES[code]
    count = 1
    for d in dims:                         # Python ints: no overflow
        count *= d
    nbytes = count * dtype.itemsize
    where = _shape_text(dims, dtype.itemsize)
    if nbytes > max_bytes:
        raise ValueError(
            f"{path}: header says {where} = {nbytes:,} bytes, over the limit of "
            f"{max_bytes:,} bytes; the file is damaged or not an IDX file")
    if not compressed:                     # a raw file's size is known without reading it
        held = os.fstat(raw.fileno()).st_size - 4 - 4 * file_ndim
        if held < nbytes:
            raise ValueError(
                f"{path}: truncated: header says {where} = {nbytes:,} bytes, file holds {held:,}")
        if held > nbytes:
            raise ValueError(
                f"{path}: {held - nbytes:,} bytes more than the header says "
                f"({where} = {nbytes:,} bytes); the file is damaged or its header is wrong")
    data = _read_data(stream, nbytes, path, where)
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else array


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file; gzip-compressed when ``compress`` is True, or
    when it is None and the name ends in ``.gz``. Handy for making small test data.

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "labels-idx1-ubyte.gz")
    ...     write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    ...     read_idx(path)
    array([3, 1, 4], dtype=uint8)
    """
    path = os.fspath(path)
    array = np.asarray(array)
    code = next((c for c, dt in IDX_DTYPES.items() if array.dtype.newbyteorder(">") == dt), None)
    if code is None or not 1 <= array.ndim <= 255:
        raise ValueError(
            f"write_idx: cannot store dtype {array.dtype} with {array.ndim} dimensions "
            f"(IDX holds uint8, int8, int16, int32, float32, float64 with 1-255 dimensions)")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)


def read_images_labels(images_path, labels_path, num_classes=10):
    """An images file and its labels file, checked against each other.

    Returns ``(images, labels)``: uint8 arrays of shapes (N, rows, cols) and (N,).
    Raises ``ValueError`` when either file is not valid IDX of unsigned bytes, when
    the counts differ, or when a label is not in 0 .. num_classes-1.
    """
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    for path, array, what in ((images_path, images, "images"), (labels_path, labels, "labels")):
        if array.dtype != np.uint8:
            raise ValueError(
                f"{os.fspath(path)}: {what} must be unsigned bytes (IDX type code 0x08), "
                f"got {array.dtype}")
    if len(images) != len(labels):
        raise ValueError(
            f"images/labels count mismatch: {os.fspath(images_path)} holds {len(images):,} "
            f"images but {os.fspath(labels_path)} holds {len(labels):,} labels")
    if labels.size and labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise ValueError(
            f"{os.fspath(labels_path)}: label {labels[bad]} at index {bad} is not a class "
            f"0..{num_classes - 1}")
    return images, labels
