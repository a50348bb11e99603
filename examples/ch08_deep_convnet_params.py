"""The book's trained DeepConvNet on the MNIST test set (Deep Learning from Scratch 8.1, deep_convnet_params.pkl).

    python examples/ch08_deep_convnet_params.py path/to/deep_convnet_params.pkl
    python examples/ch08_deep_convnet_params.py deep_convnet_params.pkl --mnist-dir DIR

The book's ``ch08/train_deepnet.py`` trains DeepConvNet (six 3x3
convolutions, He initialisation, dropout, Adam) and its repository ships the
result, ``deep_convnet_params.pkl``. This script loads that file into
``tk.DeepConvNet`` (``load_params``, read by a loader that refuses anything
but plain arrays) and measures its accuracy on the 10,000 test digits, 100 at
a time with dropout in test mode as the book's ``accuracy``: 0.9935, the
book's figure. It prints the accuracy and the seconds taken (about a minute:
each image goes through six convolutions in float64).

The test digits come from ``--mnist-dir`` (a folder holding
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz), else from
``tk.datasets.load_mnist(flatten=False)``, which downloads MNIST when it is
not on disk.
"""

import argparse
import pickle
import time
from pathlib import Path

import numpy as np

import tinygrad_ko as tk
from tinygrad_ko.threads import set_blas_threads

BOOK_FILE = "ch08/deep_convnet_params.pkl"
REPOSITORY = "https://github.com/oreilly-japan/deep-learning-from-scratch"
KOREAN_REPOSITORY = "https://github.com/WegraLee/deep-learning-from-scratch"


def missing_file_message(path, book_file, script):
    """What to say when the book's weight file is not at ``path``."""
    return (f"error: {path}: no such file.\n"
            f"It is the book's trained weight file {book_file} in the book's repository\n"
            f"    {REPOSITORY}\n"
            f"(Korean edition: {KOREAN_REPOSITORY}).\n"
            f"Download it and give its path: python examples/{script} path/to/{Path(book_file).name}\n")


def read_test_set(mnist_dir, flatten=False):
    """(x_test, t_test): the 10,000 test digits as the book's load_mnist(normalize=True) gives them.

    From the two t10k files in ``mnist_dir``, or (None) from tk.datasets.load_mnist().
    """
    if mnist_dir is None:
        _, (x_test, t_test) = tk.datasets.load_mnist(normalize=True, flatten=flatten)
        return x_test, t_test
    folder = Path(mnist_dir)
    images = tk.datasets.read_idx(folder / "t10k-images-idx3-ubyte.gz", ndim=3)
    labels = tk.datasets.read_idx(folder / "t10k-labels-idx1-ubyte.gz", ndim=1)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} test images but {len(labels)} labels")
    x = images.astype(np.float32) / 255.0          # the book's normalize=True
    x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])
    return x, labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="?", default="deep_convnet_params.pkl",
                        help=f"the book's {BOOK_FILE} (default: deep_convnet_params.pkl in this folder)")
    parser.add_argument("--mnist-dir", metavar="DIR", default=None,
                        help="folder with t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
                             "(default: tk.datasets.load_mnist(), which downloads if needed)")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: chosen for the net by tinygrad_ko.threads)")
    args = parser.parse_args(argv)

    if not Path(args.weights).is_file():
        parser.exit(2, missing_file_message(args.weights, BOOK_FILE, "ch08_deep_convnet_params.py"))
    network = tk.DeepConvNet()   # the book's defaults: 16, 16, 32, 32, 64, 64 filters, hidden_size=50
    try:
        network.load_params(args.weights)   # names, shapes and dtypes checked first
        x_test, t_test = read_test_set(args.mnist_dir, flatten=False)
    except (OSError, ValueError, TypeError, RuntimeError, pickle.UnpicklingError) as error:
        parser.exit(2, f"error: {error}\n")   # a wrong or unreadable file, no data offline: no traceback
    set_blas_threads(network, batch_size=100, sample_shape=x_test.shape[1:], threads=args.threads)

    start = time.perf_counter()
    acc = network.accuracy(x_test, t_test, batch_size=100)
    seconds = time.perf_counter() - start
    print(f"DeepConvNet with {args.weights}")
    print(f"test accuracy: {acc:.4f} on {len(x_test)} test images ({seconds:.1f} s)")   # the book: 0.9935


if __name__ == "__main__":
    main()
