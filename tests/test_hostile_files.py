"""Files are data, never a weapon.

tk.load, tk.load_book_params and the IDX reader open only regular files, bound what they
decompress, and (for the datasets) check files on disk against their known SHA-256
before trusting them; tk.save, tk.save_book_params and write_idx write only to a regular
file or a new path. Every crafted file here is refused with a message naming the file,
and nothing in it runs.
"""

import contextlib
import errno
import gzip
import os
import pickle
import signal
import socket
import stat
import struct
import subprocess
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko.datasets import _download, _idx, load_fashion_mnist, load_mnist, read_idx, write_idx
from tinygrad_ko.io import DEFAULT_MAX_BYTES, UnsafePickleError, load_book_params
from tinygrad_ko.io import save_book_params

BOOK = Path(__file__).resolve().parents[2] / "shared" / "book"
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo (POSIX)")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")


# --- helpers ---

@contextlib.contextmanager
def at_once(seconds=5):
    """Fail, instead of hanging, when the code inside blocks (e.g. opening a FIFO)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def blocked(signum, frame):
        raise TimeoutError(f"blocked for {seconds} s instead of refusing at once")

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def offline(monkeypatch, data_folder):
    """Point the loaders at ``data_folder``, with mirrors where nothing answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(data_folder))
    for name in ("mnist", "fashion-mnist"):
        monkeypatch.setitem(_download.MIRRORS, name, [f"http://127.0.0.1:{port}/"])


def message_of(error, call, *args, **kwargs):
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    return str(info.value)


class Reduces:
    """Pickles as the call ``func(*args)``: what a hostile pickle runs on pickle.load."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def global_name(func):
    return f"{func.__module__}.{func.__qualname__}"


def peak_bytes(call, *args, **kwargs):
    """Run ``call``, which must raise ValueError; return (message, peak traced bytes)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            call(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(info.value), peak


LOADERS = {"tk.load": tk.load, "tk.load_book_params": load_book_params, "read_idx": read_idx}


# --- only regular files are opened ---

@needs_fifo
@pytest.mark.parametrize("loader", LOADERS)
def test_a_fifo_is_refused_at_once(tmp_path, loader):
    path = tmp_path / "params.pkl"
    os.mkfifo(path)                        # nobody writes: a plain open() would wait for ever
    with at_once():
        message = message_of(ValueError, LOADERS[loader], path)
    assert str(path) in message and "FIFO" in message and "not a regular file" in message


@needs_dev_zero
@pytest.mark.parametrize("loader", LOADERS)
def test_a_symlink_to_dev_zero_is_refused_at_once(tmp_path, loader):
    path = tmp_path / "params.npz"
    path.symlink_to("/dev/zero")           # endless zeros: must not be read at all
    with at_once():
        message = message_of(ValueError, LOADERS[loader], path)
    assert str(path) in message
    assert "symbolic link to '/dev/zero'" in message and "character device" in message


@needs_fifo
def test_load_mnist_refuses_a_fifo_in_the_data_folder_at_once(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in FILES[1:]:
        write_idx(folder / name, np.zeros((1, 28, 28) if "images" in name else 1, np.uint8))
    os.mkfifo(folder / FILES[0])
    offline(monkeypatch, tmp_path)
    with at_once():
        message = message_of(ValueError, load_mnist)
    assert str(folder / FILES[0]) in message and "FIFO" in message


def test_a_symlink_to_a_regular_file_still_loads(tmp_path):
    tk.save({"W1": np.ones(2)}, tmp_path / "real.npz")
    (tmp_path / "link.npz").symlink_to(tmp_path / "real.npz")
    np.testing.assert_array_equal(tk.load(tmp_path / "link.npz", max_bytes=2**20)["W1"], np.ones(2))


# --- .npz: entries must not overlap, and the total is bounded ---

def stored_zip(entries):
    """A zip built by hand: ``entries`` is a list of (name, offset of its local header,
    bytes stored); local headers are written at those offsets, so they may overlap."""
    body = bytearray()
    central = b""
    for name, offset, data in entries:
        crc = zlib.crc32(data)
        local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(data), len(data),
                            len(name), 0) + name.encode()
        end = offset + len(local) + len(data)
        body.extend(b"\0" * max(0, end - len(body)))
        body[offset:end] = local + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(data),
                               len(data), len(name), 0, 0, 0, 0, 0, offset) + name.encode()
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central),
                       len(body), 0)
    return bytes(body) + central + eocd


