"""The test digits DeepConvNet gets wrong (Deep Learning from Scratch 8.1.1, misclassified_mnist.py).

    python examples/ch08_misclassified_mnist.py                       # a short training on the bundled sample
    python examples/ch08_misclassified_mnist.py path/to/deep_convnet_params.pkl --dataset mnist

With the book's trained weights (``ch08/deep_convnet_params.pkl``, given on
the command line) DeepConvNet gets 99.35% of the 10,000 MNIST test digits
right, and the ones it misses are hard even for a person (figure 8-3).
Without the file it trains a fresh DeepConvNet briefly on the bundled sample
instead (Adam, lr 0.001, batches of 100, ``--iters`` steps, in float32 for
speed), which misses many more; the output says which net it is.

Measures the test accuracy 100 images at a time with dropout in test mode,
as the book, prints it, the number of digits missed and the first 20 as
``{view index: (label, inference)}``, and draws those 20 to
OUT/ch08_misclassified_mnist.png. The test digits: ``--dataset`` (the
bundled sample's 1,000 by default, ``mnist`` for the 10,000), or the two
t10k files in ``--mnist-dir``.
"""

import argparse
import os
import pickle
from pathlib import Path

import numpy as np

import tinygrad_ko as tk
from tinygrad_ko.threads import set_blas_threads

BOOK_FILE = "ch08/deep_convnet_params.pkl"
MAX_VIEW = 20


def load_data(name):
    """((x_train, t_train), (x_test, t_test)) as images (N, 1, 28, 28), of "sample", "mnist" or "fashion-mnist"."""
    if name == "sample":
        return tk.datasets.load_mnist(flatten=False, sample=True)
    if name == "fashion-mnist":
        return tk.datasets.load_fashion_mnist(flatten=False)
    return tk.datasets.load_mnist(flatten=False)


def read_test_set(mnist_dir):
    """(x_test, t_test) from the two t10k files in ``mnist_dir``, as load_mnist(flatten=False) gives them."""
    folder = Path(mnist_dir)
    images = tk.datasets.read_idx(folder / "t10k-images-idx3-ubyte.gz", ndim=3)
    labels = tk.datasets.read_idx(folder / "t10k-labels-idx1-ubyte.gz", ndim=1)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} test images but {len(labels)} labels")
    x = images.astype(np.float32) / 255.0          # the book's normalize=True
    return x.reshape(len(x), 1, *x.shape[1:]), labels


def train_briefly(network, x_train, t_train, iters, batch_size=100):
    """``iters`` steps of Adam (lr 0.001), as the book's train_deepnet.py but far fewer."""
    optimizer = tk.optim.Adam(lr=0.001)
    for i in range(iters):
        batch_mask = np.random.choice(x_train.shape[0], batch_size)
        grads = network.gradient(x_train[batch_mask], t_train[batch_mask])   # dropout in training mode
        optimizer.update(network.params, grads)


def classify(network, x_test, batch_size=100):
    """The inferred digit of each test image, 100 images at a time, dropout in test mode."""
    classified_ids = []
    with tk.no_grad():
        for i in range(0, len(x_test), batch_size):
            y = network.predict(x_test[i:i + batch_size], train_flg=False)
            classified_ids.append(np.argmax(y.numpy(), axis=1))
    return np.concatenate(classified_ids)


def plot_misclassified(x_test, mis_pairs, indices, out_dir):
    """The misclassified digits in a 4x5 grid, each titled label -> inference; return the PNG's path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5.5))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.95, hspace=0.3, wspace=0.2)
    for view, i in zip(mis_pairs, indices):
        ax = fig.add_subplot(4, 5, view, xticks=[], yticks=[])
        ax.imshow(x_test[i].reshape(28, 28), cmap="gray_r", interpolation="nearest")
        label, inference = mis_pairs[view]
        ax.set_title(f"{label} -> {inference}", fontsize=9)
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch08_misclassified_mnist.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="?", default=None,
                        help=f"the book's {BOOK_FILE}; default: train a DeepConvNet briefly on the bundled sample")
    parser.add_argument("--dataset", choices=["sample", "mnist", "fashion-mnist"], default="sample",
                        help="the test digits (and the training data without a weight file)")
    parser.add_argument("--mnist-dir", metavar="DIR", default=None,
                        help="read the test digits from t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz here")
    parser.add_argument("--iters", type=int, default=60, help="training steps without a weight file")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights, the batches and dropout")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: chosen for the net by tinygrad_ko.threads)")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    if args.weights is not None and not Path(args.weights).is_file():
        parser.exit(2, f"error: {args.weights}: no such file. It is the book's trained weight file {BOOK_FILE} "
                       f"in https://github.com/oreilly-japan/deep-learning-from-scratch (Korean edition: "
                       f"https://github.com/WegraLee/deep-learning-from-scratch); download it and give its path, "
                       f"or give none to train a net briefly\n")
    try:
        (x_train, t_train), (x_test, t_test) = load_data(args.dataset)
        if args.mnist_dir is not None:
            x_test, t_test = read_test_set(args.mnist_dir)
        if args.weights is not None:
            network = tk.DeepConvNet()
            network.load_params(args.weights)
            which = f"DeepConvNet with the book's trained weights ({Path(args.weights).name})"
    except (OSError, ValueError, TypeError, RuntimeError, pickle.UnpicklingError) as error:
        parser.exit(2, f"error: {error}\n")
    if args.weights is None:
        network = tk.DeepConvNet(dtype=np.float32)   # float32: twice as fast as the book's float64
    set_blas_threads(network, batch_size=100, sample_shape=(1, 28, 28), threads=args.threads)
    if args.weights is None:
        train_briefly(network, x_train, t_train, args.iters)
        which = (f"DeepConvNet after {args.iters} training steps on {args.dataset} "
                 f"(not the book's trained weights: give deep_convnet_params.pkl for those)")
    print(which)

    print("calculating test accuracy ... ")
    classified_ids = classify(network, x_test)
    acc = np.mean(classified_ids == t_test)
    print(f"test accuracy: {acc:.4f} on {len(x_test)} test images")

    wrong = np.flatnonzero(classified_ids != t_test)
    print(f"misclassified: {len(wrong)} of {len(x_test)}")
    shown = wrong[:MAX_VIEW]
    mis_pairs = {view: (int(t_test[i]), int(classified_ids[i])) for view, i in enumerate(shown, start=1)}
    print("======= misclassified result =======")
    print("{view index: (label, inference), ...}")
    print(mis_pairs)

    try:
        print("wrote", plot_misclassified(x_test, mis_pairs, shown, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
