"""The book's trained 3-layer net on the MNIST test set (Deep Learning from Scratch 3.6, neuralnet_mnist.py).

    python examples/ch03_neuralnet_mnist.py path/to/sample_weight.pkl
    python examples/ch03_neuralnet_mnist.py sample_weight.pkl --mnist-dir DIR

The weights are the book's ``ch03/sample_weight.pkl`` (784-50-100-10, sigmoid,
float32), read with ``tk.load_book_params``, which refuses anything in a pickle
but plain arrays. ``predict`` is the book's: ``x @ W + b``, sigmoid, softmax,
here on Tensors, 100 images at a time as ``neuralnet_mnist_batch.py``. Prints
``Accuracy:0.9352``, the book's figure, on the 10,000 test digits.

The test digits come from ``--mnist-dir`` (a folder holding
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz), else from
``tk.datasets.load_mnist()``, which downloads MNIST when it is not on disk.
"""


import numpy as np

import tinygrad_ko as tk
from book_files import bad_input_exits, book_file_parser, read_test_set, require_file

BOOK_FILE = "ch03/sample_weight.pkl"
BOOK_SHAPES = {"W1": (784, 50), "b1": (50,), "W2": (50, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)}


def get_data(mnist_dir):
    return read_test_set(mnist_dir, flatten=True)


def init_network(path):
    """The book's weights W1 b1 W2 b2 W3 b3, as Tensors."""
    params = tk.load_book_params(path)
    shapes = {key: getattr(params.get(key), "shape", None) for key in BOOK_SHAPES}
    if shapes != BOOK_SHAPES:
        raise ValueError(f"{path} holds {shapes}, not the arrays of the book's {BOOK_FILE} ({BOOK_SHAPES})")
    return {key: tk.Tensor(value) for key, value in params.items()}


def predict(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]

    a1 = x @ W1 + b1              # (100, 784) @ (784, 50)
    z1 = a1.sigmoid()
    a2 = z1 @ W2 + b2             # (100, 50) @ (50, 100)
    z2 = a2.sigmoid()
    a3 = z2 @ W3 + b3             # (100, 100) @ (100, 10)
    return tk.functional.softmax(a3)


def main(argv=None):
    parser = book_file_parser(__doc__, BOOK_FILE)
    args = parser.parse_args(argv)

    require_file(parser, args.weights, BOOK_FILE, "ch03_neuralnet_mnist.py")
    with bad_input_exits(parser):
        network = init_network(args.weights)
        x, t = get_data(args.mnist_dir)

    batch_size = 100
    accuracy_cnt = 0
    with tk.no_grad():
        for i in range(0, len(x), batch_size):
            x_batch = tk.Tensor(x[i:i + batch_size])
            y_batch = predict(network, x_batch)
            p = np.argmax(y_batch.numpy(), axis=1)   # the most likely digit of each image
            accuracy_cnt += np.sum(p == t[i:i + batch_size])

    print(f"{len(x)} test images, weights {args.weights}")
    print("Accuracy:" + str(float(accuracy_cnt) / len(x)))   # the book: Accuracy:0.9352


if __name__ == "__main__":
    main()
