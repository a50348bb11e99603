"""The book's trained SimpleConvNet on the MNIST test set (Deep Learning from Scratch 7.5, params.pkl).

    python examples/ch07_simple_convnet_params.py path/to/params.pkl
    python examples/ch07_simple_convnet_params.py params.pkl --mnist-dir DIR

The book's ``ch07/train_convnet.py`` trains SimpleConvNet for 20 epochs and
saves ``params.pkl``. This script loads that file into ``tk.SimpleConvNet``
(``load_params``, read by a loader that refuses anything but plain arrays) and
measures its accuracy on the 10,000 test digits, 100 at a time as the book's
``accuracy``: 0.9890, the book's figure. It prints the accuracy and the
seconds taken.

The test digits come from ``--mnist-dir`` (a folder holding
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz), else from
``tk.datasets.load_mnist(flatten=False)``, which downloads MNIST when it is
not on disk.
"""

import time

import tinygrad_ko as tk
from book_files import bad_input_exits, book_file_parser, read_test_set, require_file
from tinygrad_ko.threads import set_blas_threads

BOOK_FILE = "ch07/params.pkl"


def main(argv=None):
    parser = book_file_parser(__doc__, BOOK_FILE, threads=True)
    args = parser.parse_args(argv)

    require_file(parser, args.weights, BOOK_FILE, "ch07_simple_convnet_params.py")
    network = tk.SimpleConvNet(input_dim=(1, 28, 28),
                               conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                               hidden_size=100, output_size=10, weight_init_std=0.01)
    with bad_input_exits(parser):
        network.load_params(args.weights)   # names, shapes and dtypes checked first
        x_test, t_test = read_test_set(args.mnist_dir, flatten=False)
    set_blas_threads(network, batch_size=100, sample_shape=x_test.shape[1:], threads=args.threads)

    start = time.perf_counter()
    acc = network.accuracy(x_test, t_test, batch_size=100)
    seconds = time.perf_counter() - start
    print(f"SimpleConvNet with {args.weights}")
    print(f"test accuracy: {acc:.4f} on {len(x_test)} test images ({seconds:.1f} s)")   # the book: 0.9890


if __name__ == "__main__":
    main()