def npy_bytes(array):
    """The .npy file of ``array`` (np.save's bytes)."""
    import io
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_overlapping_zip_entries_are_refused(tmp_path):
    # "b" is a normal entry; "a" claims the bytes of b's local header and data as its own
    # (a quoted overlap, the building block of zip bombs that expand far beyond their size).
    b = npy_bytes(np.arange(4.0))
    b_local = 30 + len("b.npy")
    a_header_only = npy_bytes(np.zeros(b_local + len(b), np.uint8))[:-(b_local + len(b))]
    a_start = 0
    b_start = a_start + 30 + len("a.npy") + len(a_header_only)
    zip_file = bytearray(stored_zip([("b.npy", b_start, b)]))
    a_data = a_header_only + bytes(zip_file[b_start:b_start + b_local + len(b)])
    path = tmp_path / "overlap.npz"
    path.write_bytes(stored_zip([("a.npy", a_start, a_data), ("b.npy", b_start, b)]))
    message = message_of(ValueError, tk.load, path)
    assert str(path) in message and "'a' and 'b' overlap" in message


def test_entries_over_the_budget_are_refused_before_reading(tmp_path):
    path = tmp_path / "big.npz"
    tk.save({"W1": np.zeros(1000), "W2": np.zeros(1000)}, path)
    message = message_of(ValueError, tk.load, path, max_bytes=10_000)
    assert str(path) in message and "10,000 bytes" in message and "max_bytes" in message
    assert list(tk.load(path, max_bytes=20_000)) == ["W1", "W2"]   # the keyword raises the limit
    assert DEFAULT_MAX_BYTES == 4 * 2**30


# --- the IDX reader: a gzip bomb is refused by size before allocation ---

def test_gzip_bomb_in_the_data_folder_is_refused_before_allocating(tmp_path, monkeypatch):
    folder = tmp_path / "mnist"
    folder.mkdir()
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 1_000_000, 28, 28)   # 784 MB of pixels
    bomb = gzip.compress(header + bytes(8 * 2**20), mtime=0)               # ~8 KB on disk
    (folder / FILES[0]).write_bytes(bomb)
    for name in FILES[1:]:
        write_idx(folder / name, np.zeros((1, 28, 28) if "images" in name else 1, np.uint8))
    offline(monkeypatch, tmp_path)
    message, peak = peak_bytes(load_mnist)
    assert peak < 2 * 2**20                 # neither 784 MB nor the 8 MiB of zeros were unpacked
    assert str(folder / FILES[0]) in message
    assert f"over the limit of {_idx.MAX_BYTES:,} bytes" in message and "max_bytes" in message


def test_idx_limit_is_a_keyword_and_is_sensible(tmp_path):
    path = tmp_path / "images-idx3-ubyte.gz"
    write_idx(path, np.zeros((10, 28, 28), np.uint8))
    message = message_of(ValueError, read_idx, path, max_bytes=7839)
    assert str(path) in message and "7,839 bytes" in message and "max_bytes" in message
    assert read_idx(path, max_bytes=7840).shape == (10, 28, 28)
    assert 47_040_000 < _idx.MAX_BYTES <= 2**28       # MNIST's largest file fits; 1 GiB does not


# --- dataset files on disk are checked against their known SHA-256 ---

def test_files_in_the_data_folder_that_are_not_the_dataset_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in FILES:
        n = 60 if name.startswith("train") else 10
        write_idx(folder / name, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
                  if "images" in name else np.arange(n, dtype=np.uint8) % 10)
    offline(monkeypatch, tmp_path)
    message = message_of(ValueError, load_fashion_mnist)
    path = folder / FILES[0]
    assert str(path) in message and "not the Fashion-MNIST file" in message
    assert _download.CHECKSUMS["fashion-mnist"][FILES[0]][1] in message         # what was expected
    assert _download.CONTENT_SHA256["fashion-mnist"][FILES[0]] in message
    assert "Delete the file and call the loader again" in message


