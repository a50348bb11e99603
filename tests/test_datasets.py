"""tk.datasets: the IDX reader, the loaders, the bundled sample and the downloader.

No test touches the internet: downloads come from an http.server on 127.0.0.1 that
the tests start, serving small files they write.
"""

import gzip
import hashlib
import http.server
import itertools
import os
import re
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from tinygrad_ko import datasets
from tinygrad_ko.datasets import _download, _idx
from tinygrad_ko.datasets import DownloadError, load_fashion_mnist, load_mnist, read_idx, write_idx

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


# --- helpers -----------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """A proxy from the environment must not carry requests meant for 127.0.0.1."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def fake_arrays(n_train=30, n_test=20, seed=0):
    """Images with 0 and 255 present, and every label 0..9 present."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        x[0, 0, 0], x[0, 0, 1] = 0, 255
        t = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(t)
        arrays[f"{prefix}-images-idx3-ubyte.gz"] = x
        arrays[f"{prefix}-labels-idx1-ubyte.gz"] = t
    return arrays


def write_fake_dataset(folder, **kw):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = fake_arrays(**kw)
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


def trust_files(monkeypatch, name, folder):
    """Make the checksum table accept the files now in ``folder``: fake data stands in
    for the real dataset, whose known SHA-256 it cannot have."""
    table = {f: (os.path.getsize(folder / f), hashlib.sha256((folder / f).read_bytes()).hexdigest())
             for f in FILES}
    monkeypatch.setitem(_download.CHECKSUMS, name, table)
    monkeypatch.setitem(_download.CONTENT_SHA256, name, {})


def idx_gz_bytes(array):
    """A uint8 array as .gz IDX bytes, built by hand (independently of write_idx)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).exists() else []


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- IDX reader --------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip_gz_and_raw(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = read_idx(path, ndim=3)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_idx_reader_looks_at_content_not_name(tmp_path):
    path = tmp_path / "labels.gz"                      # named .gz but stored raw
    write_idx(path, np.array([1, 2, 3], np.uint8), compress=False)
    np.testing.assert_array_equal(read_idx(path), [1, 2, 3])


def test_idx_wrong_magic(tmp_path):
    path = tmp_path / "not-idx.gz"
    path.write_bytes(gzip.compress(b"hello world, not an idx file"))
    with pytest.raises(ValueError, match="not an IDX file") as exc:
        read_idx(path)
    assert str(path) in str(exc.value) and "magic number" in str(exc.value)


def test_idx_unknown_type_code(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="unknown type code 0x07"):
        read_idx(path)


def test_idx_too_short_for_magic(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="not an IDX file: only 2 bytes"):
        read_idx(path)


def test_idx_wrong_ndim(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    write_idx(path, np.zeros((4, 2), np.uint8))
    with pytest.raises(ValueError, match=r"wrong number of dimensions.*says 2, expected 1") as exc:
        read_idx(path, ndim=1)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_truncated_data(tmp_path, suffix):
    full = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (60000, 28, 28))
    data = full + bytes(1024)
    path = tmp_path / f"train-images{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    with pytest.raises(ValueError) as exc:
        read_idx(path, ndim=3)
    message = str(exc.value)
    assert str(path) in message
    assert "truncated: header says 60000x28x28 = 47,040,000 bytes, file holds 1,024" in message


def test_idx_gzip_stream_cut_off(tmp_path):
    path = tmp_path / "cut.gz"
    whole = gzip.compress(bytes([0, 0, 8, 1]) + (5000).to_bytes(4, "big") + os.urandom(5000))
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match="truncated") as exc:
        read_idx(path)
    assert str(path) in str(exc.value)


def test_idx_truncated_header(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes([0, 0, 8, 3]) + (10).to_bytes(4, "big"))
    with pytest.raises(ValueError, match="truncated header: 3 dimensions need 12 bytes"):
        read_idx(path)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_extra_data(tmp_path, suffix):
    data = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + b"abcde"
    path = tmp_path / f"x{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)
    with pytest.raises(ValueError, match="more .*than the header says"):
        read_idx(path)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_huge_header_is_refused_before_allocating(tmp_path, monkeypatch, suffix):
    big = 0xFFFFFFFF
    data = bytes([0, 0, 0x0E, 3]) + b"".join(big.to_bytes(4, "big") for _ in range(3)) + bytes(16)
    path = tmp_path / f"huge{suffix}"
    path.write_bytes(gzip.compress(data) if suffix else data)

    def no_allocation(*args, **kwargs):
        raise AssertionError("read_idx allocated for a header it should have refused")
    monkeypatch.setattr(_idx, "_read_data", no_allocation)
    with pytest.raises(ValueError, match=f"over the limit of {_idx.MAX_BYTES:,} bytes") as exc:
        read_idx(path)
    assert str(path) in str(exc.value)
    assert "4294967295x4294967295x4294967295 values of 8 bytes" in str(exc.value)


