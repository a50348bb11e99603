"""The train/test accuracy plot that the chapter-6 overfitting examples share (the book's Figures 6-20 to 6-23).

Not an example itself: ``ch06_overfit_dropout.py`` and ``ch06_overfit_weight_decay.py``
import it (Python finds it beside them).
"""

import os

import numpy as np


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
