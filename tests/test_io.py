"""tinygrad_ko.io: save/load round trips, atomic saves, and files that must be refused."""

import io
import os
import pathlib
import pickle
import pickletools
import signal
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.lib import format as npy_format

import tinygrad_ko as tk
from tinygrad_ko.io import _files as tio_files
from tinygrad_ko.io import load, save


# --- helpers: craft .npy members and zip files by hand ---

def npy_member(header, data=b"", version=(1, 0)):
    """The bytes of a .npy file with the given header dict text and raw data (no checks)."""
    text = header.encode("latin1")
    length_bytes = 2 if version == (1, 0) else 4
    preamble = 6 + 2 + length_bytes
    pad = -(preamble + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    length = struct.pack("<H" if version == (1, 0) else "<I", len(text))
    return b"\x93NUMPY" + bytes(version) + length + text + data


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are crafted on purpose
        with zipfile.ZipFile(path, "w", compression=compression) as zf:
            for name, data in members:
                zf.writestr(name, data)


def patch_central_directory_sizes(path, compress_size=None, file_size=None):
    """Overwrite the sizes the zip's central directory claims for its first member."""
    raw = bytearray(pathlib.Path(path).read_bytes())
    at = raw.index(b"PK\x01\x02")
    if compress_size is not None:
        raw[at + 20:at + 24] = struct.pack("<I", compress_size)
    if file_size is not None:
        raw[at + 24:at + 28] = struct.pack("<I", file_size)
    pathlib.Path(path).write_bytes(bytes(raw))


def assert_same_state(a, b):
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].shape == b[key].shape, key
        np.testing.assert_array_equal(a[key], b[key])


def open_fd_count():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


OLD = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.array([1.0, 2.0, 3.0])}


# --- round trips ---

def test_round_trip_keeps_names_order_dtypes_shapes_and_values(tmp_path):
    rng = np.random.default_rng(0)
    state = {
        "layers.0.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "layers.0.bias": rng.standard_normal(4),
        "step": np.array(7, dtype=np.int64),             # 0-d
        "empty": np.zeros((0, 3), dtype=np.float32),     # no elements
        "mask": np.array([True, False, True]),
        "counts": np.arange(5, dtype=np.uint16),
        "small": np.array([-3, 4], dtype=np.int8),
        "half": np.array([0.5, 1.5], dtype=np.float16),
        "z": np.array([1 + 2j, -1j]),
        "big_endian": np.arange(4, dtype=">f8"),
        "fortran": np.asfortranarray(rng.standard_normal((3, 5))),
        "strided": rng.standard_normal((4, 6))[::2, ::3],
        "scalar_float": np.float32(2.5),
    }
    path = tmp_path / "model.npz"
    save(state, path)
    loaded = load(path)
    assert isinstance(loaded, dict)
    assert_same_state(loaded, {k: np.asarray(v) for k, v in state.items()})
    for key, array in loaded.items():
        assert type(array) is np.ndarray, key     # fully read, no memmap or lazy NpzFile
        assert array.flags.writeable, key


def test_fortran_order_array_loads_with_the_same_layout(tmp_path):
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    save({"a": a}, tmp_path / "f.npz")
    b = load(tmp_path / "f.npz")["a"]
    np.testing.assert_array_equal(a, b)
    assert b.flags.f_contiguous


def test_tensors_are_saved_as_their_data(tmp_path):
    w = tk.Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    (w * w).sum().backward()
    save({"W": w, "c": tk.Tensor([1.0, 2.0])}, tmp_path / "t.npz")
    loaded = load(tmp_path / "t.npz")
    assert list(loaded) == ["W", "c"]
    assert loaded["W"].dtype == np.float32
    np.testing.assert_array_equal(loaded["W"], w.data)
    np.testing.assert_array_equal(loaded["c"], [1.0, 2.0])


