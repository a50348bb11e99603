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

import time

import tinygrad_ko as tk
from book_files import bad_input_exits, book_file_parser, read_test_set, require_file
from tinygrad_ko.threads import set_blas_threads

BOOK_FILE = "ch08/deep_convnet_params.pkl"


def main(argv=None):
    parser = book_file_parser(__doc__, BOOK_FILE, threads=True)
    args = parser.parse_args(argv)

    require_file(parser, args.weights, BOOK_FILE, "ch08_deep_convnet_params.py")
    network = tk.DeepConvNet()   # the book's defaults: 16, 16, 32, 32, 64, 64 filters, hidden_size=50
    with bad_input_exits(parser):
        network.load_params(args.weights)   # names, shapes and dtypes checked first
        x_test, t_test = read_test_set(args.mnist_dir, flatten=False)
    set_blas_threads(network, batch_size=100, sample_shape=x_test.shape[1:], threads=args.threads)

    start = time.perf_counter()
    acc = network.accuracy(x_test, t_test, batch_size=100)
    seconds = time.perf_counter() - start
    print(f"DeepConvNet with {args.weights}")
    print(f"test accuracy: {acc:.4f} on {len(x_test)} test images ({seconds:.1f} s)")   # the book: 0.9935


if __name__ == "__main__":
    main()
