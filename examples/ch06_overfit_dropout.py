"""Overfitting, and dropout against it (Deep Learning from Scratch 6.4.3, overfit_dropout.py).

    python examples/ch06_overfit_dropout.py                  # the bundled sample
    python examples/ch06_overfit_dropout.py --dataset mnist  # the full MNIST's first 300 images

As in ch06_overfit_weight_decay.py, a big net learns from only 300 training
images so that it overfits: MultiLayerNetExtend with six hidden layers of
100 (ReLU), SGD (lr 0.01), batches of 100, trained by ``tk.Trainer`` as the
book does, for 301 epochs of 3 steps. It is trained twice from the same
start: without dropout, and with the book's dropout (ratio 0.2: in training
each hidden unit is dropped with probability 0.2; at test time every unit
is kept and scaled by 0.8). Dropout slows the learning down and keeps train
and test accuracy close together (figure 6-23): on the bundled sample, with
seed 0, the net without dropout ends at train accuracy 1.000 and test 0.831
(gap 0.169), the one with dropout at 0.587 and 0.510 (gap 0.077).

Prints both runs' train and test accuracy at the end, the last gap between
them and its mean over the epochs; writes both runs' curves to
OUT/ch06_overfit_dropout.png. ``--epochs 61`` gives a quick look.
"""

import argparse

import numpy as np

import tinygrad_ko as tk
from overfitting import load_data, plot_accuracy_runs


def train(data, use_dropout, dropout_ratio, epochs, seed, verbose=True):
    """Train the book's overfitting net with tk.Trainer; return (train_acc_list, test_acc_list)."""
    (x_train, t_train), (x_test, t_test) = data
    np.random.seed(seed)   # both runs: the same initial weights
    network = tk.MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                                     output_size=10, use_dropout=use_dropout, dropout_ration=dropout_ratio)
    trainer = tk.Trainer(network, x_train, t_train, x_test, t_test,
                         epochs=epochs, mini_batch_size=100,
                         optimizer="sgd", optimizer_param={"lr": 0.01}, verbose=verbose)
    trainer.train()
    return trainer.train_acc_list, trainer.test_acc_list


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=301, help="epochs of 3 steps (the book's 301)")
    parser.add_argument("--dropout-ratio", type=float, default=0.2, help="the second run's ratio (the book's 0.2)")
    parser.add_argument("--dataset", choices=["sample", "mnist", "fashion-mnist"], default="sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights, the batches and the masks")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    data = load_data(args.dataset)
    runs = {}
    for use_dropout in (False, True):
        title = f"dropout ratio {args.dropout_ratio:g}" if use_dropout else "without dropout"
        print(f"--- {title} ---")
        runs[title] = train(data, use_dropout, args.dropout_ratio, args.epochs, args.seed, not args.quiet)

    print(f"after {args.epochs} epochs (gap: train acc - test acc):")
    for title, (train_acc_list, test_acc_list) in runs.items():
        gaps = np.subtract(train_acc_list, test_acc_list)
        print(f"  {title}: train acc {train_acc_list[-1]:.4f}, test acc {test_acc_list[-1]:.4f}, "
              f"gap {gaps[-1]:.4f}, mean gap over the epochs {gaps.mean():.4f}")

    try:
        print("wrote", plot_accuracy_runs(runs, args.out, "ch06_overfit_dropout.png"))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
