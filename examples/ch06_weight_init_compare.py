"""Training with different initial weights on MNIST (Deep Learning from Scratch 6.2.4, weight_init_compare.py).

    python examples/ch06_weight_init_compare.py                  # the bundled sample, 2,000 steps
    python examples/ch06_weight_init_compare.py --dataset mnist  # the full MNIST (downloads if needed)

Three MultiLayerNets 784-100-100-100-100-10 with ReLU, the same but for the
initial weights: std 0.01, Xavier (std sqrt(1/n)) and He (std sqrt(2/n)),
trained side by side on the same mini-batches of 128 with SGD (lr 0.01), as
the book. With std 0.01 the signal dies out layer by layer (see
ch06_weight_init_activation_histogram.py) and the loss stays at
log(10) = 2.30: nothing is learned. Xavier and He learn, He fastest (figure 6-15).

Prints each net's loss every 100 steps and, at the end, the mean loss of the
last 100 steps; writes the smoothed loss curves to OUT/ch06_weight_init_compare.png.
The loss printed is the one of the step's batch before its update (one
forward pass per step, where the book computes it again after the update).
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk
from tinygrad_ko.threads import set_blas_threads

WEIGHT_INIT_TYPES = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}   # the book's names and values


def load_data(name):
    """((x_train, t_train), (x_test, t_test)) of "sample", "mnist" or "fashion-mnist"."""
    if name == "sample":
        print("data: the MNIST sample inside the package (4,000 training images); --dataset mnist uses the full set")
        return tk.datasets.load_mnist(normalize=True, sample=True)
    print(f"data: {name} (60,000 training images)")
    if name == "fashion-mnist":
        return tk.datasets.load_fashion_mnist(normalize=True)
    return tk.datasets.load_mnist(normalize=True)


def smooth_curve(x, width=19):
    """A moving average of ``width`` points (shorter at the ends), to see the trend of a noisy loss."""
    x = np.asarray(x, dtype=float)
    kernel = np.ones(width)
    return np.convolve(x, kernel, mode="same") / np.convolve(np.ones_like(x), kernel, mode="same")


def plot_losses(train_loss, out_dir):
    """The smoothed loss of each net against the steps; return the PNG's path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    markers = {"std=0.01": "o", "Xavier": "s", "He": "D"}
    for key, losses in train_loss.items():
        steps = np.arange(len(losses))
        ax.plot(steps, smooth_curve(losses), marker=markers[key], markevery=100, label=key)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 2.5)
    ax.legend()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch06_weight_init_compare.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=2000, help="training steps (the book's max_iterations)")
    parser.add_argument("--dataset", choices=["sample", "mnist", "fashion-mnist"], default="sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    (x_train, t_train), _ = load_data(args.dataset)
    train_size = x_train.shape[0]
    batch_size = 128
    optimizer = tk.optim.SGD(lr=0.01)

    networks = {}
    train_loss = {}
    for key, weight_type in WEIGHT_INIT_TYPES.items():
        networks[key] = tk.MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100],
                                         output_size=10, weight_init_std=weight_type)
        train_loss[key] = []
    set_blas_threads(networks["He"], batch_size)

    for i in range(args.iters):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        for key in WEIGHT_INIT_TYPES:
            loss, grads = networks[key].loss_and_gradient(x_batch, t_batch)
            optimizer.update(networks[key].params, grads)
            train_loss[key].append(loss)

        if i % 100 == 0:
            print("===========" + "iteration:" + str(i) + "===========")
            for key in WEIGHT_INIT_TYPES:
                print(key + ":" + str(train_loss[key][-1]))

    last = min(100, args.iters)
    print(f"mean loss of the last {last} steps:")
    for key in WEIGHT_INIT_TYPES:
        print(f"  {key}: {np.mean(train_loss[key][-last:]):.4f}")

    try:
        print("wrote", plot_losses(train_loss, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