def _regzip(source, dest, change_byte_at=None):
    """``source`` unpacked and packed again (other gzip bytes, same content), optionally
    with one byte of the content changed."""
    content = bytearray(gzip.decompress(source.read_bytes()))
    if change_byte_at is not None:
        content[change_byte_at] = (content[change_byte_at] + 1) % 10
    dest.write_bytes(gzip.compress(bytes(content), compresslevel=6, mtime=1))
    return dest


@pytest.mark.skipif(not (BOOK / FILES[3]).is_file(), reason=f"the MNIST test files are not in {BOOK}")
def test_mnist_test_labels_are_trusted_as_published_or_repacked_and_refused_when_changed(tmp_path):
    real = BOOK / FILES[3]
    _, file_sha256, content_sha256 = _idx.read_idx_digests(real)
    assert file_sha256 == _download.CHECKSUMS["mnist"][FILES[3]][1]     # the published .gz
    _download.check_on_disk("mnist", real, "MNIST", file_sha256, content_sha256)
    repacked = _regzip(real, tmp_path / FILES[3])
    _, file_sha256, content_sha256 = _idx.read_idx_digests(repacked)
    assert file_sha256 != _download.CHECKSUMS["mnist"][FILES[3]][1]
    _download.check_on_disk("mnist", repacked, "MNIST", file_sha256, content_sha256)
    (tmp_path / "changed").mkdir()
    changed = _regzip(real, tmp_path / "changed" / FILES[3], change_byte_at=100)
    _, file_sha256, content_sha256 = _idx.read_idx_digests(changed)
    message = message_of(ValueError, _download.check_on_disk, "mnist", changed, "MNIST",
                         file_sha256, content_sha256)
    assert str(changed) in message and content_sha256 in message and "Delete the file" in message


@pytest.mark.skipif(not (SYSTEM_FASHION / FILES[1]).is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_a_changed_copy_of_debians_fashion_labels_is_refused(tmp_path):
    changed = _regzip(SYSTEM_FASHION / FILES[1], tmp_path / FILES[1], change_byte_at=8)
    _, file_sha256, content_sha256 = _idx.read_idx_digests(changed)
    message = message_of(ValueError, _download.check_on_disk, "fashion-mnist", changed,
                         "Fashion-MNIST", file_sha256, content_sha256)
    assert str(changed) in message and "Delete the file" in message


# --- the book's pickles: nothing in them runs ---

@pytest.mark.parametrize("protocol", [3, 4])     # 4: the names come by STACK_GLOBAL
@pytest.mark.parametrize("make", ["os.system", "builtins.open", "subprocess.call"])
def test_a_pickle_that_would_create_a_file_is_refused_and_creates_nothing(tmp_path, make, protocol):
    marker = tmp_path / "created"
    func, args = {"os.system": (os.system, (f"touch {marker}",)),
                  "builtins.open": (open, (str(marker), "w")),
                  "subprocess.call": (subprocess.call, (["touch", str(marker)],))}[make]
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps({"W1": np.ones(2), "b1": Reduces(func, *args)}, protocol=protocol))
    message = message_of(UnsafePickleError, load_book_params, path)
    assert str(path) in message and repr(global_name(func)) in message
    assert "nothing in the file was run" in message
    assert not marker.exists()


@pytest.mark.parametrize("data, words", [
    (b"cos\nsystem\n(S'touch created'\ntR.", ["'os.system'"]),                      # protocol 0
    (b"\x80\x02cnumpy\nload\nq\x00.", ["'numpy.load'"]),                             # a NumPy global
    (b"(i__main__\nEvil\n(dS'x'\nI1\nsb.", ["opcode INST"]),                        # a class instance
    (b"\x80\x02cnumpy\ndtype\n}b.", ["refused", "numpy.dtype"]),                     # BUILD on a name
    (b"\x80\x02\x82\x01.", ["opcode EXT1"]),                                          # copyreg's registry
    (b"Pabc\n.", ["opcode PERSID"]),                                                   # a persistent id
])
def test_crafted_opcodes_and_globals_are_refused(tmp_path, data, words):
    path = tmp_path / "params.pkl"
    path.write_bytes(data)
    message = message_of(UnsafePickleError, load_book_params, path)
    for word in words + [str(path)]:
        assert word in message


