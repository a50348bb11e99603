"""MNIST-style data, as the book's ``dataset/mnist.py`` gives it, but safe and offline-friendly.

``load_mnist`` and ``load_fashion_mnist`` return ``((x_train, t_train), (x_test, t_test))``
exactly as the book's ``load_mnist`` does. They read the four standard IDX ``.gz`` files
from a data folder and download them when missing (HTTPS mirrors, size and SHA-256
checked, written atomically, with a progress bar). Files already on disk are checked
too, against the SHA-256 of the original ``.gz`` or of its unpacked content (for
repacked copies such as Debian's), before they are used. ``load_mnist(sample=True)``
returns a small sample of real MNIST digits that ships inside the package and needs no
network.

Where the files live (see ``data_dir``)::

    $TINYGRAD_KO_DATA/mnist/                    if TINYGRAD_KO_DATA is set
    $XDG_CACHE_HOME/tinygrad_ko/mnist/          else, if XDG_CACHE_HOME is set
    ~/.cache/tinygrad_ko/mnist/                 else
        train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
        t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

(``fashion-mnist/`` beside it for Fashion-MNIST, which is also read from Debian's
``dataset-fashion-mnist`` package in /usr/share/datasets/fashion-mnist when present.)
To fetch the files ahead of time: ``python -c "import tinygrad_ko.datasets as d; d.download('mnist')"``.

>>> from tinygrad_ko.datasets import load_mnist
>>> (x_train, t_train), (x_test, t_test) = load_mnist(sample=True)
>>> x_train.shape, t_train.shape, x_test.shape, t_test.shape
((4000, 784), (4000,), (1000, 784), (1000,))
"""

import os
from importlib import resources
from pathlib import Path

import numpy as np

from . import _download
from ._download import DownloadError
from ._idx import check_images_labels, read_idx, read_idx_digests, read_images_labels, write_idx

__all__ = [
    "load_mnist", "load_fashion_mnist", "data_dir", "download", "is_available", "DownloadError",
    "read_idx", "read_images_labels", "write_idx", "FASHION_MNIST_CLASSES", "DATA_ENV",
]

# The environment variable that chooses the data folder.
DATA_ENV = "TINYGRAD_KO_DATA"

# Folders of system packages searched (after the data folder) before downloading.
# Debian re-wrote the gzip headers of its copies (no file name, another time stamp), so
# their SHA-256 differs from the originals' in _download.CHECKSUMS; they are trusted by
# the SHA-256 of their unpacked content (_download.CONTENT_SHA256), like any file on disk.
SYSTEM_DIRS = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],  # Debian: dataset-fashion-mnist
}

# Fashion-MNIST's class names, by label (from the dataset's README).
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SAMPLE = "mnist_sample.npz"
_OFFLINE_HINT = ("or work offline with the small MNIST sample inside the package: "
                 "load_mnist(sample=True), or `tinygrad-ko train --dataset sample`.")


def data_dir(name=None):
    """The folder the datasets live in; with ``name`` ("mnist" or "fashion-mnist"),
    that dataset's subfolder. It need not exist yet.

    ``$TINYGRAD_KO_DATA`` if set, else ``$XDG_CACHE_HOME/tinygrad_ko``, else
    ``~/.cache/tinygrad_ko``.

    >>> data_dir("mnist").name
    'mnist'
    """
    env = os.environ.get(DATA_ENV)
    if env:
        base = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        # The XDG spec says to ignore a relative path.
        base = (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "tinygrad_ko"
    if name is None:
        return base
    _check_name(name)
    return base / name


def _check_name(name):
    if name not in _TITLES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(_TITLES)}")


def _has_all(folder):
    # Anything at the path counts (a FIFO, a link to a device): reading it says what is wrong.
    return all(os.path.lexists(Path(folder) / f) for pair in _FILES.values() for f in pair)


def _find(name):
    """The folder holding all four files of ``name`` (data folder first), or None."""
    folder = data_dir(name)
    if _has_all(folder):
        return folder
    for system in SYSTEM_DIRS.get(name, ()):
        if _has_all(system):
            return Path(system)
    return None


def is_available(name="mnist"):
    """True when the files of ``name`` ("mnist" or "fashion-mnist") are on this machine,
    so loading needs no download. ``load_mnist(sample=True)`` is always available.

    >>> is_available("mnist") in (True, False)
    True
    """
    return _find(name) is not None


def download(name="mnist", progress=True):
    """Fetch the files of ``name`` ("mnist" or "fashion-mnist") that the data folder
    lacks, and return that folder. Raises ``DownloadError`` when offline.

    >>> import tinygrad_ko as tk
    >>> folder = tk.datasets.download("mnist")     # doctest: +SKIP
    >>> tk.datasets.is_available("mnist")          # doctest: +SKIP
    True
    """
    folder = data_dir(name)
    if not _has_all(folder):
        _download.fetch_missing(name, folder, _TITLES[name], progress=progress,
                                hint=_OFFLINE_HINT)
    return folder


