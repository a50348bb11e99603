"""Gradient descent on function_2 = x0**2 + x1**2, with a good, a too large and a too small
learning rate (Deep Learning from Scratch 4.4.1, gradient_method.py).

    python examples/ch04_gradient_descent.py [--out plots]

Starts at (-3, 4) and takes 100 steps of x -= lr * numerical_gradient(f, x):
lr 0.1 reaches the minimum (0, 0) ([-6.11e-10, 8.15e-10]), lr 10 diverges
([-2.59e+13, -1.30e+12]) and lr 1e-10 barely moves ([-2.99999994, 3.99999992]).
Writes the path of lr 0.1 to OUT/ch04_gradient_descent.png.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk


def function_2(x):
    return x[0]**2 + x[1]**2


def plot_path(x_history, out_dir):
    """Write the points of the descent to OUT_DIR/ch04_gradient_descent.png; return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    grid = np.linspace(-5, 5, 201)
    X0, X1 = np.meshgrid(grid, grid)
    ax.contour(X0, X1, X0**2 + X1**2, levels=[1, 4, 9, 16, 25], colors="#cccccc")   # circles f = 1 ... 25
    ax.plot([-5, 5], [0, 0], "--b")
    ax.plot([0, 0], [-5, 5], "--b")
    ax.plot(x_history[:, 0], x_history[:, 1], "o")
    ax.set_xlim(-3.5, 3.5)
    ax.set_ylim(-4.5, 4.5)
    ax.set_xlabel("X0")
    ax.set_ylabel("X1")
    ax.set_title("gradient descent from (-3, 4), lr 0.1")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch04_gradient_descent.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    init_x = np.array([-3.0, 4.0])   # gradient_descent works on a copy: init_x stays (-3, 4)
    step_num = 100
    x, x_history = tk.gradient_descent(function_2, init_x, lr=0.1, step_num=step_num, return_history=True)
    print("lr = 0.1:  ", x, " (reaches the minimum at (0, 0))")
    x = tk.gradient_descent(function_2, init_x, lr=10.0, step_num=step_num)
    print("lr = 10:   ", x, " (too large: diverges)")
    x = tk.gradient_descent(function_2, init_x, lr=1e-10, step_num=step_num)
    print("lr = 1e-10:", x, " (too small: hardly moves)")

    try:
        print("wrote", plot_path(x_history, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
