"""Batch normalization against none, for 16 initial weight scales (Deep Learning from Scratch 6.3.2,
batch_norm_test.py).

    python examples/ch06_batch_norm_test.py                     # the bundled sample
    python examples/ch06_batch_norm_test.py --dataset mnist     # the full MNIST's first 1,000 images

For each initial weight std from 1 down to 0.0001 (16 values, evenly spaced
on a log scale), two MultiLayerNetExtends 784-100-100-100-100-100-10 with
ReLU start from that scale, one with the book's batch normalization after
each affine layer and one without, and train side by side on the same
mini-batches of 100 of 1,000 training images with SGD (lr 0.01). Their
accuracy on those 1,000 images is measured at the start of each epoch (10
steps), as the book does. With batch norm the net learns fast at almost any
scale; without it, only near a good scale, and not at all when the weights
are too small (figure 6-18).

Prints, for each scale, both nets' last training accuracy, then the mean of
each over the scales; writes the 4x4 grid of accuracy curves to
OUT/ch06_batch_norm_test.png. ``--scales 4 --epochs 5`` gives a quick look.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk
from overfitting import load_data
from tinygrad_ko.threads import set_blas_threads


def train(x_train, t_train, weight_init_std, max_epochs, learning_rate=0.01, batch_size=100):
    """Train a net with batch norm and one without side by side; return their accuracy lists."""
    bn_network = tk.MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100],
                                        output_size=10, weight_init_std=weight_init_std, use_batchnorm=True)
    network = tk.MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100],
                                     output_size=10, weight_init_std=weight_init_std)
    optimizer = tk.optim.SGD(lr=learning_rate)

    train_acc_list = []
    bn_train_acc_list = []
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / batch_size, 1)

    # As the book: stop at the measurement of epoch max_epochs - 1.
    for i in range(int((max_epochs - 1) * iter_per_epoch) + 1):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        for _network in (bn_network, network):
            grads = _network.gradient(x_batch, t_batch)   # batch norm in training mode
            optimizer.update(_network.params, grads)

        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x_train, t_train))
            bn_train_acc_list.append(bn_network.accuracy(x_train, t_train))
    return train_acc_list, bn_train_acc_list


def plot_curves(results, out_dir):
    """A grid of accuracy curves, one panel per weight scale; return the PNG's path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    count = len(results)
    cols = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / cols))
    fig = Figure(figsize=(3 * cols, 2.5 * rows))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for i, (w, (train_acc_list, bn_train_acc_list)) in enumerate(results.items()):
        ax = axes[i]
        x = np.arange(len(train_acc_list))
        ax.plot(x, bn_train_acc_list, label="Batch Normalization", markevery=2)
        ax.plot(x, train_acc_list, linestyle="--", label="Normal(without BatchNorm)", markevery=2)
        ax.set_title(f"W:{w:.3g}")
        ax.set_ylim(0, 1.0)
        if i % cols:
            ax.set_yticks([])
        else:
            ax.set_ylabel("accuracy")
        if i < count - cols:
            ax.set_xticks([])
        else:
            ax.set_xlabel("epochs")
    for ax in axes[count:]:
        ax.set_visible(False)
    axes[count - 1].legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch06_batch_norm_test.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, default=8, help="how many weight scales from 1 to 1e-4 (the book: 16)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs of 10 steps (the book's max_epochs)")
    parser.add_argument("--dataset", choices=["sample", "mnist", "fashion-mnist"], default="sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    (x_train, t_train), _ = load_data(args.dataset, train_size=1000)   # the book's 1,000 images
    set_blas_threads(tk.MultiLayerNetExtend(784, [100] * 5, 10), batch_size=100)

    weight_scale_list = np.logspace(0, -4, num=args.scales)
    results = {}
    print(f"train accuracy after {args.epochs} epochs | without BN - with BN")
    for i, w in enumerate(weight_scale_list):
        with np.errstate(over="ignore", invalid="ignore"):   # too large a scale overflows without BN
            results[w] = train(x_train, t_train, w, args.epochs)
        train_acc_list, bn_train_acc_list = results[w]
        print(f"{i + 1:2d}/{args.scales} W:{w:<10.4g} | {train_acc_list[-1]:.3f} - {bn_train_acc_list[-1]:.3f}")

    without = np.mean([r[0][-1] for r in results.values()])
    with_bn = np.mean([r[1][-1] for r in results.values()])
    ahead = sum(r[1][-1] > r[0][-1] for r in results.values())
    print(f"mean over the scales | {without:.3f} - {with_bn:.3f}")
    print(f"batch norm ahead at {ahead} of {args.scales} scales")

    try:
        print("wrote", plot_curves(results, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