with warnings.catch_warnings():
    warnings.simplefilter("ignore", PendingDeprecationWarning)   # np.matrix is discouraged: good
    MATRIX = np.matrix([[1.0, 2.0]])


@pytest.mark.parametrize("value, name", [
    (MATRIX, "numpy.matrix"),
    (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "numpy.ma.core._mareconstruct"),
    (np.array([1, None], dtype=object), "dtype 'O8'"),
    (np.zeros(2, dtype=[("x", "<f8")]), "dtype 'V8'"),
    (np.array(["ab"]), "dtype 'U2'"),
])
def test_ndarray_subclasses_and_non_numeric_arrays_are_refused(tmp_path, value, name):
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps({"W1": value}, protocol=3))
    message = message_of(UnsafePickleError, load_book_params, path)
    assert name in message and str(path) in message


def test_reconstruct_with_another_class_is_refused(tmp_path):
    class NotAnArray:
        def __reduce__(self):
            func, args, state = np.ones(2).__reduce__()
            return func, (np.dtype,) + args[1:], state      # _reconstruct(numpy.dtype, ...)

    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps({"W1": NotAnArray()}, protocol=3))
    assert "only numpy.ndarray loads" in message_of(UnsafePickleError, load_book_params, path)


@pytest.mark.parametrize("params, words", [
    ([np.ones(2)], ["holds a list, not a dict"]),
    ({"W1": 1.5}, ["'W1'", "float", "not a NumPy array"]),
    ({1: np.ones(2)}, ["key 1", "int", "not a str"]),
    ({"W1": [np.ones(2)]}, ["'W1'", "list"]),
])
def test_anything_but_a_dict_of_str_to_arrays_is_refused(tmp_path, params, words):
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps(params, protocol=3))
    message = message_of(ValueError, load_book_params, path)
    for word in words + [str(path)]:
        assert word in message


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.99, -1])
def test_a_truncated_pickle_is_refused(tmp_path, keep):
    path = tmp_path / "params.pkl"
    save_book_params({"W1": np.arange(200.0), "b1": np.ones(3)}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:int(len(raw) * keep) if keep > 0 else len(raw) + keep])
    message = message_of(ValueError, load_book_params, path)
    assert str(path) in message and "not a valid parameter file" in message


class ClaimsShape:
    """Pickles as a NumPy array whose state claims ``shape`` for ``nbytes`` bytes of data."""

    def __init__(self, shape, nbytes, raw=None):
        self.shape, self.raw = shape, bytes(nbytes) if raw is None else raw

    def __reduce__(self):
        func, args, (version, _, dtype, fortran, _) = np.zeros(1).__reduce__()
        return func, args, (version, self.shape, dtype, fortran, self.raw)


def test_a_huge_declared_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps({"W1": ClaimsShape((10**12,), 16)}, protocol=3))
    message, peak = peak_bytes(load_book_params, path)
    assert peak < 2**20
    for word in [str(path), "(1000000000000,)", "8,000,000,000,000 bytes", "max_bytes"]:
        assert word in message


def test_a_shape_that_disagrees_with_the_data_is_refused(tmp_path):
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps({"W1": ClaimsShape((3,), 16)}, protocol=3))
    message = message_of(ValueError, load_book_params, path)
    assert "needs 24 bytes but the file holds 16" in message and str(path) in message


def test_a_declared_length_past_the_end_of_the_file_allocates_nothing(tmp_path):
    path = tmp_path / "params.pkl"
    path.write_bytes(b"\x80\x04\x8e" + (2**40).to_bytes(8, "little") + b"abc")   # BINBYTES8, 1 TiB
    message, peak = peak_bytes(load_book_params, path)
    assert peak < 2**20 and str(path) in message


def test_a_memo_index_far_ahead_is_refused_before_the_unpickler_sizes_its_memo(tmp_path):
    # BINPUT/LONG_BINPUT make the unpickler grow its memo to the index: 2**30 entries = 8 GiB.
    path = tmp_path / "params.pkl"
    path.write_bytes(b"\x80\x02Nr" + (2**30 - 1).to_bytes(4, "little") + b".")
    message, peak = peak_bytes(load_book_params, path)
    assert peak < 2**20 and "memo index 1,073,741,823" in message and str(path) in message