def test_python_numbers_are_saved_as_0d_arrays(tmp_path):
    save({"lr": 0.1, "epoch": 3, "flag": True}, tmp_path / "n.npz")
    loaded = load(tmp_path / "n.npz")
    assert loaded["lr"].shape == () and loaded["lr"] == 0.1
    assert loaded["epoch"] == 3 and loaded["flag"].dtype == np.bool_


def test_keys_that_np_savez_would_mistake_for_its_own_arguments(tmp_path):
    state = {"file": np.ones(2), "allow_pickle": np.zeros(1), "arr_0": np.arange(3), "a/b": np.eye(2)}
    save(state, tmp_path / "k.npz")
    assert_same_state(load(tmp_path / "k.npz"), state)


def test_path_is_used_exactly_as_given(tmp_path):
    save(OLD, tmp_path / "model")          # no ".npz" is appended, unlike np.savez
    assert os.listdir(tmp_path) == ["model"]
    assert_same_state(load(tmp_path / "model"), OLD)
    save(OLD, str(tmp_path / "model.weights"))
    assert_same_state(load(str(tmp_path / "model.weights")), OLD)


def test_numpy_reads_our_files_and_we_read_numpys(tmp_path):
    save(OLD, tmp_path / "ours.npz")
    with np.load(tmp_path / "ours.npz", allow_pickle=False) as npz:
        assert_same_state(dict(npz), OLD)
    np.savez(tmp_path / "plain.npz", **OLD)
    np.savez_compressed(tmp_path / "compressed.npz", **OLD)
    assert_same_state(load(tmp_path / "plain.npz"), OLD)
    assert_same_state(load(tmp_path / "compressed.npz"), OLD)


def test_empty_state_dict_round_trips(tmp_path):
    save({}, tmp_path / "e.npz")
    assert load(tmp_path / "e.npz") == {}


def test_load_closes_the_file(tmp_path):
    save(OLD, tmp_path / "m.npz")
    before = open_fd_count()
    if before is None:
        pytest.skip("needs /proc/self/fd")
    load(tmp_path / "m.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip at all")
    with pytest.raises(ValueError):
        load(tmp_path / "bad.npz")
    assert open_fd_count() == before


def test_saved_file_gets_normal_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    try:
        save(OLD, tmp_path / "m.npz")
    finally:
        os.umask(umask)
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


keys = st.text(min_size=1, max_size=12).filter(lambda k: "\x00" not in k)   # st.text has no surrogates
numeric_dtypes = st.one_of(hnp.integer_dtypes(), hnp.unsigned_integer_dtypes(), hnp.floating_dtypes(),
                           hnp.complex_number_dtypes(), hnp.boolean_dtypes())
arrays = numeric_dtypes.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0,
                                                                            max_side=4)))


