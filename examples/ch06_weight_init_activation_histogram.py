"""Hidden-layer activations for different initial weights (Deep Learning from Scratch 6.2.2-6.2.3,
weight_init_activation_histogram.py).

    python examples/ch06_weight_init_activation_histogram.py [--out plots]

1,000 random inputs of 100 values go through 5 layers of 100 nodes with
random weights and no training, as in the book. How the activations spread
depends on the weights' scale:

- sigmoid, std 1: the activations pile up at 0 and 1, where the gradient
  vanishes (figure 6-10);
- sigmoid, std 0.01: they all sit near 0.5, so every node says the same
  (figure 6-11);
- sigmoid, Xavier (std sqrt(1/n)): they stay spread out (figure 6-13);
- ReLU, std 0.01 / Xavier / He (std sqrt(2/n)): with He's scale the spread is
  the same in every layer; with Xavier's it shrinks layer by layer, with 0.01
  it is gone (figure 6-14).

Prints, for each setting, each layer's standard deviation of the activations
and (sigmoid) the share of them below 0.05 or above 0.95; writes the
histograms, one row per setting, to OUT/ch06_weight_init_activation_histogram.png.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk

NODE_NUM = 100           # nodes of each hidden layer
HIDDEN_LAYER_SIZE = 5    # hidden layers

# (activation, name of the initial scale, std as a function of the layer's input size n)
SETTINGS = [
    ("sigmoid", "std=1", lambda n: 1.0),
    ("sigmoid", "std=0.01", lambda n: 0.01),
    ("sigmoid", "Xavier", lambda n: np.sqrt(1.0 / n)),
    ("relu", "std=0.01", lambda n: 0.01),
    ("relu", "Xavier", lambda n: np.sqrt(1.0 / n)),
    ("relu", "He", lambda n: np.sqrt(2.0 / n)),
]


def activations_of(input_data, activation, scale):
    """The activations of each hidden layer, {i: ndarray (1000, 100)}, for weights scale(n) * N(0, 1)."""
    activations = {}
    x = tk.Tensor(input_data)
    for i in range(HIDDEN_LAYER_SIZE):
        w = tk.Tensor(np.random.randn(NODE_NUM, NODE_NUM) * scale(NODE_NUM))
        a = x @ w
        x = a.sigmoid() if activation == "sigmoid" else a.relu()
        activations[i] = x.numpy()
    return activations


def saturated(z):
    """The share of sigmoid outputs below 0.05 or above 0.95 (where its gradient is under 0.05)."""
    return float(np.mean((z < 0.05) | (z > 0.95)))


def plot_histograms(results, out_dir):
    """One row of histograms per setting, one column per layer; return the PNG's path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 2.2 * len(results)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(results), HIDDEN_LAYER_SIZE, squeeze=False)
    for row, (label, activations) in enumerate(results.items()):
        for i, a in activations.items():
            ax = axes[row, i]
            ax.hist(a.flatten(), 30, range=(0, 1))
            ax.set_ylim(0, 7000)   # as the book: ReLU's many zeros go off the top
            ax.set_title(f"{label}: {i + 1}-layer", fontsize=8)
            if i != 0:
                ax.set_yticks([])
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch06_weight_init_activation_histogram.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="seed for the inputs and the weights")
    parser.add_argument("--out", default="plots", help="folder for the PNG (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    input_data = np.random.randn(1000, NODE_NUM)   # 1,000 inputs

    results = {}
    print("std of the activations in layers 1-5" + " " * 10 + "(sigmoid: share below 0.05 or above 0.95)")
    for activation, init_name, scale in SETTINGS:
        label = f"{activation}, {init_name}"
        activations = activations_of(input_data, activation, scale)
        results[label] = activations
        stds = " ".join(f"{a.std():.3g}" for a in activations.values())
        line = f"{label:17s}| std: {stds}"
        if activation == "sigmoid":
            line += " | saturated: " + " ".join(f"{saturated(a):.2f}" for a in activations.values())
        print(line)

    try:
        print("wrote", plot_histograms(results, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
