"""What the chapter-6 examples on small training sets share: the small set and the accuracy plot
(the book's Figures 6-20 to 6-23).

Not an example itself: ``ch06_overfit_dropout.py``, ``ch06_overfit_weight_decay.py`` and
``ch06_batch_norm_test.py`` import it (Python finds it beside them).
"""

import os

import numpy as np

import tinygrad_ko as tk


def load_data(name, train_size=300):
    """((x_train, t_train), (x_test, t_test)) with only ``train_size`` training images, as the book."""
    if name == "sample":
        print(f"data: {train_size} training images of the MNIST sample inside the package, its 1,000 test images")
        (x_train, t_train), (x_test, t_test) = tk.datasets.load_mnist(normalize=True, sample=True)
        # As many of each digit, so that a small set still holds all ten.
        keep = np.concatenate([np.flatnonzero(t_train == digit)[:train_size // 10] for digit in range(10)])
    else:
        print(f"data: the first {train_size} training images of {name}, its 10,000 test images")
        loader = tk.datasets.load_fashion_mnist if name == "fashion-mnist" else tk.datasets.load_mnist
        (x_train, t_train), (x_test, t_test) = loader(normalize=True)
        keep = np.arange(train_size)
    return (x_train[keep], t_train[keep]), (x_test, t_test)


def plot_accuracy_runs(runs, out_dir, file_name):
    """Train and test accuracy per epoch of each run, side by side; return the PNG's path.

    runs: {title: (train_acc_list, test_acc_list)}; the PNG is OUT_DIR/FILE_NAME.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    for ax, (title, (train_acc_list, test_acc_list)) in zip(axes, runs.items()):
        x = np.arange(len(train_acc_list))
        ax.plot(x, train_acc_list, marker="o", label="train", markevery=10)
        ax.plot(x, test_acc_list, marker="s", label="test", markevery=10)
        ax.set_title(title)
        ax.set_xlabel("epochs")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.0)
        ax.legend(loc="lower right")
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, file_name)
    fig.savefig(path)
    return path