@settings(max_examples=30, deadline=None)
@given(state=st.dictionaries(keys, arrays, max_size=4))
def test_round_trip_property(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("prop") / "state.npz"
    save(state, path)
    loaded = load(path)
    assert list(loaded) == list(state)
    for key in state:
        assert loaded[key].dtype == state[key].dtype and loaded[key].shape == state[key].shape
        np.testing.assert_array_equal(loaded[key], state[key])  # NaNs compare equal here


# --- save: what it refuses, before writing anything ---

@pytest.mark.parametrize("state, error, words", [
    ([("W", np.ones(2))], TypeError, ["dict", "list"]),
    ({1: np.ones(2)}, TypeError, ["1", "str"]),
    ({"": np.ones(2)}, ValueError, ["''", "name"]),
    ({"a\x00b": np.ones(2)}, ValueError, ["NUL"]),
    ({"W": None}, TypeError, ["'W'", "NoneType", "not an array"]),
    ({"W": "weights"}, TypeError, ["'W'", "str"]),
    ({"W": [1.0, 2.0]}, TypeError, ["'W'", "list", "np.asarray"]),
    ({"W": {"nested": np.ones(2)}}, TypeError, ["'W'", "dict"]),
    ({"obj": np.array([{"a": 1}], dtype=object)}, ValueError, ["'obj'", "object", "pickle"]),
    ({"names": np.array(["a", "b"])}, ValueError, ["'names'", "numeric"]),
    ({"rec": np.zeros(2, dtype=[("x", "<f8")])}, ValueError, ["'rec'", "structured"]),
    ({"when": np.array(["2020-01-01"], dtype="M8[D]")}, ValueError, ["'when'", "numeric"]),
])
def test_save_refuses_bad_entries_and_leaves_the_old_file(tmp_path, state, error, words):
    path = tmp_path / "m.npz"
    save(OLD, path)
    with pytest.raises(error) as info:
        save(state, path)
    for word in words:
        assert word in str(info.value)
    assert_same_state(load(path), OLD)
    assert os.listdir(tmp_path) == ["m.npz"]


# --- save: atomic ---

@pytest.fixture(params=["anonymous temp file", "named temp file"])
def temp_kind(request, monkeypatch, tmp_path):
    """Run a test on both temp-file strategies: O_TMPFILE (Linux) and the named fallback."""
    if request.param == "named temp file":
        monkeypatch.setattr(tio_files, "_open_anonymous_temp", lambda folder: None)
    elif not _anonymous_temp_works(tmp_path):
        pytest.skip("O_TMPFILE is not available here")
    return request.param


def _anonymous_temp_works(folder):
    fd = tio_files._open_anonymous_temp(os.path.abspath(folder))
    if fd is None:
        return False
    os.close(fd)
    return True


def _interrupt_after_some_bytes(fp, array, **kwargs):
    fp.write(b"\x93NUMPY partial data")
    raise KeyboardInterrupt


@pytest.mark.parametrize("fail_at", ["write", "fsync", "replace"])
@pytest.mark.parametrize("existing", [True, False])
def test_interrupted_save_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch, temp_kind, fail_at, existing):
    _check_interrupted_save(tmp_path, monkeypatch, temp_kind, fail_at, existing)


@pytest.mark.parametrize("existing", [True, False])
def test_save_interrupted_while_naming_the_anonymous_temp_leaves_the_old_file(tmp_path, monkeypatch, existing):
    """Only the O_TMPFILE strategy has this step: the data is written, the file not yet named."""
    if not _anonymous_temp_works(tmp_path):
        pytest.skip("O_TMPFILE is not available on this system")
    _check_interrupted_save(tmp_path, monkeypatch, "anonymous temp file", "link", existing)


def _check_interrupted_save(tmp_path, monkeypatch, temp_kind, fail_at, existing):
    path = tmp_path / "m.npz"
    if existing:
        save(OLD, path)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if fail_at == "write":
        monkeypatch.setattr(npy_format, "write_array", _interrupt_after_some_bytes)
    elif fail_at == "fsync":
        monkeypatch.setattr(os, "fsync", interrupt)
    elif fail_at == "link":
        monkeypatch.setattr(tio_files, "_link_anonymous_temp", interrupt)
    else:
        monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save({"W1": np.zeros((100, 100)), "b1": np.zeros(3)}, path)
    monkeypatch.undo()
    if existing:
        assert os.listdir(tmp_path) == ["m.npz"]
        assert_same_state(load(path), OLD)
    else:
        assert os.listdir(tmp_path) == []


def test_failed_replace_onto_a_folder_leaves_no_temp(tmp_path, temp_kind):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(OSError):
        save(OLD, tmp_path / "model.npz")
    assert os.listdir(tmp_path) == ["model.npz"]


