"""The book's mini-batch training loop (train_neuralnet.py), the one loop behind ``tinygrad-ko train`` and ``Trainer``.

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> from tinygrad_ko.training import train
>>> np.random.seed(0)
>>> (x, t), (x_test, t_test) = tk.datasets.load_mnist(sample=True)
>>> net = tk.TwoLayerNet(784, 50, 10)
>>> history = train(net, (x, t), (x_test, t_test), tk.optim.SGD(lr=0.1), iters=200,
...                 batch_size=100, progress=False, log=None)
>>> sorted(history)
['epoch', 'final_test_accuracy', 'final_train_accuracy', 'loss', 'seconds', 'test_accuracy', 'train_accuracy', 'warnings']
>>> len(history["loss"]), history["epoch"]
(200, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
>>> bool(np.mean(history["loss"][-20:]) < np.mean(history["loss"][:20]))
True

The history is a dict that plots itself: ``history.plot()`` returns a
matplotlib figure (``history.plot("curves.png")`` also saves it), and in
Jupyter a history shown as a cell's result appears as that figure.
"""

import io
import json
import math
import time

import numpy as np

from .allocator import keep_freed_memory
from .io import write_atomically
from .threads import choose_blas_threads, limit_blas_threads

__all__ = ["train", "History", "LossNotFinite", "TrainingInterrupted", "format_seconds", "save_json",
           "plot_history"]

# How the loop prints an evaluation; Trainer passes the book's format instead.
EPOCH_LINE = "epoch {epoch:6.4g}  train acc {train_acc:.4f}  test acc {test_acc:.4f}"
EVAL_ROWS = 1000  # accuracy is measured this many rows at a time, so memory stays bounded
_clock = time.perf_counter  # the loop's clock (a test may replace it)


class History(dict):
    """What ``train`` returns: a dict that plots itself.

    Keys: ``loss`` (one float per step), ``epoch`` (the epochs at which accuracy
    was measured), ``train_accuracy`` and ``test_accuracy`` (one per
    measurement), ``final_train_accuracy``, ``final_test_accuracy``,
    ``seconds`` and ``warnings`` (what the loop warned about).

    >>> history = History(loss=[2.3, 1.1, 0.7], epoch=[0.0, 1.0], train_accuracy=[0.1, 0.8],
    ...                   test_accuracy=[0.1, 0.75])
    >>> history["test_accuracy"][-1]
    0.75
    >>> figure = history.plot()          # needs matplotlib: pip install "tinygrad-ko[plot]"
    >>> [ax.get_xlabel() for ax in figure.axes]
    ['iteration', 'epochs']
    """

    def plot(self, path=None, title=""):
        """The loss curve and the accuracy curves (as the book's figures), as a matplotlib Figure.

        With ``path``, the figure is also written there as a PNG (atomically).
        Needs matplotlib: ``pip install "tinygrad-ko[plot]"``.
        """
        figure = _figure(self, title)
        if path is not None:
            write_atomically(path, lambda f: figure.savefig(f, format="png", dpi=100))
        return figure

    def _repr_png_(self):
        """Jupyter shows a history as its plot (when matplotlib is there)."""
        try:
            figure = _figure(self, "")
        except ImportError:
            return None
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()


