"""Fetching the dataset files: HTTPS mirrors, size and SHA-256 checks, atomic writes.

Each file goes into a temporary file in the target folder; only after its size and
SHA-256 match the values below is it renamed into place with ``os.replace``. On any
failure (a wrong checksum, a dropped connection, Ctrl-C) the temporary file is
removed, so the folder never holds a half-written or unverified dataset file.

The tables ``MIRRORS`` and ``CHECKSUMS`` are plain module-level dicts: the tests
point them at a local server, and a user behind a proxy mirror can do the same.
"""

import hashlib
import http.client
import os
import urllib.parse
import urllib.request
from pathlib import Path

from ..io import write_atomically

# Base URLs, tried in order; the file name is appended. Only https:// is accepted
# (see check_url). yann.lecun.com, MNIST's original home, serves plain HTTP and is
# often down, so it is not listed.
MIRRORS = {
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",        # PyTorch's (torchvision) mirror
        "https://storage.googleapis.com/cvdf-datasets/mnist/",   # Google's (TensorFlow Datasets) mirror
    ],
    "fashion-mnist": [
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",   # Keras' mirror
        # the authors' GitHub repository
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
}

# file name -> (size in bytes, SHA-256) of the original .gz files.
CHECKSUMS = {
    # From TensorFlow Datasets, tensorflow_datasets/url_checksums/mnist.txt (the
    # storage.googleapis.com/cvdf-datasets/mnist/ URLs: size and SHA-256 per file).
    # The same SHA-256 values are used by projects that fetch from the ossci mirror.
    "mnist": {
        "train-images-idx3-ubyte.gz": (9912422,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        "train-labels-idx1-ubyte.gz": (28881,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        "t10k-images-idx3-ubyte.gz": (1648877,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
        "t10k-labels-idx1-ubyte.gz": (4542,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
    },
    # From TensorFlow Datasets, tensorflow_datasets/url_checksums/fashion_mnist.txt
    # (the authors' files: size and SHA-256); Keras' keras/src/datasets/fashion_mnist.py
    # FILE_HASHES lists the same SHA-256 for its tf-keras-datasets copies.
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": (26421880,
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        "train-labels-idx1-ubyte.gz": (29515,
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
        "t10k-images-idx3-ubyte.gz": (4422102,
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
        "t10k-labels-idx1-ubyte.gz": (5148,
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
    },
}

# file name -> SHA-256 of the file's IDX content after gunzip (``gunzip -c f | sha256sum``).
# Files already on disk are trusted when they match either CHECKSUMS (the original .gz)
# or this table: copies repacked by someone else (Debian's dataset-fashion-mnist
# rewrote the gzip headers) hold the same arrays in different .gz bytes.
CONTENT_SHA256 = {
    # Computed from MNIST's test files, whose .gz SHA-256 equal CHECKSUMS above (and whose
    # MD5s equal the published ones). MNIST's training files were not at hand when these
    # values were computed, so they have no entry: a training file is trusted only when
    # its .gz SHA-256 matches CHECKSUMS.
    "mnist": {
        "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    # Computed from Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist),
    # whose .gz files differ from the originals only in their gzip headers.
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

TIMEOUT = 30            # seconds without data before a connection is given up
_CHUNK = 1 << 16
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class DownloadError(RuntimeError):
    """A dataset file could not be fetched from any mirror (offline, or every mirror
    failed). ``attempts`` lists ``(url, reason)`` for each try.

    >>> error = DownloadError("no mirror answered", [("https://example.org/a.gz", "timed out")])
    >>> isinstance(error, RuntimeError), error.attempts[0][1]
    (True, 'timed out')
    """

    def __init__(self, message, attempts=()):
        super().__init__(message)
        self.attempts = list(attempts)


def check_url(url):
    """Raise ``ValueError`` unless ``url`` is https://, or plain http:// to this machine
    (127.0.0.1, localhost, ::1: a local test server). Data is never fetched in clear
    text from elsewhere: anyone on the way could change it.

    >>> check_url("https://storage.googleapis.com/cvdf-datasets/mnist/")
    >>> check_url("http://yann.lecun.com/exdb/mnist/")
    Traceback (most recent call last):
    ...
    ValueError: refusing http://yann.lecun.com/exdb/mnist/: only https:// URLs are allowed (plain http:// only to 127.0.0.1, localhost or ::1)
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return
    if scheme == "http" and parts.hostname in _LOOPBACK:
        return
    raise ValueError(
        f"refusing {url}: only https:// URLs are allowed "
        f"(plain http:// only to 127.0.0.1, localhost or ::1)")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL that check_url accepts (no https -> http)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        pass


def _progress_bar(total, desc, enabled):
    """A tqdm bar counting bytes; tqdm is imported here, so the package imports with NumPy alone."""
    if not enabled:
        return _NoBar()
    try:
        from tqdm import tqdm
    except ImportError:         # tqdm is a dependency, but a missing bar must not stop a download
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)


def _fetch(url, dest, size, sha256, timeout, progress):
    """One try: url -> temporary file -> checks -> dest, by io.write_atomically (nothing left on failure)."""
    check_url(url)
    opener = urllib.request.build_opener(_CheckedRedirects)
    with opener.open(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) != size:
            raise ValueError(f"the server offers {int(length):,} bytes, expected {size:,}")
        write_atomically(dest, lambda out: _copy_checked(response, out, size, sha256, dest.name, progress))


def _copy_checked(response, out, size, sha256, name, progress):
    """Copy the response into ``out``; raise unless it is exactly ``size`` bytes with this SHA-256."""
    digest, got = hashlib.sha256(), 0
    with _progress_bar(size, name, progress) as bar:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            got += len(chunk)
            if got > size:
                raise ValueError(f"the server sent more than the expected {size:,} bytes")
            digest.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
    if got != size:
        raise ValueError(f"connection dropped: got {got:,} of {size:,} bytes")
    if digest.hexdigest() != sha256:
        raise ValueError(f"SHA-256 mismatch: got {digest.hexdigest()}, expected {sha256}")


def download_file(urls, dest, size, sha256, timeout=TIMEOUT, progress=True):
    """Fetch one file from the first of ``urls`` that delivers it intact.

    ``dest`` appears only once its size and SHA-256 match; a failed try is reported
    and the next URL is tried. Raises ``DownloadError`` (with ``.attempts``) when all
    fail; Ctrl-C stops at once, leaving nothing behind. Returns ``dest`` as a Path.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    attempts = []
    for url in urls:
        try:
            _fetch(url, dest, size, sha256, timeout, progress)
            return dest
        except (OSError, ValueError, http.client.HTTPException) as exc:   # URLError is an OSError
            attempts.append((url, f"{type(exc).__name__}: {exc}"))
    tried = "\n".join(f"  {url}: {reason}" for url, reason in attempts) or "  (no URLs given)"
    raise DownloadError(f"could not download {dest.name}; tried:\n{tried}", attempts)


def fetch_missing(name, folder, title, mirrors=None, timeout=TIMEOUT, progress=True,
                  hint=""):
    """Download the files of dataset ``name`` that ``folder`` lacks.

    Stops at the first file no mirror can deliver (offline, every later one would fail
    too) and raises ``DownloadError`` saying which files are missing, where, the URLs to
    fetch them from by hand, and ``hint`` (what works offline).
    """
    folder = Path(folder)
    mirrors = MIRRORS[name] if mirrors is None else mirrors
    files = CHECKSUMS[name]
    # Anything at the path counts as present (a FIFO or a broken link too): reading it then
    # says what is wrong, instead of a download that could not replace it anyway.
    missing = [fname for fname in files if not os.path.lexists(folder / fname)]
    for i, fname in enumerate(missing):
        size, sha256 = files[fname]
        urls = [base.rstrip("/") + "/" + fname for base in mirrors]
        try:
            download_file(urls, folder / fname, size, sha256, timeout=timeout, progress=progress)
        except DownloadError as exc:
            raise DownloadError(
                _missing_message(title, folder, missing[i:], mirrors, exc.attempts, hint),
                exc.attempts) from None


def check_on_disk(name, path, title, file_sha256, content_sha256):
    """Raise ``ValueError`` unless the file at ``path`` (one of dataset ``name``'s files,
    with these digests) matches the known SHA-256 of the original .gz or of its content."""
    path = Path(path)
    expected_file = CHECKSUMS[name][path.name][1]
    expected_content = CONTENT_SHA256.get(name, {}).get(path.name)
    if file_sha256 == expected_file or content_sha256 == expected_content:
        return
    lines = [(f"{path}: this is not the {title} file {path.name}; it is damaged, incomplete or "
              f"another dataset, and is not used."),
             f"  SHA-256 of the file:           {file_sha256}",
             f"  expected (the original .gz):   {expected_file}"]
    if expected_content is None:
        lines.append("  (no checksum of the unpacked content is recorded for this file, so only "
                     "the original .gz is accepted)")
    else:
        lines += [f"  SHA-256 of its IDX content:    {content_sha256}",
                  f"  expected (any repacked copy):  {expected_content}"]
    lines.append("Delete the file and call the loader again to download a fresh copy.")
    raise ValueError("\n".join(lines))


def _missing_message(title, folder, missing, mirrors, attempts, hint):
    lines = [f"{title} is not on this machine and could not be downloaded.",
             f"Missing in {folder}:"]
    lines += [f"  {fname}" for fname in missing]
    lines.append("Tried:")
    lines += [f"  {url}: {reason}" for url, reason in attempts] or ["  (no mirrors configured)"]
    lines.append("To fix it, do one of these:")
    lines.append("  - connect to the internet and call the loader again;")
    if mirrors:
        lines.append(f"  - fetch the files by hand into {folder}, e.g. from")
        lines += [f"      {mirrors[0].rstrip('/')}/{fname}" for fname in missing]
        for base in mirrors[1:]:
            lines.append(f"    or from {base}")
    lines.append("  - or set the environment variable TINYGRAD_KO_DATA to a folder holding "
                 f"{folder.name}/ with those files;")
    if hint:
        lines.append(f"  - {hint}")
    return "\n".join(lines)