def test_anonymous_temp_file_is_invisible_while_writing(tmp_path, monkeypatch, temp_kind):
    seen = []
    real_write = npy_format.write_array

    def spy(fp, array, **kwargs):
        seen.append(sorted(os.listdir(tmp_path)))
        return real_write(fp, array, **kwargs)

    monkeypatch.setattr(npy_format, "write_array", spy)
    save(OLD, tmp_path / "m.npz")
    monkeypatch.undo()
    if temp_kind == "anonymous temp file":
        assert seen == [[], []]
    else:
        assert all(len(names) == 1 and names[0].startswith(".m.npz.") and names[0].endswith(".tmp")
                   for names in seen)
    assert os.listdir(tmp_path) == ["m.npz"]
    assert_same_state(load(tmp_path / "m.npz"), OLD)


_CHILD_PAUSES_MIDWAY = textwrap.dedent("""
    import sys, time
    import numpy as np
    from numpy.lib import format as npy_format
    import tinygrad_ko.io as tio

    class Slow:
        # passes writes on to the zip member; pauses for ever after the first 16 MiB of data
        def __init__(self, fp):
            self.fp, self.written = fp, 0
        def write(self, data):
            self.fp.write(data)
            self.written += len(data)
            if self.written > 2**24:
                print("midway", flush=True)
                time.sleep(600)

    real = npy_format.write_array
    npy_format.write_array = lambda fp, array, **kw: real(Slow(fp), array, **kw)
    tio.save({"W1": np.full((2**23,), 7.0)}, sys.argv[1])   # 64 MiB
""")

_CHILD_SAVES_IN_A_LOOP = textwrap.dedent("""
    import sys
    import numpy as np
    import tinygrad_ko.io as tio
    print("started", flush=True)
    for i in range(10**6):
        tio.save({"W1": np.full((2**22,), float(i))}, sys.argv[1])   # 32 MiB each time
""")


def _run_child_and_kill(script, path, wait_for, delay=0.0):
    proc = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == wait_for, proc.stderr.read()
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_midway_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "m.npz"
    save(OLD, path)
    _run_child_and_kill(_CHILD_PAUSES_MIDWAY, path, "midway")
    assert_same_state(load(path), OLD)
    if not _anonymous_temp_works(tmp_path):
        pytest.skip("without O_TMPFILE a killed save leaves its named temp file behind")
    assert os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("delay", [0.05, 0.3, 0.7])
def test_save_killed_at_any_moment_leaves_a_complete_file(tmp_path, delay):
    path = tmp_path / "m.npz"
    save(OLD, path)
    _run_child_and_kill(_CHILD_SAVES_IN_A_LOOP, path, "started", delay)
    loaded = load(path)                                        # never a half-written file
    if list(loaded) == list(OLD) and loaded["W1"].shape == OLD["W1"].shape:
        assert_same_state(loaded, OLD)
    else:
        w = loaded["W1"]
        assert w.shape == (2**22,) and np.all(w == w[0])
    if _anonymous_temp_works(tmp_path):
        assert os.listdir(tmp_path) == ["m.npz"]


# --- load: files that are refused ---

class _CreatesFolderWhenUnpickled:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def _pickle_bearing_npz(path, marker):
    payload = np.empty(1, dtype=object)
    payload[0] = _CreatesFolderWhenUnpickled(str(marker))
    np.savez(path, W1=np.ones(3), evil=payload)   # np.savez pickles object arrays


def test_the_pickle_payload_really_runs_code_when_unpickled(tmp_path):
    # The control: the crafted file is dangerous, so refusing it below means something.
    marker = tmp_path / "pwned_control"
    _pickle_bearing_npz(tmp_path / "evil.npz", marker)
    with np.load(tmp_path / "evil.npz", allow_pickle=True) as npz:
        npz["evil"]
    assert marker.exists()