def _locate(name):
    """The folder to read ``name`` from: the data folder, else a system package's
    folder, else the data folder after downloading what it lacks."""
    return _find(name) or download(name)


def _read_split(name, folder, split):
    """The split's images and labels, each file checked against its known SHA-256 first."""
    paths = [Path(folder) / f for f in _FILES[split]]
    arrays = []
    for path, ndim in zip(paths, (3, 1)):
        array, file_sha256, content_sha256 = _with_hint(read_idx_digests, path, ndim=ndim)
        _download.check_on_disk(name, path, _TITLES[name], file_sha256, content_sha256)
        arrays.append(array)
    return _with_hint(check_images_labels, *arrays, *paths)


def _with_hint(read, *args, **kwargs):
    """``read(*args, **kwargs)``, its ValueError saying what to do about a damaged file."""
    try:
        return read(*args, **kwargs)
    except ValueError as exc:
        raise ValueError(
            f"{exc}\nDelete the damaged file and call the loader again to download a fresh "
            f"copy (or replace it by hand).") from None


def _to_one_hot(t, num_classes=10):
    """Class labels (N,) -> float64 one-hot rows (N, num_classes), as the book's
    _change_one_hot_label."""
    one_hot = np.zeros((t.size, num_classes))
    one_hot[np.arange(t.size), t] = 1
    return one_hot


def _prepare(x, t, normalize, flatten, one_hot_label):
    """The book's post-processing of (N, rows, cols) uint8 images and (N,) uint8 labels."""
    n, rows, cols = x.shape
    if normalize:
        x = x.astype(np.float32)
        x /= 255.0
    x = x.reshape(n, rows * cols) if flatten else x.reshape(n, 1, rows, cols)
    t = _to_one_hot(t) if one_hot_label else t
    return x, t


def _load_sample():
    with (resources.files(__name__) / "sample" / _SAMPLE).open("rb") as f:
        with np.load(f, allow_pickle=False) as npz:
            return ((npz["x_train"], npz["t_train"]), (npz["x_test"], npz["t_test"]))


def _load(name, normalize, flatten, one_hot_label, sample=False):
    if sample:
        splits = _load_sample()
    else:
        folder = _locate(name)
        splits = (_read_split(name, folder, "train"), _read_split(name, folder, "test"))
    return tuple(_prepare(x, t, normalize, flatten, one_hot_label) for x, t in splits)


def load_mnist(normalize=True, flatten=True, one_hot_label=False, sample=False):
    """MNIST as the book's ``load_mnist``: ``((x_train, t_train), (x_test, t_test))``.

    - images: ``normalize=True`` gives float32 in [0, 1] (pixel / 255), False uint8 0..255;
      ``flatten=True`` gives shape (N, 784), False (N, 1, 28, 28).
    - labels: uint8 class labels of shape (N,), or with ``one_hot_label=True`` float64
      one-hot rows of shape (N, 10).
    - N is 60,000 for training and 10,000 for testing. ``sample=True`` instead returns
      the 4,000 + 1,000 real MNIST digits bundled with the package (400 + 100 per
      digit, in a fixed shuffled order; see ``datasets/sample/NOTICE``): no files, no network.

    The files are read from ``data_dir("mnist")`` and downloaded there when missing.
    Offline, a ``DownloadError`` (a ``RuntimeError``) says which files are missing,
    where, and where to get them; a damaged file gives a ``ValueError`` naming it.

    >>> (x_train, t_train), (x_test, t_test) = load_mnist(sample=True)
    >>> x_train.shape, x_train.dtype, float(x_train.min()), float(x_train.max())
    ((4000, 784), dtype('float32'), 0.0, 1.0)
    >>> t_train[:3], t_train.dtype
    (array([5, 1, 9], dtype=uint8), dtype('uint8'))
    >>> (x, t), _ = load_mnist(normalize=False, flatten=False, one_hot_label=True, sample=True)
    >>> x.shape, x.dtype, t.shape, t.dtype
    ((4000, 1, 28, 28), dtype('uint8'), (4000, 10), dtype('float64'))
    """
    return _load("mnist", normalize, flatten, one_hot_label, sample=sample)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False):
    """Fashion-MNIST (Zalando's clothing images, a drop-in for MNIST), with the same
    arguments, shapes and dtypes as ``load_mnist``: 60,000 training and 10,000 test
    images of 28x28; label k is ``FASHION_MNIST_CLASSES[k]``.

    Read from ``data_dir("fashion-mnist")``, else from Debian's ``dataset-fashion-mnist``
    package (/usr/share/datasets/fashion-mnist), else downloaded into the data folder.

    >>> FASHION_MNIST_CLASSES[9]
    'Ankle boot'
    """
    return _load("fashion-mnist", normalize, flatten, one_hot_label)