def test_idx_damaged_gzip(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"\xff" * 40)
    with pytest.raises(ValueError, match="damaged gzip|truncated") as exc:
        read_idx(path)
    assert str(path) in str(exc.value)


def test_images_labels_count_mismatch(tmp_path):
    write_idx(tmp_path / "img.gz", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "lab.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match=r"count mismatch: .*img\.gz holds 5 images but .*lab\.gz holds 4 labels"):
        _idx.read_images_labels(tmp_path / "img.gz", tmp_path / "lab.gz")


def test_images_labels_bad_label_and_dtype(tmp_path):
    write_idx(tmp_path / "img.gz", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "lab.gz", np.array([1, 12, 3], np.uint8))
    with pytest.raises(ValueError, match="label 12 at index 1 is not a class 0..9"):
        _idx.read_images_labels(tmp_path / "img.gz", tmp_path / "lab.gz")
    write_idx(tmp_path / "lab.gz", np.array([1, 2, 3], np.int32))
    with pytest.raises(ValueError, match="labels must be unsigned bytes"):
        _idx.read_images_labels(tmp_path / "img.gz", tmp_path / "lab.gz")


# --- load_mnist on a fake data folder ----------------------------------------

@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path))
    monkeypatch.setitem(_download.MIRRORS, "mnist", [f"http://127.0.0.1:{closed_port()}/"])
    arrays = write_fake_dataset(tmp_path / "mnist")
    trust_files(monkeypatch, "mnist", tmp_path / "mnist")
    return arrays


@pytest.mark.parametrize("normalize,flatten,one_hot_label",
                         list(itertools.product([True, False], repeat=3)))
def test_load_mnist_every_flag_combination(fake_mnist, normalize, flatten, one_hot_label):
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=normalize, flatten=flatten, one_hot_label=one_hot_label)
    for x, t, prefix, n in ((x_train, t_train, "train", 30), (x_test, t_test, "t10k", 20)):
        raw_x = fake_mnist[f"{prefix}-images-idx3-ubyte.gz"]
        raw_t = fake_mnist[f"{prefix}-labels-idx1-ubyte.gz"]
        assert x.shape == ((n, 784) if flatten else (n, 1, 28, 28))
        if normalize:
            assert x.dtype == np.float32
            assert x.min() == 0.0 and x.max() == 1.0
            np.testing.assert_array_equal(x.reshape(n, 28, 28), raw_x.astype(np.float32) / 255.0)
        else:
            assert x.dtype == np.uint8
            np.testing.assert_array_equal(x.reshape(n, 28, 28), raw_x)
        if one_hot_label:
            assert t.shape == (n, 10) and t.dtype == np.float64
            np.testing.assert_array_equal(t.sum(axis=1), 1.0)
            np.testing.assert_array_equal(t.argmax(axis=1), raw_t)
        else:
            assert t.shape == (n,) and t.dtype == np.uint8
            np.testing.assert_array_equal(t, raw_t)
        assert x.flags.writeable and t.flags.writeable


def test_is_available(fake_mnist, tmp_path, monkeypatch):
    assert datasets.is_available("mnist")
    (tmp_path / "mnist" / FILES[2]).unlink()
    assert not datasets.is_available("mnist")
    monkeypatch.setitem(datasets.SYSTEM_DIRS, "fashion-mnist", [])
    assert not datasets.is_available("fashion-mnist")


def test_load_mnist_damaged_file_names_it_and_says_what_to_do(fake_mnist, tmp_path, monkeypatch):
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    write_idx(path, np.zeros(19, np.uint8))
    trust_files(monkeypatch, "mnist", tmp_path / "mnist")   # its checksum passes; its count does not
    with pytest.raises(ValueError, match="count mismatch") as exc:
        load_mnist()
    assert str(path) in str(exc.value) and "Delete the damaged file" in str(exc.value)