def test_load_refuses_pickled_objects_without_running_them(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.npz"
    _pickle_bearing_npz(path, marker)
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    for word in ["pickled Python objects", "refused", "'evil'", str(path)]:
        assert word in message
    assert not marker.exists()


@pytest.mark.parametrize("descr, words", [
    ("'|O'", ["pickled"]),
    ("[('x', '<f8')]", ["structured"]),
    ("'|V8'", ["numeric"]),
    ("'<U3'", ["numeric"]),
    ("'<M8[D]'", ["numeric"]),
])
def test_load_refuses_non_numeric_dtypes(tmp_path, descr, words):
    path = tmp_path / "d.npz"
    write_zip(path, [("x.npy", npy_member(f"{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}",
                                          b"\x00" * 24))])
    with pytest.raises(ValueError) as info:
        load(path)
    for word in words + ["'x'", str(path)]:
        assert word in str(info.value)


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_crafted_huge_header_is_refused_before_allocating(tmp_path, version):
    path = tmp_path / "huge.npz"
    member = npy_member("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
                        b"\x00" * 16, version)
    write_zip(path, [("W1.npy", member)])
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20                       # nothing near 8 TB (or even 1 MiB) was allocated
    for word in ["'W1'", "(1000000000000,)", "8000000000000 bytes", "16 bytes", "refused", str(path)]:
        assert word in str(info.value)


@pytest.mark.parametrize("shape, nbytes", [((2,), 24), ((3,), 16), ((0,), 8), ((), 0), ((2, -3), 0)])
def test_header_that_disagrees_with_the_data_size_is_refused(tmp_path, shape, nbytes):
    path = tmp_path / "bad.npz"
    write_zip(path, [("b1.npy", npy_member(f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}",
                                           b"\x01" * nbytes))])
    with pytest.raises(ValueError, match="'b1'"):
        load(path)


def test_zip_directory_claiming_more_bytes_than_the_file_has_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    n = 2**32 - 2**10                          # about 4 GB claimed, a few hundred bytes stored
    header = f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n - 128},), }}"   # 128: header bytes
    write_zip(path, [("W1.npy", npy_member(header, b"\x00" * 8))])
    patch_central_directory_sizes(path, compress_size=n, file_size=n)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="truncated") as info:
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    assert "'W1'" in str(info.value)


def test_deflated_entry_claiming_an_impossible_size_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    write_zip(path, [("W1.npy", npy_member("{'descr': '|u1', 'fortran_order': False, 'shape': (8,), }",
                                           b"\x00" * 8))], compression=zipfile.ZIP_DEFLATED)
    patch_central_directory_sizes(path, file_size=2**32 - 1024)
    with pytest.raises(ValueError, match="impossible uncompressed size"):
        load(path)


def test_non_array_entry_is_refused(tmp_path):
    path = tmp_path / "extra.npz"
    write_zip(path, [("W1.npy", npy_member("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                                           b"\x00" * 8)),
                     ("notes.txt", b"trained for 3 epochs")])
    with pytest.raises(ValueError) as info:
        load(path)
    for word in ["'notes.txt'", "not an array", str(path)]:
        assert word in str(info.value)


def test_entry_named_npy_that_is_not_an_array_is_refused(tmp_path):
    path = tmp_path / "fake.npz"
    write_zip(path, [("W1.npy", b"hello, I am not an array")])
    with pytest.raises(ValueError) as info:
        load(path)
    for word in ["'W1'", "not a valid .npy array", str(path)]:
        assert word in str(info.value)


def test_duplicate_keys_are_refused(tmp_path):
    member = npy_member("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", b"\x00" * 8)
    write_zip(tmp_path / "dup.npz", [("W1.npy", member), ("W1.npy", member)])
    with pytest.raises(ValueError, match="'W1' appears twice"):
        load(tmp_path / "dup.npz")


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.95, -1, -22])
def test_truncated_file_is_refused(tmp_path, keep):
    path = tmp_path / "cut.npz"
    save({"W1": np.arange(1000.0), "b1": np.ones(10)}, path)
    raw = path.read_bytes()
    cut = int(len(raw) * keep) if keep > 0 else len(raw) + keep
    path.write_bytes(raw[:cut])
    with pytest.raises(ValueError) as info:
        load(path)
    assert str(path) in str(info.value)
    assert "truncated" in str(info.value)


