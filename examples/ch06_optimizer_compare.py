"""SGD, Momentum, AdaGrad and Adam on f(x, y) = x**2 / 20 + y**2
(Deep Learning from Scratch 6.1.7, optimizer_compare_naive.py).

    python examples/ch06_optimizer_compare.py [--out plots]

Each optimizer takes 30 steps from (-7, 2) toward the minimum at (0, 0). The
gradient comes from autograd (``tk.grad``) instead of the book's hand-written
df(x, y) = (x / 10, 2 y); the updates are ``tk.optim``'s, with the book's
learning rates. Prints where each one ends and f there, and writes the four
paths over the contours of f to OUT/ch06_optimizer_compare.png.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk


def f(x, y):
    return x**2 / 20.0 + y**2


def make_optimizers():
    """The book's four optimizers and learning rates, in the book's order."""
    return {
        "SGD": tk.optim.SGD(lr=0.95),
        "Momentum": tk.optim.Momentum(lr=0.1),
        "AdaGrad": tk.optim.AdaGrad(lr=1.5),
        "Adam": tk.optim.Adam(lr=0.3),
    }


def run(optimizer, init_pos=(-7.0, 2.0), steps=30):
    """Take ``steps`` updates from ``init_pos``; return the path, shape (steps + 1, 2), end point included."""
    x = tk.Tensor(init_pos[0], requires_grad=True)
    y = tk.Tensor(init_pos[1], requires_grad=True)
    params = {"x": x, "y": y}   # the optimizer updates x.data and y.data in place
    history = [(x.item(), y.item())]
    for i in range(steps):
        dx, dy = tk.grad(f(x, y), [x, y])
        optimizer.update(params, {"x": dx, "y": dy})
        history.append((x.item(), y.item()))
    return np.array(history)


def plot_paths(paths, out_dir):
    """Write the 2x2 plot of the paths to OUT_DIR/ch06_optimizer_compare.png; return the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    X, Y = np.meshgrid(np.arange(-10, 10, 0.01), np.arange(-5, 5, 0.01))
    Z = f(X, Y)
    Z[Z > 7] = 0   # as the book: contours only near the minimum

    fig = Figure(figsize=(10, 8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2).flatten()
    for ax, (name, path) in zip(axes, paths.items()):
        ax.plot(path[:, 0], path[:, 1], "o-", color="red")
        ax.contour(X, Y, Z)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-10, 10)
        ax.plot(0, 0, "+")
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch06_optimizer_compare.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    print(f"start (-7, 2): f = {f(-7.0, 2.0):.6g}")
    paths = {}
    for name, optimizer in make_optimizers().items():
        paths[name] = run(optimizer)
        x, y = paths[name][-1]
        print(f"{name:8s} after 30 steps: (x, y) = ({x:.10g}, {y:.10g}), f = {f(x, y):.10g}")

    try:
        print("wrote", plot_paths(paths, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
