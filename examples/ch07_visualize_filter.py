"""The first layer's filters of SimpleConvNet before and after training
(Deep Learning from Scratch 7.6.1, visualize_filter.py).

    python examples/ch07_visualize_filter.py                     # trains 100 steps on the bundled sample
    python examples/ch07_visualize_filter.py path/to/params.pkl  # the book's trained weights

The 30 filters of 5x5 of the convolution layer (W1, shape (30, 1, 5, 5)),
drawn as small grey images: first as initialised (random noise, std 0.01),
then after training: the weights of a params.pkl given on the command line
(the book's ``ch07/params.pkl``, or the one ``ch07_train_convnet.py``
writes), else after a short training on the bundled sample (Adam, lr 0.001,
batches of 100). Trained filters have structure: blobs and edges, where
neighbouring weights agree (figure 7-24). Prints that as a number, the mean
correlation between neighbouring weights of a filter (near 0 for noise), and
writes both sets, 2 x 30 filters, to OUT/ch07_visualize_filter.png.
"""

import argparse
import os
import pickle
from pathlib import Path

import numpy as np

import tinygrad_ko as tk
from tinygrad_ko.threads import set_blas_threads


def neighbour_correlation(filters):
    """The mean, over the filters, of the correlation between horizontally or vertically adjacent weights.

    filters: (FN, C, FH, FW); the first channel is used. Near 0 for random noise, positive when
    the filters are smooth blobs and edges.
    """
    f = filters[:, 0] - filters[:, 0].mean(axis=(1, 2), keepdims=True)
    products = np.concatenate([(f[:, :, 1:] * f[:, :, :-1]).reshape(len(f), -1),
                               (f[:, 1:, :] * f[:, :-1, :]).reshape(len(f), -1)], axis=1)
    return float(np.mean(products.mean(axis=1) / (f ** 2).mean(axis=(1, 2))))


def train_briefly(network, iters, batch_size=100):
    """``iters`` steps of Adam (lr 0.001) on the bundled MNIST sample."""
    (x_train, t_train), _ = tk.datasets.load_mnist(flatten=False, sample=True)
    optimizer = tk.optim.Adam(lr=0.001)
    for i in range(iters):
        batch_mask = np.random.choice(x_train.shape[0], batch_size)
        grads = network.gradient(x_train[batch_mask], t_train[batch_mask])
        optimizer.update(network.params, grads)


def filter_figure(sets, nx=8):
    """A matplotlib Figure: for each (title, filters (FN, C, FH, FW)) in ``sets``, a grid of FN images."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(nx, 4.5 * len(sets)))
    for subfig, (title, filters) in zip(np.atleast_1d(fig.subfigures(len(sets), 1)), sets):
        count = filters.shape[0]
        ny = int(np.ceil(count / nx))
        axes = subfig.subplots(ny, nx, squeeze=False).flatten()
        subfig.suptitle(title)
        for i, ax in enumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if i < count:
                ax.imshow(filters[i, 0], cmap="gray_r", interpolation="nearest")
            else:
                ax.set_axis_off()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="?", default=None,
                        help="a SimpleConvNet params.pkl (the book's ch07/params.pkl); "
                             "default: train briefly on the bundled sample")
    parser.add_argument("--iters", type=int, default=100, help="training steps when no params.pkl is given")
    parser.add_argument("--seed", type=int, default=0, help="seed for the initial weights and the batches")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: chosen for the net by tinygrad_ko.threads)")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    network = tk.SimpleConvNet()
    before = network.params["W1"].copy()   # the weights after random initialisation

    if args.weights is not None:
        if not Path(args.weights).is_file():
            parser.exit(2, f"error: {args.weights}: no such file. The book's trained weights are ch07/params.pkl "
                           f"in https://github.com/oreilly-japan/deep-learning-from-scratch (Korean edition: "
                           f"https://github.com/WegraLee/deep-learning-from-scratch); "
                           f"python examples/ch07_train_convnet.py writes one to plots/params.pkl\n")
        try:
            network.load_params(args.weights)
        except (OSError, ValueError, TypeError, pickle.UnpicklingError) as error:
            parser.exit(2, f"error: {error}\n")
        trained = f"the weights of {Path(args.weights).name}"
    else:
        set_blas_threads(network, batch_size=100, sample_shape=(1, 28, 28), threads=args.threads)
        train_briefly(network, args.iters)
        trained = f"{args.iters} training steps on the bundled MNIST sample"
    after = network.params["W1"].copy()

    print(f"after training: {trained}")
    print(f"neighbouring weights' correlation: before {neighbour_correlation(before):.3f}, "
          f"after {neighbour_correlation(after):.3f}")

    try:
        fig = filter_figure([("before training (random)", before), (f"after: {trained}", after)])
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window

    FigureCanvasAgg(fig)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "ch07_visualize_filter.png")
    fig.savefig(path)
    print(f"wrote {path} ({len(before)} filters before, {len(after)} after)")


if __name__ == "__main__":
    main()