def test_corrupted_array_data_is_refused(tmp_path):
    path = tmp_path / "flip.npz"
    save({"W1": np.arange(1000.0)}, path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF                  # inside the array data: the CRC no longer matches
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt"):
        load(path)


@pytest.mark.parametrize("content, words", [
    (b"W1,b1\n1.0,2.0\n", ["not an .npz file"]),
    (b"", ["empty"]),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, ["not an .npz file"]),
])
def test_not_a_zip_file_is_refused(tmp_path, content, words):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        load(path)
    for word in words + [str(path)]:
        assert word in str(info.value)


def test_single_npy_file_is_refused_with_a_hint(tmp_path):
    np.save(tmp_path / "W1.npy", np.ones(3))
    with pytest.raises(ValueError, match=r"single \.npy array.*np\.load"):
        load(tmp_path / "W1.npy")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.npz")


def test_exported_at_the_package_top_level():
    assert tk.save is save and tk.load is load


# --- the book's weight files: pickles of a dict of arrays ---

# The book's trained weights (see NOTICE there); CI always has this folder.
BOOK = pathlib.Path(__file__).resolve().parents[2] / "shared" / "book"
needs_book = pytest.mark.skipif(not BOOK.is_dir(), reason=f"the book's weight files are not in {BOOK}")

BOOK_PARAMS = {
    "book_ch03_sample_weight.pkl": {"W1": (784, 50), "b1": (50,), "W2": (50, 100), "b2": (100,),
                                    "W3": (100, 10), "b3": (10,)},
    "book_ch07_params.pkl": {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,),
                             "W3": (100, 10), "b3": (10,)},
    "book_ch08_deep_convnet_params.pkl": {
        "W1": (16, 1, 3, 3), "b1": (16,), "W2": (16, 16, 3, 3), "b2": (16,),
        "W3": (32, 16, 3, 3), "b3": (32,), "W4": (32, 32, 3, 3), "b4": (32,),
        "W5": (64, 32, 3, 3), "b5": (64,), "W6": (64, 64, 3, 3), "b6": (64,),
        "W7": (1024, 50), "b7": (50,), "W8": (50, 10), "b8": (10,)},
}
BOOK_DTYPES = {"book_ch03_sample_weight.pkl": np.float32, "book_ch07_params.pkl": np.float64,
               "book_ch08_deep_convnet_params.pkl": np.float64}

BOOK_LIKE = {
    "W1": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "b1": np.array([0.5, -1.25, 1e-300, np.inf]),
    "W2": np.asfortranarray(np.linspace(-1, 1, 6).reshape(2, 3)),   # Fortran order in memory
    "step": np.array(7, dtype=np.int64),                              # 0-d
    "mask": np.array([True, False]),
    "empty": np.zeros((0, 3), dtype=np.float32),
}


@needs_book
@pytest.mark.parametrize("name", BOOK_PARAMS)
def test_the_books_weight_files_load(name):
    params = tk.load_book_params(BOOK / name)
    assert {key: value.shape for key, value in params.items()} == BOOK_PARAMS[name]
    for key, value in params.items():
        assert value.dtype == BOOK_DTYPES[name], key
        assert value.flags.writeable and value.flags.c_contiguous, key
        assert np.all(np.isfinite(value)) and np.any(value != 0), key


def test_save_book_params_is_read_back_equal_by_pickle_and_by_load_book_params(tmp_path):
    path = tmp_path / "params.pkl"
    tk.save_book_params({**BOOK_LIKE, "b2": tk.Tensor([1.0, 2.0])}, path)
    # The book's own code does pickle.load; on a file we wrote ourselves, so can this test.
    with open(path, "rb") as f:
        by_pickle = pickle.load(f)
    ours = tk.load_book_params(path)
    expected = {**BOOK_LIKE, "b2": np.array([1.0, 2.0])}
    for loaded in (by_pickle, ours):
        assert list(loaded) == list(expected)
        for key in expected:
            assert type(loaded[key]) is np.ndarray, key
            assert loaded[key].dtype == expected[key].dtype and loaded[key].shape == expected[key].shape
            np.testing.assert_array_equal(loaded[key], expected[key])


