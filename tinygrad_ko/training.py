"""The book's mini-batch training loop (train_neuralnet.py), with a progress bar and a plot.

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> from tinygrad_ko.training import train
>>> np.random.seed(0)
>>> (x, t), (x_test, t_test) = tk.datasets.load_mnist(sample=True)
>>> net = tk.TwoLayerNet(784, 50, 10)
>>> history = train(net, (x, t), (x_test, t_test), tk.optim.SGD(lr=0.1), iters=200,
...                 batch_size=100, progress=False, log=None)
>>> sorted(history)
['epoch', 'final_test_accuracy', 'final_train_accuracy', 'loss', 'seconds', 'test_accuracy', 'train_accuracy']
>>> len(history["loss"]), history["epoch"]
(200, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
>>> bool(np.mean(history["loss"][-20:]) < np.mean(history["loss"][:20]))
True
"""

import json
import time

import numpy as np

from .io import write_atomically


def train(net, train_data, test_data, optimizer, iters=10000, batch_size=100, gradient="backprop",
          eval_every=1, progress=True, log=print):
    """Train ``net`` by mini-batch steps and return its history.

    Each step draws ``batch_size`` random training rows (``np.random.choice``,
    as the book), computes the loss and its gradient (``gradient="backprop"``
    or ``"numerical"``) and lets ``optimizer.update(net.params, grads)`` move
    the weights in place. Every ``eval_every`` epochs (an epoch is
    ``train_size / batch_size`` steps) it measures train and test accuracy and
    calls ``log`` with a one-line summary. Returns a dict with the loss of
    every step, the epochs measured and their accuracies, the final accuracies
    and the seconds spent.
    """
    (x_train, t_train), (x_test, t_test) = train_data, test_data
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // batch_size, 1)
    history = {"loss": [], "epoch": [], "train_accuracy": [], "test_accuracy": []}

    def evaluate(epoch):
        history["epoch"].append(epoch)
        history["train_accuracy"].append(net.accuracy(x_train, t_train))
        history["test_accuracy"].append(net.accuracy(x_test, t_test))
        if log is not None:
            log(f"epoch {epoch:6.4g}  train acc {history['train_accuracy'][-1]:.4f}  "
                f"test acc {history['test_accuracy'][-1]:.4f}")

    steps = range(iters)
    bar = None
    if progress:
        from tqdm.auto import tqdm  # a dependency, imported only when a bar is shown
        bar = tqdm(steps, desc="train", unit="step", dynamic_ncols=True)
        steps = bar
        if log is not None:
            log = bar.write  # keep the bar below the epoch lines
    start = time.perf_counter()
    try:
        for i in steps:
            if i % (iter_per_epoch * eval_every) == 0:
                evaluate(i / iter_per_epoch)
            batch = np.random.choice(train_size, batch_size)
            x_batch, t_batch = x_train[batch], t_train[batch]
            if gradient == "numerical":
                grads = net.numerical_gradient(x_batch, t_batch)
                loss = net.loss(x_batch, t_batch).item()
            else:
                net.zero_grad()
                loss_tensor = net.loss(x_batch, t_batch)
                loss_tensor.backward()
                grads = {name: p.grad.data for name, p in net.named_parameters()}
                loss = loss_tensor.item()
            optimizer.update(net.params, grads)
            history["loss"].append(loss)
            if bar is not None and i % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(history['loss'][-50:]):.4f}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    history["seconds"] = time.perf_counter() - start
    evaluate(iters / iter_per_epoch)
    history["final_train_accuracy"] = history["train_accuracy"][-1]
    history["final_test_accuracy"] = history["test_accuracy"][-1]
    return history


def save_json(data, path):
    """Write ``data`` as indented JSON, atomically."""
    write_atomically(path, lambda f: f.write(json.dumps(data, indent=2).encode("utf-8")))


def plot_history(history, path, title=""):
    """Save the loss curve and the accuracy curves (as the book's figures) to a PNG, atomically.

    Needs matplotlib: ``pip install "tinygrad-ko[plot]"``.
    """
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError('plotting needs matplotlib: pip install "tinygrad-ko[plot]"') from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    loss = np.asarray(history["loss"])
    ax_loss.plot(loss, linewidth=0.5, alpha=0.5, label="loss per step")
    if loss.size >= 50:
        ax_loss.plot(np.arange(49, loss.size), np.convolve(loss, np.ones(50) / 50, mode="valid"),
                     label="mean of 50 steps")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    ax_acc.plot(history["epoch"], history["train_accuracy"], marker="o", markersize=3, label="train acc")
    ax_acc.plot(history["epoch"], history["test_accuracy"], marker="s", markersize=3, linestyle="--",
                label="test acc")
    ax_acc.set_xlabel("epochs")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.0)
    ax_acc.legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    write_atomically(path, lambda f: fig.savefig(f, format="png", dpi=100))
    plt.close(fig)
