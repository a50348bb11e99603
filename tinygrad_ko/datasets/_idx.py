"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, then one 4-byte size per dimension, then the
values in C order, all big-endian::

    0x00 0x00 <type code> <ndim>   e.g. 00 00 08 03 = unsigned bytes, 3 dimensions
    <size 0> ... <size ndim-1>      e.g. 60000, 28, 28
    <data>                          60000 * 28 * 28 bytes

Files may be gzip-compressed (``.gz``); the reader looks at the first two bytes,
not at the name. Everything in the header is checked before any array is made, so a
damaged file gives a ``ValueError`` that names the file and says what is wrong,
never a huge allocation or a silently wrong array. Only regular files are opened (a
FIFO or a device is refused at once), and the data may not exceed ``max_bytes``
(``MAX_BYTES`` unless told otherwise), so a gzip bomb is refused by its header's
size, or stopped one byte past the size the header gives, before it can fill memory.
"""

import gzip
import hashlib
import io
import os
import struct
import zlib

import numpy as np

from ..io import write_atomically
from ..io._files import open_regular

# IDX type code -> NumPy dtype (big-endian, as the format says).
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# The largest data section read_idx accepts unless told otherwise (max_bytes=).
# MNIST's and Fashion-MNIST's biggest files hold 47,040,000 bytes; 128 MiB leaves
# room for similar datasets, and a header claiming more is damage or a gzip bomb.
MAX_BYTES = 1 << 27
# Bytes a file may hold beyond its data: the IDX header (at most 4 + 4 * 255) and
# what gzip adds (its header, and a little for data that does not compress).
_SLACK = 1 << 16

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
    for any. ``max_bytes``: the largest data section accepted (128 MiB unless told
    otherwise; pass a larger value for a bigger dataset you trust). Multi-byte types
    come back in native byte order. Raises ``ValueError`` naming the file for a path
    that is not a regular file (a FIFO, a device), a wrong magic number, an unexpected
    number of dimensions, a size over ``max_bytes``, or data shorter or longer than
    the header says.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "demo-idx1-ubyte.gz")
    >>> write_idx(path, np.array([7, 2, 1], dtype=np.uint8))
    >>> read_idx(path, ndim=1)
    array([7, 2, 1], dtype=uint8)
    """
    return read_idx_digests(path, ndim, max_bytes)[0]


def read_idx_digests(path, ndim=None, max_bytes=MAX_BYTES):
    """``read_idx``, also returning the SHA-256 (hex) of the file as stored and of its
    IDX content (after gunzip: what ``gunzip -c file | sha256sum`` prints).
    Returns ``(array, file_sha256, content_sha256)``."""
    path = os.fspath(path)
    with open_regular(path, f"cannot read IDX file {path!r}") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes + max_bytes // 64 + _SLACK:
            raise ValueError(
                f"{path}: the file holds {size:,} bytes, more than an IDX file with at most "
                f"{max_bytes:,} bytes of data (max_bytes) can; the file is damaged or not an IDX "
                f"file, or pass a larger max_bytes to read_idx if you trust it")
        raw = f.read(size)  # the whole file: it is small, and hashed as it is stored
    compressed = raw[:2] == _GZIP_MAGIC
    stream = gzip.GzipFile(fileobj=io.BytesIO(raw), mode="rb") if compressed else io.BytesIO(raw)
    try:
        array, content = _parse(stream, len(raw), compressed, path, ndim, max_bytes)
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: damaged gzip data ({exc})") from None
    except EOFError:
        raise ValueError(f"{path}: truncated: the compressed data ends early") from None
    finally:
        stream.close()
    return array, hashlib.sha256(raw).hexdigest(), content


def _parse(stream, size, compressed, path, ndim, max_bytes):
    """The array, and the SHA-256 of the IDX bytes read (header and data)."""
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
            f"{max_bytes:,} bytes (max_bytes); the file is damaged or not an IDX file, or "
            f"pass a larger max_bytes to read_idx if you trust it")
    if not compressed:                     # a raw file's size is known without reading it
        held = size - 4 - 4 * file_ndim
        if held < nbytes:
            raise ValueError(
                f"{path}: truncated: header says {where} = {nbytes:,} bytes, file holds {held:,}")
        if held > nbytes:
            raise ValueError(
                f"{path}: {held - nbytes:,} bytes more than the header says "
                f"({where} = {nbytes:,} bytes); the file is damaged or its header is wrong")
    data = _read_data(stream, nbytes, path, where)
    digest = hashlib.sha256(magic)
    digest.update(header)
    digest.update(data)
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
    array = array.astype(dtype.newbyteorder("="), copy=False) if dtype.itemsize > 1 else array
    return array, digest.hexdigest()


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
    write_atomically(path, lambda f: f.write(payload))


def read_images_labels(images_path, labels_path, num_classes=10):
    """An images file and its labels file, checked against each other.

    Returns ``(images, labels)``: uint8 arrays of shapes (N, rows, cols) and (N,).
    Raises ``ValueError`` when either file is not valid IDX of unsigned bytes, when
    the counts differ, or when a label is not in 0 .. num_classes-1.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> write_idx(os.path.join(folder, "x-idx3-ubyte.gz"), np.zeros((2, 28, 28), dtype=np.uint8))
    >>> write_idx(os.path.join(folder, "t-idx1-ubyte.gz"), np.array([7, 2], dtype=np.uint8))
    >>> images, labels = read_images_labels(os.path.join(folder, "x-idx3-ubyte.gz"),
    ...                                     os.path.join(folder, "t-idx1-ubyte.gz"))
    >>> images.shape, labels.tolist()
    ((2, 28, 28), [7, 2])
    """
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    return check_images_labels(images, labels, images_path, labels_path, num_classes)


def check_images_labels(images, labels, images_path, labels_path, num_classes=10):
    """Check an images array and its labels against each other (see read_images_labels)."""
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