def test_data_dir_env_xdg_and_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path / "d"))
    assert datasets.data_dir() == tmp_path / "d"
    assert datasets.data_dir("fashion-mnist") == tmp_path / "d" / "fashion-mnist"
    monkeypatch.delenv("TINYGRAD_KO_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.data_dir("mnist") == tmp_path / "xdg" / "tinygrad_ko" / "mnist"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.data_dir() == tmp_path / "home" / ".cache" / "tinygrad_ko"
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        datasets.data_dir("cifar")


def test_import_needs_no_tqdm():
    import subprocess
    import sys
    code = ("import sys, tinygrad_ko, tinygrad_ko.datasets; "
            "assert 'tqdm' not in sys.modules, 'tqdm imported at import time'")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the bundled sample ------------------------------------------------------

def test_sample_sizes_dtypes_and_balance():
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False, sample=True)
    assert x_train.shape == (4000, 1, 28, 28) and x_test.shape == (1000, 1, 28, 28)
    assert x_train.dtype == x_test.dtype == np.uint8
    assert t_train.dtype == t_test.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(t_train, minlength=10), [400] * 10)
    np.testing.assert_array_equal(np.bincount(t_test, minlength=10), [100] * 10)
    assert x_train.max() == 255 and x_test.max() == 255 and x_train.min() == 0


