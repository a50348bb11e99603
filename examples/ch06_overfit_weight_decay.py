"""Overfitting, and weight decay against it (Deep Learning from Scratch 6.4.1-6.4.2, overfit_weight_decay.py).

    python examples/ch06_overfit_weight_decay.py                  # the bundled sample
    python examples/ch06_overfit_weight_decay.py --dataset mnist  # the full MNIST's first 300 images

To overfit on purpose, as the book: a big net (MultiLayerNet with six hidden
layers of 100, ReLU) learns from only 300 training images, with SGD (lr
0.01), batches of 100, for 201 epochs of 3 steps. It is trained twice from
the same start: without weight decay it learns the 300 images by heart
(train accuracy near 1.0) while the test accuracy stays far below (figure
6-20); with the book's weight decay, lambda 0.1 (the loss gains
0.5 * lambda * sum(W**2) over every W), the weights stay smaller and the gap
between train and test accuracy narrows (figure 6-21).

Prints both runs' accuracies every 20 epochs and, at the end, each run's
train and test accuracy, their gap and the sum of W**2 over the weights;
writes both runs' curves to OUT/ch06_overfit_weight_decay.png. ``--epochs 51``
gives a quick look.
"""

import argparse

import numpy as np

import tinygrad_ko as tk
from overfitting import load_data, plot_accuracy_runs
from tinygrad_ko.threads import set_blas_threads


def weights_sum_of_squares(network):
    """sum(W**2) over every weight matrix W (the biases excluded, as the book's weight decay)."""
    return float(sum(np.sum(value ** 2) for key, value in network.params.items() if key.startswith("W")))


def train(data, weight_decay_lambda, max_epochs, seed, log_every=20):
    """Train the book's overfitting net; return (train_acc_list, test_acc_list, network)."""
    (x_train, t_train), (x_test, t_test) = data
    np.random.seed(seed)   # both runs: the same initial weights and batches
    network = tk.MultiLayerNet(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100], output_size=10,
                               weight_decay_lambda=weight_decay_lambda)
    optimizer = tk.optim.SGD(lr=0.01)
    train_size = x_train.shape[0]
    batch_size = 100
    iter_per_epoch = max(train_size / batch_size, 1)
    train_acc_list = []
    test_acc_list = []

    # As the book: stop at the measurement of epoch max_epochs - 1.
    for i in range(int((max_epochs - 1) * iter_per_epoch) + 1):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grads = network.gradient(x_batch, t_batch)   # the decay term's gradient, lambda * W, included
        optimizer.update(network.params, grads)

        if i % iter_per_epoch == 0:
            train_acc_list.append(network.accuracy(x_train, t_train))
            test_acc_list.append(network.accuracy(x_test, t_test))
            epoch = len(train_acc_list) - 1
            if epoch % log_every == 0 or epoch == max_epochs - 1:
                print(f"epoch:{epoch}, train acc:{train_acc_list[-1]:.4f}, test acc:{test_acc_list[-1]:.4f}")
    return train_acc_list, test_acc_list, network


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=201, help="epochs of 3 steps (the book's max_epochs)")
    parser.add_argument("--weight-decay-lambda", type=float, default=0.1, help="lambda of the second run")
    parser.add_argument("--dataset", choices=["sample", "mnist", "fashion-mnist"], default="sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    data = load_data(args.dataset)
    set_blas_threads(tk.MultiLayerNet(784, [100] * 6, 10), batch_size=100)

    runs = {}
    for weight_decay_lambda in (0.0, args.weight_decay_lambda):
        title = f"weight_decay_lambda = {weight_decay_lambda:g}"
        print(f"--- {title} ---")
        runs[title] = train(data, weight_decay_lambda, args.epochs, args.seed)

    last = min(10, args.epochs)
    print(f"after {args.epochs} epochs (gap: train acc - test acc, mean of the last {last} epochs):")
    for title, (train_acc_list, test_acc_list, network) in runs.items():
        gap = np.mean(train_acc_list[-last:]) - np.mean(test_acc_list[-last:])
        print(f"  {title}: train acc {train_acc_list[-1]:.4f}, test acc {test_acc_list[-1]:.4f}, "
              f"gap {gap:.4f}, sum of W**2 {weights_sum_of_squares(network):.1f}")

    try:
        print("wrote", plot_accuracy_runs({title: run[:2] for title, run in runs.items()}, args.out,
                                          "ch06_overfit_weight_decay.png"))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