def test_a_pickle_of_endless_operations_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tk.io._safe_pickle, "_MAX_OPCODES", 1000)     # the real limit is 1,000,000
    path = tmp_path / "params.pkl"
    path.write_bytes(b"\x80\x02" + b"N0" * 600 + b"}.")            # push None, pop it, ...
    message = message_of(ValueError, load_book_params, path)
    assert "more than 1,000 pickle operations" in message and str(path) in message


def test_data_reused_through_the_memo_counts_against_the_limit(tmp_path):
    # One 1 MiB string, referenced by 20 arrays: a 1 MiB file that would build 20 MiB.
    raw = bytes(2**20)
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps({f"W{i}": ClaimsShape((2**17,), 0, raw) for i in range(20)},
                                  protocol=3))
    assert path.stat().st_size < 2 * 2**20
    message = message_of(ValueError, load_book_params, path, max_bytes=8 * 2**20)
    assert "max_bytes" in message and "8,388,608 bytes" in message
    assert len(load_book_params(path, max_bytes=32 * 2**20)) == 20


def test_a_file_over_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "params.pkl"
    save_book_params({"W1": np.zeros(1000)}, path)
    message = message_of(ValueError, load_book_params, path, max_bytes=4000)
    assert str(path) in message and "4,000 bytes" in message and "max_bytes" in message


# --- saving: only to a regular file or a new path ---

SAVERS = {
    "tk.save": lambda path: tk.save({"W1": np.ones(3)}, path),
    "tk.save_book_params": lambda path: save_book_params({"W1": np.ones(3)}, path),
    "write_idx": lambda path: write_idx(path, np.ones(3, np.uint8)),
}


@pytest.mark.parametrize("saver", SAVERS)
def test_save_refuses_a_symlink_and_leaves_it_and_its_target(tmp_path, saver):
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"the user's file")
    link = tmp_path / "model.npz"
    link.symlink_to(target)
    message = message_of(ValueError, SAVERS[saver], link)
    assert f"{str(link)!r}: it is a symbolic link to {str(target)!r}; pass the real path" in message
    assert link.is_symlink() and target.read_bytes() == b"the user's file"
    assert sorted(os.listdir(tmp_path)) == ["elsewhere.bin", "model.npz"]


@needs_fifo
@pytest.mark.parametrize("saver", SAVERS)
def test_save_refuses_a_fifo_and_leaves_it(tmp_path, saver):
    path = tmp_path / "model.npz"
    os.mkfifo(path)
    with at_once():
        message = message_of(ValueError, SAVERS[saver], path)
    assert str(path) in message and "FIFO" in message and "not a regular file" in message
    assert stat.S_ISFIFO(os.lstat(path).st_mode) and os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.parametrize("saver", SAVERS)
def test_save_refuses_a_directory_naming_it_not_a_temporary_file(tmp_path, saver):
    path = tmp_path / "model.npz"
    path.mkdir()
    message = message_of(IsADirectoryError, SAVERS[saver], path)
    assert str(path) in message and "is a directory" in message and ".tmp" not in message
    assert os.listdir(tmp_path) == ["model.npz"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
# (write_idx is left out: it used to rewrite a file in place, which kept the mode already)
@pytest.mark.parametrize("saver", ["tk.save", "tk.save_book_params"])
@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_a_replaced_file_keeps_its_permission_bits(tmp_path, saver, mode):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")
    path.chmod(mode)
    SAVERS[saver](path)
    assert stat.S_IMODE(path.stat().st_mode) == mode and path.read_bytes() != b"old"


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_a_failed_save_names_the_destination_not_the_temporary_file(tmp_path, monkeypatch, where):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old")

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def cross_device(src, dst, *args, **kwargs):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, dst)

    if where == "write":
        monkeypatch.setattr(np.lib.format, "write_array", full_disk)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", full_disk)
    else:
        monkeypatch.setattr(os, "replace", cross_device)
    with pytest.raises(OSError) as info:
        tk.save({"W1": np.ones(3)}, path)
    monkeypatch.undo()
    message = str(info.value)
    assert str(path) in message and ".tmp" not in message
    assert info.value.errno == (errno.EXDEV if where == "replace" else errno.ENOSPC)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.npz"]
