"""Numerical differentiation: forward vs central difference, and partial derivatives
(Deep Learning from Scratch 4.3.1-4.3.3, gradient_1d.py).

    python examples/ch04_numerical_diff.py [--out plots]

Prints why h = 1e-50 fails (it rounds to 0), the derivative of
function_1(x) = 0.01 x**2 + 0.1 x at 5 and 10 by both differences (the true
values are 0.2 and 0.3), and the partial derivatives of
function_2 = x0**2 + x1**2 at (3, 4). Writes the tangent line of function_1
at x = 5 to OUT/ch04_tangent_line.png.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def function_tmp1(x0):
    """function_2 with x1 fixed at 4: its derivative is the partial derivative in x0."""
    return x0 * x0 + 4.0**2.0


def function_tmp2(x1):
    """function_2 with x0 fixed at 3."""
    return 3.0**2.0 + x1 * x1


def tangent_line(f, x):
    """The line through (x, f(x)) with the numerical slope of f at x."""
    d = tk.numerical_diff(f, x)
    y = f(x) - d * x
    return lambda t: d * t + y


def plot_tangent_line(out_dir):
    """Write function_1 and its tangent at x = 5 to OUT_DIR/ch04_tangent_line.png; return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    x = np.arange(0.0, 20.0, 0.1)
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(x, function_1(x), label="function_1")
    ax.plot(x, tangent_line(function_1, 5)(x), label="tangent at x = 5")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch04_tangent_line.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    print("h = 1e-50 is too small:")
    print("  np.float32(1e-50) =", float(np.float32(1e-50)))
    print("  forward difference at x = 5 with h = 1e-50:",
          tk.numerical_diff(function_1, 5, h=1e-50, method="forward"))   # x + h == x, so 0.0

    print("forward difference (f(x+h) - f(x)) / h, h = 1e-4 (true values 0.2 and 0.3):")
    print("  at x = 5: ", tk.numerical_diff(function_1, 5, method="forward"))
    print("  at x = 10:", tk.numerical_diff(function_1, 10, method="forward"))

    print("central difference (f(x+h) - f(x-h)) / 2h, h = 1e-4:")
    print("  numerical_diff(function_1, 5) =", tk.numerical_diff(function_1, 5))     # the book: 0.1999999999990898
    print("  numerical_diff(function_1, 10) =", tk.numerical_diff(function_1, 10))   # the book: 0.2999999999986347

    print("partial derivatives of function_2 = x0**2 + x1**2 at (x0, x1) = (3, 4):")
    print("  df/dx0 =", tk.numerical_diff(function_tmp1, 3.0))   # the book: 6.00000000000378
    print("  df/dx1 =", tk.numerical_diff(function_tmp2, 4.0))   # the book: 7.999999999999119

    try:
        print("wrote", plot_tangent_line(args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