def test_save_book_params_writes_what_numpy_1_writes(tmp_path):
    path = tmp_path / "params.pkl"
    tk.save_book_params({"W1": np.ones((2, 3), dtype=np.float32)}, path)
    raw = path.read_bytes()
    assert raw[:2] == b"\x80\x03"                                   # protocol 3, as the book's files
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw         # NumPy 1.x's name: 2.x reads it too
    assert b"numpy._core" not in raw
    names = [arg for op, arg, _ in pickletools.genops(raw) if op.name == "GLOBAL"]
    assert sorted(set(names)) == ["numpy dtype", "numpy ndarray", "numpy.core.multiarray _reconstruct"]
    pickletools.dis(raw, out=io.StringIO())                         # a well-formed pickle


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_load_book_params_reads_numpys_own_pickles_of_every_protocol(tmp_path, protocol):
    arrays = {**BOOK_LIKE, "T": np.ones((2, 3, 4)).transpose(1, 0, 2) * np.arange(4),
              "big_endian": np.arange(3, dtype=">i4")}
    path = tmp_path / "params.pkl"
    path.write_bytes(pickle.dumps(arrays, protocol=protocol))
    loaded = tk.load_book_params(path)
    assert list(loaded) == list(arrays)
    for key, value in arrays.items():
        assert loaded[key].dtype == value.dtype.newbyteorder("="), key   # native byte order
        np.testing.assert_array_equal(loaded[key], value)


@pytest.mark.parametrize("written_by, other", [(b"numpy.core.multiarray", b"numpy._core.multiarray"),
                                               (b"numpy._core.multiarray", b"numpy.core.multiarray")])
def test_load_book_params_reads_numpy_1_and_numpy_2_pickles_alike(tmp_path, written_by, other):
    raw = pickle.dumps(BOOK_LIKE, protocol=3)       # spelled as this NumPy spells it
    path = tmp_path / "params.pkl"
    path.write_bytes(raw.replace(other, written_by))
    loaded = tk.load_book_params(path)
    for key, value in BOOK_LIKE.items():
        np.testing.assert_array_equal(loaded[key], value)


def test_load_book_params_tells_npz_from_pickle_by_content_not_name(tmp_path):
    tk.save({"W1": np.eye(2)}, tmp_path / "params.pkl")                 # an .npz named .pkl
    tk.save_book_params({"W1": np.eye(3)}, tmp_path / "params.npz")     # a pickle named .npz
    assert tk.load_book_params(tmp_path / "params.pkl")["W1"].shape == (2, 2)
    assert tk.load_book_params(tmp_path / "params.npz")["W1"].shape == (3, 3)


@pytest.mark.parametrize("params, error, words", [
    ({"W": None}, TypeError, ["save_book_params", "'W'", "NoneType"]),
    ({"obj": np.array([{"a": 1}], dtype=object)}, ValueError, ["save_book_params", "'obj'", "object"]),
    ([("W", np.ones(2))], TypeError, ["save_book_params", "dict"]),
])
def test_save_book_params_refuses_bad_entries_before_writing(tmp_path, params, error, words):
    with pytest.raises(error) as info:
        tk.save_book_params(params, tmp_path / "params.pkl")
    for word in words:
        assert word in str(info.value)
    assert os.listdir(tmp_path) == []


def test_book_params_are_exported_at_the_top_level():
    import tinygrad_ko.io as tio
    assert tk.load_book_params is tio.load_book_params and tk.save_book_params is tio.save_book_params
    assert issubclass(tk.UnsafePickleError, pickle.UnpicklingError)
    for name in ("load_book_params", "save_book_params", "UnsafePickleError"):
        assert name in tk.__all__
