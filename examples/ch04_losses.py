"""Sum of squared errors and cross-entropy error on the book's example (Deep Learning from Scratch 4.2.1-4.2.2).

    python examples/ch04_losses.py

t is the one-hot label of class 2. The first y gives class 2 the highest
probability (0.6) and the loss is small; the second gives it to class 7 and
both losses grow: SSE 0.0975 -> 0.5975, CEE 0.5108 -> 2.3026.
"""

import argparse

import numpy as np

from tinygrad_ko.functional import cross_entropy_error, sum_squared_error


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    # the answer is class 2
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])

    # example 1: class 2 is the most probable (0.6)
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    print("y peaks at class 2 (correct):")
    print("  sum_squared_error   =", sum_squared_error(y, t).item())      # the book: 0.09750000000000003
    print("  cross_entropy_error =", cross_entropy_error(y, t).item())    # the book: 0.510825457099338

    # example 2: class 7 is the most probable (0.6)
    y = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    print("y peaks at class 7 (wrong):")
    print("  sum_squared_error   =", sum_squared_error(y, t).item())      # the book: 0.5975
    print("  cross_entropy_error =", cross_entropy_error(y, t).item())    # the book: 2.302584092994546


if __name__ == "__main__":
    main()
