"""What the examples that read the book's own files share: where those files are, and the MNIST test set.

Not an example itself: ``ch03_neuralnet_mnist.py``, ``ch07_simple_convnet_params.py`` and
``ch08_deep_convnet_params.py`` import it (Python finds it beside them).
"""

import argparse
import pickle
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import tinygrad_ko as tk

REPOSITORY = "https://github.com/oreilly-japan/deep-learning-from-scratch"
KOREAN_REPOSITORY = "https://github.com/WegraLee/deep-learning-from-scratch"


def missing_file_message(path, book_file, script):
    """What to say when the book's weight file ``book_file`` (e.g. "ch07/params.pkl") is not at ``path``."""
    return (f"error: {path}: no such file.\n"
            f"It is the book's trained weight file {book_file} in the book's repository\n"
            f"    {REPOSITORY}\n"
            f"(Korean edition: {KOREAN_REPOSITORY}).\n"
            f"Download it and give its path: python examples/{script} path/to/{Path(book_file).name}\n")


def book_file_parser(doc, book_file, threads=False):
    """The command line of these examples: the weight file's path, --mnist-dir and (``threads``) --threads."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    name = Path(book_file).name
    parser.add_argument("weights", nargs="?", default=name,
                        help=f"the book's {book_file} (default: {name} in this folder)")
    parser.add_argument("--mnist-dir", metavar="DIR", default=None,
                        help="folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
                             "(default: tk.datasets.load_mnist(), which downloads if needed)")
    if threads:
        parser.add_argument("--threads", type=int, default=None,
                            help="BLAS threads (default: chosen for the net by tinygrad_ko.threads)")
    return parser


def require_file(parser, path, book_file, script):
    """Exit (code 2) with ``missing_file_message`` when ``path`` is not a file."""
    if not Path(path).is_file():
        parser.exit(2, missing_file_message(path, book_file, script))


@contextmanager
def bad_input_exits(parser):
    """A wrong or unreadable file, or no data offline, inside the block: one line and exit code 2, no traceback."""
    try:
        yield
    except (OSError, ValueError, TypeError, RuntimeError, pickle.UnpicklingError) as error:
        parser.exit(2, f"error: {error}\n")


def read_test_set(mnist_dir, flatten=True):
    """(x_test, t_test): the 10,000 test digits as the book's load_mnist(normalize=True) gives them.

    From the two t10k files in ``mnist_dir``, or (None) from tk.datasets.load_mnist().
    """
    if mnist_dir is None:
        _, (x_test, t_test) = tk.datasets.load_mnist(normalize=True, flatten=flatten)
        return x_test, t_test
    folder = Path(mnist_dir)
    images, labels = tk.datasets.read_images_labels(folder / "t10k-images-idx3-ubyte.gz",
                                                    folder / "t10k-labels-idx1-ubyte.gz")  # counts checked
    x = images.astype(np.float32) / 255.0          # the book's normalize=True
    x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])
    return x, labels