class LossNotFinite(FloatingPointError):
    """The loss became NaN or infinite, so training stopped.

    ``step`` (1-based) and ``loss`` say where; ``history`` holds everything up
    to the step before; ``checkpoint`` is the last complete evaluated epoch
    (a dict with ``step``, ``epoch``, ``state`` (weights) and ``history``) or
    None if no epoch was complete.

    >>> error = LossNotFinite("the loss became nan at step 3", step=3, loss=float("nan"))
    >>> error.step, error.checkpoint is None
    (3, True)
    """

    def __init__(self, message, step=None, loss=None, history=None, checkpoint=None):
        super().__init__(message)
        self.step, self.loss, self.history, self.checkpoint = step, loss, history, checkpoint


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: a KeyboardInterrupt that carries what was learned.

    ``step`` is the number of steps done; ``history`` and ``checkpoint`` as in
    ``LossNotFinite``.

    >>> isinstance(TrainingInterrupted("interrupted at step 7", step=7), KeyboardInterrupt)
    True
    """

    def __init__(self, message, step=None, history=None, checkpoint=None):
        super().__init__(message)
        self.step, self.history, self.checkpoint = step, history, checkpoint


def format_seconds(seconds):
    """A duration in the unit a person would use.

    >>> format_seconds(0.0123), format_seconds(42), format_seconds(3 * 3600), format_seconds(10 ** 7)
    ('12.3 ms', '42 s', '3 hours', '116 days')
    """
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.3g} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.3g} hours"
    if seconds < 2 * 365 * 86400:
        return f"{seconds / 86400:,.0f} days"
    return f"{seconds / (365 * 86400):,.0f} years"


# --- the loop ---


def train(net, train_data, test_data, optimizer, iters=10000, batch_size=100, gradient="backprop",
          eval_every=1, progress=True, log=print, log_lines=20, eval_rows=None, threads=None,
          line_format=EPOCH_LINE, log_final=True):
    """Train ``net`` by mini-batch steps and return its ``History``.

    ``net`` has the book's interface: ``gradient(x, t)``, ``loss(x, t)``,
    ``accuracy(x, t)`` and ``params``; x may be rows (N, 784) or images
    (N, 1, 28, 28). Each step draws ``batch_size`` random training rows
    (``np.random.choice``, as the book), computes the loss and its gradient
    (``gradient="backprop"`` or ``"numerical"``) in one pass, and lets
    ``optimizer.update(net.params, grads)`` move the weights in place. The loss
    recorded for a step is the batch's loss at the weights that gave its
    gradient (the book's Trainer measures it again after the update).

    Every ``eval_every`` epochs (an epoch is ``len(x_train) // batch_size``
    steps) it measures train and test accuracy (on the first ``eval_rows``
    rows of each, or all), and once more after the last step. ``log`` gets at
    most ``log_lines`` of these lines (None: every one), first and last
    included (the last unless ``log_final`` is False); the progress bar shows
    the latest loss and accuracy. ``line_format`` makes the line from
    ``epoch``, ``number`` (1, 2, ...), ``train_acc`` and ``test_acc``. ``log``
    also gets a warning, once per run, when after a few epochs the loss is
    still at its start while the accuracy sits at chance, or the loss is
    climbing (a learning rate far too high or too low).

    A loss that becomes NaN or infinite stops training with ``LossNotFinite``;
    Ctrl-C raises ``TrainingInterrupted`` (a KeyboardInterrupt). Both carry the
    weights and the history of the last complete evaluated epoch. BLAS gets
    ``threads`` threads during the run (None: ``choose_blas_threads``). The
    process keeps the memory the steps free (``tinygrad_ko.allocator``).
    """
    (x_train, t_train), (x_test, t_test) = train_data, test_data
    _check_arguments(iters, batch_size, gradient, eval_every, log_lines, eval_rows, threads, len(x_train))
    train_size = x_train.shape[0]
    steps_per_epoch = max(train_size // batch_size, 1)
    eval_period = steps_per_epoch * eval_every
    evaluations = len(range(0, iters, eval_period)) + 1
    shown = _shown_evaluations(evaluations, log_lines)
    x_eval, t_eval = x_train[:eval_rows], t_train[:eval_rows]
    x_test_eval, t_test_eval = x_test[:eval_rows], t_test[:eval_rows]
    watch = _Watch(steps_per_epoch, _chance_accuracy(t_eval))
    history = History(loss=[], epoch=[], train_accuracy=[], test_accuracy=[], warnings=[])
    state = {"checkpoint": None, "bar": None, "say": log, "start": _clock()}
    if threads is None:
        threads = choose_blas_threads(net, batch_size, x_train.shape[1:])
    keep_freed_memory()  # the steps' large arrays are not given back to the system and asked for again

    def say(line):
        if state["say"] is not None:
            state["say"](line)

    def evaluate(step):
        history["epoch"].append(step / steps_per_epoch)
        history["train_accuracy"].append(_accuracy(net, x_eval, t_eval))
        history["test_accuracy"].append(_accuracy(net, x_test_eval, t_test_eval))
        count = len(history["epoch"])
        if 0 < step < iters:  # saved before the line is printed: once it is seen, it can be had
            snapshot = _snapshot(net)
            if snapshot is not None:
                state["checkpoint"] = {"step": step, "epoch": step / steps_per_epoch, "state": snapshot,
                                       "evaluations": count, "seconds": _clock() - state["start"]}
        if (shown is None or count - 1 in shown) and (log_final or step < iters):
            say(line_format.format(epoch=history["epoch"][-1], number=count,
                                   train_acc=history["train_accuracy"][-1], test_acc=history["test_accuracy"][-1]))
        warning = watch.check(history["loss"], history["train_accuracy"][-1])
        if warning:
            history["warnings"].append(warning)
            say("warning: " + warning)

    steps = range(iters)
    if progress:
        from tqdm.auto import tqdm  # a dependency, imported only when a bar is shown
        state["bar"] = steps = tqdm(steps, desc="train", unit="step", dynamic_ncols=True)
        if log is not None:
            state["say"] = state["bar"].write  # keep the bar below the printed lines
    with limit_blas_threads(threads):
        state["start"] = _clock()
        try:
            for i in steps:
                if i % eval_period == 0:
                    evaluate(i)
                batch = np.random.choice(train_size, batch_size)
                began = _clock()
                with np.errstate(over="ignore", invalid="ignore"):  # a non-finite loss is reported below
                    loss, grads = _loss_and_gradient(net, x_train[batch], t_train[batch], gradient)
                    if not math.isfinite(loss):
                        raise _stopped(LossNotFinite, history, state, i, loss=loss, message=(
                            f"the loss became {loss} at step {i + 1:,} of {iters:,} "
                            f"(epoch {i / steps_per_epoch:.3g}): training stopped"))
                    optimizer.update(net.params, grads)
                history["loss"].append(loss)
                if i == 0 and gradient == "numerical":
                    took = _clock() - began
                    say(f"numerical gradient: the first step took {format_seconds(took)}, so {iters:,} "
                        f"step{'s' if iters != 1 else ''} would take about {format_seconds(took * iters)}")
                if state["bar"] is not None and i % 10 == 0:
                    state["bar"].set_postfix(loss=f"{np.mean(history['loss'][-50:]):.4g}",
                                             test_acc=f"{history['test_accuracy'][-1]:.4f}", refresh=False)
            history["seconds"] = _clock() - state["start"]
            evaluate(iters)
        except KeyboardInterrupt:
            raise _stopped(TrainingInterrupted, history, state, len(history["loss"]),
                           message=f"training interrupted after {len(history['loss']):,} steps") from None
        finally:
            if state["bar"] is not None:
                state["bar"].close()
    history["final_train_accuracy"] = history["train_accuracy"][-1]
    history["final_test_accuracy"] = history["test_accuracy"][-1]
    return history


def _check_arguments(iters, batch_size, gradient, eval_every, log_lines, eval_rows, threads, train_size):
    for name, value, least in (("iters", iters, 1), ("batch_size", batch_size, 1), ("eval_every", eval_every, 1),
                               ("log_lines", log_lines, 1), ("eval_rows", eval_rows, 1), ("threads", threads, 1)):
        if value is None and name in ("log_lines", "eval_rows", "threads"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"train: {name} must be a whole number >= {least}, got {value!r}")
    if gradient not in ("backprop", "numerical"):
        raise ValueError(f"train: gradient must be 'backprop' or 'numerical', got {gradient!r}")
    if train_size == 0:
        raise ValueError("train: the training data has no rows")


def _shown_evaluations(count, most):
    """The indices of the evaluations to print: all if they fit in ``most``, else evenly spaced, last included."""
    if most is None or count <= most:
        return None
    stride = math.ceil((count - 1) / max(most - 1, 1))
    return set(range(0, count - 1, stride)) | {count - 1}


def _loss_and_gradient(net, x, t, gradient):
    """(loss as a float, grads keyed like net.params), from one forward and one backward pass."""
    from .autograd import no_grad

    if gradient == "numerical":
        grads = net.numerical_gradient(x, t)
    elif _has_own_loss_and_gradient(net):
        loss, grads = net.loss_and_gradient(x, t)  # the loss of the graph that gave the gradient
        return _as_float(loss), grads
    else:
        grads = net.gradient(x, t)
    with no_grad():
        return _as_float(net.loss(x, t)), grads


def _has_own_loss_and_gradient(net):
    """True for the package's nets, whose ``gradient`` is ``loss_and_gradient`` without the loss."""
    from .models.base import BookNet

    return hasattr(net, "loss_and_gradient") and getattr(type(net), "gradient", None) is BookNet.gradient


def _as_float(value):
    return float(value.item() if hasattr(value, "item") else value)


def _accuracy(net, x, t, rows=EVAL_ROWS):
    """``net.accuracy(x, t)``, measured ``rows`` rows at a time (the same number, bounded memory)."""
    total = x.shape[0]
    if total <= rows:
        return float(net.accuracy(x, t))
    correct = 0
    for start in range(0, total, rows):
        part = slice(start, start + rows)
        size = x[part].shape[0]
        correct += round(net.accuracy(x[part], t[part]) * size)
    return float(correct / total)


def _chance_accuracy(t):
    """The accuracy of always answering the commonest label."""
    labels = np.asarray(t)
    if labels.ndim > 1:
        labels = labels.argmax(axis=1)
    if labels.size == 0:
        return 0.0
    return float(np.bincount(labels.astype(np.int64)).max() / labels.size)


class _Watch:
    """Warns, once per run, when training has gone nowhere: a learning rate far too high or too low.

    Two signs, checked at each evaluation after a grace period (the book's
    sigmoid net sits near its starting loss for its first few epochs):
    the loss of the last epoch is still about the loss of the first step
    while the train accuracy is at chance (always answering the commonest
    label); or the loss has climbed back to more than twice its best epoch
    and above half its start (diverging).
    """

    GRACE_EPOCHS, GRACE_STEPS = 5, 200

    def __init__(self, steps_per_epoch, chance):
        self.window = max(steps_per_epoch, 20)
        self.grace = max(self.GRACE_EPOCHS * steps_per_epoch, self.GRACE_STEPS)
        self.steps_per_epoch, self.chance = steps_per_epoch, chance
        self.best, self.accuracies, self.fired = math.inf, [], False

    def check(self, losses, train_accuracy):
        """A warning (one line) or None, given the losses so far and the latest train accuracy."""
        self.accuracies.append(train_accuracy)
        if self.fired or len(losses) < self.window:
            return None
        first, now = losses[0], float(np.mean(losses[-self.window:]))
        best, self.best = self.best, min(self.best, now)
        if len(losses) < self.grace:
            return None
        epochs = f"{len(losses) / self.steps_per_epoch:.3g}"
        if now >= 0.98 * first and max(self.accuracies[-2:]) <= self.chance + 0.05:
            self.fired = True
            where = "is where it started" if now < 1.1 * first else "is above where it started"
            return (f"after {epochs} epochs the loss {where} ({first:.4g} at the first step, {now:.4g} over the "
                    f"last epoch) and the train accuracy {train_accuracy:.4f} is at chance ({self.chance:.2f}, "
                    f"always answering one label): the net is not learning; the learning rate is probably far "
                    f"too high or too low")
        lowest = min(best, first)
        if now > 2 * lowest and now > 0.5 * first:
            self.fired = True
            return (f"after {epochs} epochs the loss is rising ({now:.4g} over the last epoch, {lowest:.4g} at "
                    f"best): training is diverging; a smaller learning rate may help")
        return None


def _snapshot(net):
    """A copy of the weights (``state_dict``, else ``params``), or None if any is NaN or infinite."""
    if hasattr(net, "state_dict"):
        arrays = net.state_dict()
    else:
        arrays = net.params
    snapshot = {name: np.array(getattr(a, "data", a), copy=True) for name, a in arrays.items()}
    for array in snapshot.values():
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return None
    return snapshot


def _stopped(kind, history, state, step, loss=None, message=""):
    """The exception that ends an unfinished run, with the history so far and the last checkpoint."""
    history["seconds"] = _clock() - state["start"]
    checkpoint = state["checkpoint"]
    if checkpoint is not None:
        checkpoint = dict(checkpoint, history=_history_until(history, checkpoint))
    if kind is LossNotFinite:
        return LossNotFinite(message, step=step + 1, loss=loss, history=history, checkpoint=checkpoint)
    return TrainingInterrupted(message, step=step, history=history, checkpoint=checkpoint)


def _history_until(history, checkpoint):
    count = checkpoint["evaluations"]
    kept = History(loss=history["loss"][:checkpoint["step"]], epoch=history["epoch"][:count],
                   train_accuracy=history["train_accuracy"][:count], test_accuracy=history["test_accuracy"][:count],
                   warnings=list(history["warnings"]), seconds=checkpoint["seconds"])
    kept["final_train_accuracy"] = kept["train_accuracy"][-1]
    kept["final_test_accuracy"] = kept["test_accuracy"][-1]
    return kept


# --- files ---


def _finite_or_none(value):
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def save_json(data, path):
    """Write ``data`` as indented JSON, atomically; a NaN or infinite number is written as null."""
    text = json.dumps(_finite_or_none(data), indent=2, allow_nan=False)
    write_atomically(path, lambda f: f.write(text.encode("utf-8")))


def _figure(history, title):
    try:
        from matplotlib.figure import Figure  # no pyplot: no window, no global state
    except ImportError as error:
        raise ImportError('plotting needs matplotlib: pip install "tinygrad-ko[plot]"') from error
    figure = Figure(figsize=(10, 4))
    ax_loss, ax_acc = figure.subplots(1, 2)
    loss = np.asarray(history.get("loss", []), dtype=float)
    ax_loss.plot(loss, linewidth=0.5, alpha=0.5, label="loss per step")
    if loss.size >= 50:
        ax_loss.plot(np.arange(49, loss.size), np.convolve(loss, np.ones(50) / 50, mode="valid"),
                     label="mean of 50 steps")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    epochs = history.get("epoch", [])
    ax_acc.plot(epochs, history.get("train_accuracy", []), marker="o", markersize=3, label="train acc")
    ax_acc.plot(epochs, history.get("test_accuracy", []), marker="s", markersize=3, linestyle="--",
                label="test acc")
    ax_acc.set_xlabel("epochs")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.0)
    ax_acc.legend(loc="lower right")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_history(history, path, title=""):
    """Save the loss curve and the accuracy curves of ``history`` to a PNG, atomically.

    Needs matplotlib: ``pip install "tinygrad-ko[plot]"``.
    """
    History(history).plot(path, title)
