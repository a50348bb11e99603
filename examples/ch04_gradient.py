"""The gradient of function_2 = x0**2 + x1**2, and its field of arrows
(Deep Learning from Scratch 4.4, gradient_2d.py).

    python examples/ch04_gradient.py [--out plots]

Prints numerical_gradient(function_2) at (3, 4), (0, 2) and (3, 0): the book's
[6. 8.], [0. 4.] and [6. 0.]. Writes the field of -gradient over the grid
-2..2.25 (step 0.25) to OUT/ch04_gradient_field.png: every arrow points to the
minimum at (0, 0), and is longer the farther it is.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk


def function_2(x):
    return x[0]**2 + x[1]**2


def plot_gradient_field(out_dir):
    """Write the quiver plot of -gradient to OUT_DIR/ch04_gradient_field.png; return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    x0 = np.arange(-2, 2.5, 0.25)
    x1 = np.arange(-2, 2.5, 0.25)
    X, Y = np.meshgrid(x0, x1)
    X, Y = X.flatten(), Y.flatten()
    grad = np.array([tk.numerical_gradient(function_2, np.array([a, b])) for a, b in zip(X, Y)])

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.quiver(X, Y, -grad[:, 0], -grad[:, 1], angles="xy", color="#666666")
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.grid()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch04_gradient_field.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    for point in [(3.0, 4.0), (0.0, 2.0), (3.0, 0.0)]:
        grad = tk.numerical_gradient(function_2, np.array(point))
        print(f"numerical_gradient(function_2, {np.array(point)}) = {grad}")

    try:
        print("wrote", plot_gradient_field(args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