def test_sample_matches_the_documented_split():
    """NOTICE: per digit, 400 rows to training then 100 to testing, then each set shuffled by
    one RandomState(0): .permutation(4000), then .permutation(1000); and the file is the one whose SHA-256 NOTICE records."""
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False, sample=True)
    generator = np.random.RandomState(0)  # the training order is drawn first, then the test order
    for labels, per_digit in ((t_train, 400), (t_test, 100)):
        unshuffled = np.empty_like(labels)
        unshuffled[generator.permutation(len(labels))] = labels
        np.testing.assert_array_equal(unshuffled, np.repeat(np.arange(10), per_digit))
    # Shuffled: the first 100 training rows hold every digit (a learner's first batch).
    assert set(t_train[:100].tolist()) == set(range(10))
    train_rows = {row.tobytes() for row in x_train.reshape(4000, -1)}
    assert len(train_rows) == 4000
    assert not any(row.tobytes() in train_rows for row in x_test.reshape(1000, -1))
    folder = Path(datasets.__file__).parent / "sample"
    notice = (folder / "NOTICE").read_text()
    recorded = re.search(r"SHA-256\n([0-9a-f]{64})", notice).group(1)
    assert hashlib.sha256((folder / "mnist_sample.npz").read_bytes()).hexdigest() == recorded
    with np.load(folder / "mnist_sample.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["t_test", "t_train", "x_test", "x_train"]


@pytest.mark.parametrize("flatten,one_hot_label", [(True, False), (False, True)])
def test_sample_normalized(flatten, one_hot_label):
    (x_train, t_train), (x_test, t_test) = load_mnist(
        flatten=flatten, one_hot_label=one_hot_label, sample=True)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert x_train.shape == ((4000, 784) if flatten else (4000, 1, 28, 28))
    assert t_test.shape == ((1000, 10) if one_hot_label else (1000,))
    if one_hot_label:
        assert t_test.dtype == np.float64
        _, (_, labels) = load_mnist(sample=True)
        np.testing.assert_array_equal(t_test.argmax(axis=1), labels)
        np.testing.assert_array_equal(np.bincount(labels), [100] * 10)


def test_sample_split_rule_in_the_script(tmp_path):
    """The script's split on a synthetic sorted table: first 400 of each digit to train."""
    import importlib.util
    script = Path(__file__).resolve().parents[1] / "tools" / "make_mnist_sample.py"
    if not script.exists():
        pytest.skip("tools/ is not shipped with the installed package")
    spec = importlib.util.spec_from_file_location("make_mnist_sample", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    labels = np.repeat(np.arange(10), 500)
    pixels = np.tile(np.arange(5000) % 251, (784, 1)).T
    out = module.split(np.column_stack([pixels, labels]).astype(np.uint8))
    assert out["x_train"].shape == (4000, 28, 28) and out["x_test"].shape == (1000, 28, 28)
    assert out["x_train"][400, 0, 0] == 500 % 251        # digit 1's first row is row 500
    assert out["x_test"][0, 0, 0] == 400 % 251           # digit 0's row 400 opens the test set
    with pytest.raises(SystemExit, match="digit 9 has 499 rows"):
        module.split(np.column_stack([pixels, labels]).astype(np.uint8)[:-1])


# --- downloads from a local server -------------------------------------------

class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves server.routes: path -> (mode, payload), mode "ok", "drop", "redirect" or "404"."""

    def do_GET(self):
        mode, payload = self.server.routes.get(self.path, ("404", b""))
        if mode == "404":
            self.send_error(404)
            return
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", payload)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if mode == "drop":             # promise everything, send half, hang up
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.routes = {}
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def entry(payload):
    return len(payload), hashlib.sha256(payload).hexdigest()


def test_download_success(server, tmp_path):
    payload = idx_gz_bytes(np.arange(10, dtype=np.uint8))
    server.routes["/m/labels.gz"] = ("ok", payload)
    dest = _download.download_file([server.base + "/m/labels.gz"], tmp_path / "d" / "labels.gz",
                                   *entry(payload), progress=True)
    assert dest.read_bytes() == payload
    assert leftovers(tmp_path / "d") == ["labels.gz"]
    np.testing.assert_array_equal(read_idx(dest), np.arange(10))


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path):
    payload = b"x" * 5000
    server.routes["/f"] = ("ok", payload)
    with pytest.raises(DownloadError, match="SHA-256 mismatch") as exc:
        _download.download_file([server.base + "/f"], tmp_path / "f", len(payload), "0" * 64,
                                progress=False)
    assert exc.value.attempts[0][0] == server.base + "/f"
    assert leftovers(tmp_path) == []


def test_download_dropped_connection_leaves_nothing(server, tmp_path):
    payload = os.urandom(200_000)
    server.routes["/f"] = ("drop", payload)
    with pytest.raises(DownloadError, match="connection dropped|IncompleteRead") as exc:
        _download.download_file([server.base + "/f"], tmp_path / "f", *entry(payload),
                                progress=False)
    assert "/f" in str(exc.value)
    assert leftovers(tmp_path) == []


def test_download_wrong_size_offered_is_refused(server, tmp_path):
    payload = b"abc" * 100
    server.routes["/f"] = ("ok", payload)
    with pytest.raises(DownloadError, match="offers 300 bytes, expected 299"):
        _download.download_file([server.base + "/f"], tmp_path / "f", 299, "0" * 64,
                                progress=False)
    assert leftovers(tmp_path) == []


def test_download_first_mirror_fails_second_succeeds(server, tmp_path):
    payload = idx_gz_bytes(np.arange(7, dtype=np.uint8))
    server.routes["/good/f.gz"] = ("ok", payload)
    server.routes["/bad/f.gz"] = ("ok", payload[:-1] + b"\x00")        # same size, wrong bytes
    urls = [server.base + "/missing/f.gz", server.base + "/bad/f.gz", server.base + "/good/f.gz"]
    dest = _download.download_file(urls, tmp_path / "f.gz", *entry(payload), progress=False)
    assert dest.read_bytes() == payload
    assert leftovers(tmp_path) == ["f.gz"]


def test_download_interrupted_by_ctrl_c_leaves_nothing(server, tmp_path, monkeypatch):
    payload = os.urandom(300_000)
    server.routes["/f"] = ("ok", payload)

    class InterruptingBar(_download._NoBar):
        def update(self, n):
            raise KeyboardInterrupt
    monkeypatch.setattr(_download, "_progress_bar", lambda *a: InterruptingBar())
    with pytest.raises(KeyboardInterrupt):
        _download.download_file([server.base + "/f", server.base + "/f"], tmp_path / "f",
                                *entry(payload))
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("url", [
    "http://example.com/mnist/f.gz",          # plain http elsewhere
    "http://127.0.0.1.example.com/f.gz",      # looks local, is not
    "ftp://example.com/f.gz",
    "file:///etc/passwd",
])
def test_non_https_non_loopback_url_is_refused(tmp_path, monkeypatch, url):
    def no_network(*args, **kwargs):
        raise AssertionError("opened a connection for a URL that should be refused")
    monkeypatch.setattr(_download.urllib.request, "build_opener", no_network)
    with pytest.raises(ValueError, match="only https://"):
        _download.check_url(url)
    with pytest.raises(DownloadError, match="refusing .*only https://"):
        _download.download_file([url], tmp_path / "f", 1, "0" * 64, progress=False)
    assert leftovers(tmp_path) == []


def test_loopback_and_https_urls_are_accepted():
    for url in ("https://storage.googleapis.com/x", "http://127.0.0.1:8000/x",
                "http://localhost/x", "http://[::1]:9/x"):
        _download.check_url(url)
    for mirrors in _download.MIRRORS.values():
        for base in mirrors:
            assert base.startswith("https://")


def test_redirect_to_plain_http_is_refused(server, tmp_path):
    server.routes["/f"] = ("redirect", "http://example.com/f")
    with pytest.raises(DownloadError, match="refusing http://example.com/f"):
        _download.download_file([server.base + "/f"], tmp_path / "f", 1, "0" * 64,
                                progress=False)
    assert leftovers(tmp_path) == []


def test_load_mnist_downloads_missing_files(server, tmp_path, monkeypatch, capsys):
    arrays = fake_arrays()
    table = {}
    for name, array in arrays.items():
        payload = idx_gz_bytes(array)
        server.routes[f"/mnist/{name}"] = ("ok", payload)
        table[name] = entry(payload)
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path))
    monkeypatch.setitem(_download.CHECKSUMS, "mnist", table)
    monkeypatch.setitem(_download.MIRRORS, "mnist",
                        [f"http://127.0.0.1:{closed_port()}/", server.base + "/mnist/"])
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False)
    np.testing.assert_array_equal(x_train.reshape(-1, 28, 28), arrays[FILES[0]])
    np.testing.assert_array_equal(t_test, arrays[FILES[3]])
    assert leftovers(tmp_path / "mnist") == sorted(FILES)
    server.routes.clear()                      # a second call reads the files, no download
    load_mnist()


def test_offline_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path))
    port = closed_port()
    monkeypatch.setitem(_download.MIRRORS, "mnist", [f"http://127.0.0.1:{port}/a/",
                                                     f"http://localhost:{port}/b/"])
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8))   # one already there
    with pytest.raises(DownloadError) as exc:
        load_mnist()
    assert isinstance(exc.value, RuntimeError)
    message = str(exc.value)
    assert str(folder) in message
    for name in FILES[:3]:
        assert name in message
        assert f"http://127.0.0.1:{port}/a/{name}" in message
    assert "Missing in" in message and "t10k-labels-idx1-ubyte.gz\n" not in message.split("Tried:")[0]
    assert "TINYGRAD_KO_DATA" in message
    assert "load_mnist(sample=True)" in message and "--dataset sample" in message
    assert len(exc.value.attempts) == 2
    assert leftovers(folder) == ["t10k-labels-idx1-ubyte.gz"]


# --- Fashion-MNIST ------------------------------------------------------------

def test_fashion_mnist_from_a_system_folder(tmp_path, monkeypatch):
    """The lookup order on any machine: data folder, then the system package's folder."""
    system = tmp_path / "usr-share"
    arrays = write_fake_dataset(system, seed=1)
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path / "data"))
    monkeypatch.setitem(datasets.SYSTEM_DIRS, "fashion-mnist", [tmp_path / "absent", system])
    monkeypatch.setitem(_download.MIRRORS, "fashion-mnist", [f"http://127.0.0.1:{closed_port()}/"])
    trust_files(monkeypatch, "fashion-mnist", system)
    (x_train, t_train), _ = load_fashion_mnist(normalize=False, flatten=False)
    np.testing.assert_array_equal(x_train[:, 0], arrays[FILES[0]])
    np.testing.assert_array_equal(t_train, arrays[FILES[1]])
    own = write_fake_dataset(tmp_path / "data" / "fashion-mnist", seed=2)   # the data folder wins
    trust_files(monkeypatch, "fashion-mnist", tmp_path / "data" / "fashion-mnist")
    (_, t_train), _ = load_fashion_mnist()
    np.testing.assert_array_equal(t_train, own[FILES[1]])


@pytest.mark.skipif(not all((SYSTEM_FASHION / f).is_file() for f in FILES),
                    reason="Debian's dataset-fashion-mnist is not installed "
                           "(apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(tmp_path))
    monkeypatch.setitem(_download.MIRRORS, "fashion-mnist", [f"http://127.0.0.1:{closed_port()}/"])
    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(normalize=False)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.uint8 and t_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(t_train, minlength=10), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(t_test, minlength=10), [1000] * 10)
    assert x_train.max() == 255
    assert leftovers(tmp_path) == []            # nothing downloaded or created
