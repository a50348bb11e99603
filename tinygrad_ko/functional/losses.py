"""Losses: the book's (``common/functions.py``) with a fused softmax-cross-entropy, and PyTorch's.

The book's take classes on the last axis and average over rows; PyTorch's
(``cross_entropy``, ``nll_loss``, ``binary_cross_entropy``, ``l1_loss``,
``huber_loss``) take classes on axis 1 and a ``reduction`` ("mean", "sum",
"none"), as ``torch.nn.functional``.
"""

import warnings

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..ops.matmul import ones, row_indices
from ..tensor import Tensor
from ._common import _targets, _tensor
from .activations import LogSoftmax, Softmax, _shifted


def _check_classes(op, y, axis=-1, what="scores"):
    """Raise a clear error if the class axis of ``y`` is empty (no class to score; labels could not exist)."""
    if y.ndim and y.shape[axis] == 0:
        where = "the last axis" if axis == -1 else f"axis {axis}"
        raise ValueError(f"{op}: {what} of shape {y.shape} have no classes; {where} must hold one score per class")


def _check_targets(op, y, t):
    """Raise a clear error unless ``t`` is labels (shape y.shape[:-1]) or one-hot (y's shape)."""
    if y.ndim == 0:
        raise ValueError(f"{op}: needs scores of at least one dimension (classes last), got a 0-d tensor")
    _check_classes(op, y, what="logits" if op == "softmax_cross_entropy" else "scores")
    classes = y.shape[-1]
    if t.dtype.kind in "iu":
        if t.shape != y.shape[:-1]:
            raise ValueError(
                f"{op}: integer labels must have shape {y.shape[:-1]} (one per row of {y.shape}), "
                f"got {t.shape}; for one-hot targets pass a float array of shape {y.shape}")
        if not _labels_in_range(t, classes):
            bad = np.flatnonzero((t < 0) | (t >= classes))
            where = np.unravel_index(bad[0], t.shape) if t.ndim else ()
            raise ValueError(
                f"{op}: label {t[where]} at index {tuple(int(i) for i in where)} is out of range "
                f"for {classes} classes (labels must be 0 to {classes - 1})")
    elif t.dtype.kind == "f":
        if t.shape != y.shape:
            raise ValueError(
                f"{op}: one-hot targets must have the shape of the scores {y.shape}, got {t.shape}; "
                f"for class labels pass an integer array of shape {y.shape[:-1]}")
    else:
        raise TypeError(f"{op}: targets must be integer labels or float one-hot, got dtype {t.dtype}")


def _labels_in_range(t, classes):
    """True if every integer label lies in [0, classes): one maximum of the labels read as unsigned
    numbers (a negative label becomes a huge one), instead of a maximum and a minimum."""
    if not t.size:
        return True
    unsigned = t.view(np.dtype(f"u{t.dtype.itemsize}")) if t.dtype.kind == "i" else t
    return int(unsigned.max()) < classes


def _one_hot(labels, classes, dtype):
    out = np.zeros((labels.size, classes), dtype=dtype)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    return out.reshape(labels.shape + (classes,))


class SoftmaxCrossEntropy(Function):
    """loss = mean over rows of -sum(t * log_softmax(x)), classes on the last axis; fused.

    t: integer labels (shape x.shape[:-1]) or one-hot / probabilities (x's shape).
    dx = (softmax(x) * sum(t) - t) / N * gy, which is (softmax - onehot) / N
    for one-hot t. Saves the softmax probabilities and the row count N.
    Called by ``softmax_cross_entropy``:

    >>> round(SoftmaxCrossEntropy.apply(Tensor([[0.0, 0.0]]), Tensor(np.array([1]))).item(), 4)
    0.6931
    """

    op_name = "softmax_cross_entropy"

    @staticmethod
    def forward(ctx, x, t):
        ctx.is_labels = t.dtype.kind in "iu"
        # Labels of the right shape and range (every training step) pass with one check; anything
        # else gets the full checks and their messages.
        if not (ctx.is_labels and x.ndim and t.shape == x.shape[:-1] and _labels_in_range(t, x.shape[-1])):
            _check_targets("softmax_cross_entropy", x, t)
        classes = x.shape[-1]
        rows = x if x.ndim == 2 else x.reshape(-1, classes)  # one row per sample, whatever the leading axes
        z = _shifted(rows, 1, "softmax_cross_entropy")  # a new array: exp may overwrite it
        ctx.rows = rows.shape[0]
        if ctx.is_labels:
            z_true = z[row_indices(ctx.rows), t.reshape(-1)]  # taken before z becomes the probabilities
            probs = np.exp(z, out=z)
        else:
            probs = np.exp(z)
        sum_exp = np.dot(probs, ones((classes, 1), probs.dtype))  # row sums; BLAS is 3x faster here
        log_sum_exp = np.log(sum_exp)
        probs /= sum_exp
        ctx.probs = probs if x.ndim == 2 else probs.reshape(x.shape)
        if ctx.is_labels:  # -log p of each true class: log(sum(exp(z))) - z[t]
            losses = log_sum_exp.reshape(-1) - z_true
        else:  # where t is 0 and log p is -inf, the term is 0, not 0 * -inf (a NaN still counts)
            t_rows, log_p = t.reshape(-1, classes), z - log_sum_exp
            counted = ~((t_rows == 0) & np.isinf(log_p))
            losses = -np.multiply(t_rows, log_p, out=np.zeros(z.shape), where=counted)
        # The mean as a sum of losses / N, in float64: when every row's loss fits, so does their
        # mean, though their plain sum may overflow. The mean of no rows is NaN, as np.mean's.
        # (astype, then sum: a reduction that converts as it goes takes twice as long.)
        mean = (losses / ctx.rows).astype(np.float64, copy=False).sum() if ctx.rows else np.nan
        return np.asarray(mean, dtype=z.dtype)

    @staticmethod
    def backward(ctx, gy):
        x, t = ctx.inputs
        recording = is_grad_enabled()
        # Under create_graph the probabilities must be a recorded function of x.
        probs = Softmax.apply(x, axis=-1) if recording else ctx.probs
        if ctx.is_labels:
            if recording:
                return (probs - _one_hot(t.data, x.shape[-1], x.dtype)) * (gy / ctx.rows), None
            # The plain backward of every training step, (probs - onehot) * scale on the arrays,
            # with 1 subtracted in place at the labels instead of a one-hot built.
            gx = probs.copy()
            gx.reshape(ctx.rows, x.shape[-1])[row_indices(ctx.rows), t.data.reshape(-1)] -= 1
            gx *= gy.data / ctx.rows
            return Tensor(gx), None
        probs = probs if recording else Tensor(probs)
        scale = gy / ctx.rows
        gx = (probs * t.sum(axis=-1, keepdims=True) - t) * scale if ctx.needs_input_grad[0] else None
        gt = -LogSoftmax.apply(x, axis=-1) * scale if ctx.needs_input_grad[1] else None
        return gx, gt


def softmax_cross_entropy(logits, t):
    """Mean cross-entropy of softmax(logits) against ``t``, fused and stable.

    logits: (N, C) or (C,); t: integer labels of shape (N,) / () or one-hot of
    logits' shape. Returns a 0-d Tensor. Its gradient is (softmax - onehot) / N,
    the book's SoftmaxWithLoss without the 1e-7 floor.

    >>> softmax_cross_entropy(np.array([[1e4, 0.0]]), np.array([1]))
    Tensor(10000.)
    """
    logits, t = _tensor(logits), _targets(t, "softmax_cross_entropy")
    if t.shape == logits.shape and not t.requires_grad:
        t = Tensor(t.data.astype(logits.dtype, copy=False))  # one-hot, maybe given as integers
    return SoftmaxCrossEntropy.apply(logits, t)


def cross_entropy_error(y, t):
    """The book's cross-entropy of probabilities ``y``: -sum(log(y[t] + 1e-7)) / N.

    y: (N, C) or (C,) probabilities; t: labels or one-hot (converted with
    argmax, as in the book). The ``+ 1e-7`` keeps log finite at y = 0; it also
    puts a floor of about 1e-7 under the gradient's accuracy, which is why
    ``softmax_cross_entropy`` is preferred for training.

    >>> y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    >>> t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    >>> round(cross_entropy_error(np.array(y), np.array(t)).item(), 6)
    0.510825
    """
    y, t = _tensor(y), _targets(t, "cross_entropy_error").data
    _check_classes("cross_entropy_error", y, what="probabilities")
    if y.ndim == 1:
        one_hot = t.shape == y.shape
        y = y.reshape(1, y.size)
        t = t.reshape(1, -1) if one_hot else t.reshape(1)
    if t.shape == y.shape:  # one-hot rows, as the book's t.size == y.size test
        t = t.argmax(axis=-1)
    _check_targets("cross_entropy_error", y, t)
    batch_size = y.shape[0]
    return -(y[np.arange(batch_size), t] + 1e-7).log().sum() / batch_size


def _targets_like(op, y, t):
    """``t`` as a float Tensor of y's shape: one-hot (any dtype) as is, integer labels made one-hot."""
    t = _targets(t, op)
    if t.shape == y.shape:
        return t if t.requires_grad else Tensor(t.data.astype(y.dtype, copy=False))
    _check_targets(op, y, t.data)  # raises unless these are valid labels
    return Tensor(_one_hot(t.data, y.shape[-1], y.dtype))


def sum_squared_error(y, t):
    """The book's loss 0.5 * sum((y - t)**2) (summed, not averaged over the batch).

    t: same shape as y, or integer labels (made one-hot).

    >>> y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
    >>> round(sum_squared_error(np.array(y), np.array(2)).item(), 6)
    0.0975
    """
    y = _tensor(y)
    return ((y - _targets_like("sum_squared_error", y, t)) ** 2).sum() * 0.5


def mean_squared_error(y, t):
    """mean((y - t)**2) over all elements, as PyTorch's ``MSELoss``.

    t: same shape as y, or integer labels (made one-hot).

    >>> mean_squared_error(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    Tensor(0.25)
    """
    y = _tensor(y)
    return ((y - _targets_like("mean_squared_error", y, t)) ** 2).mean()


# --- PyTorch's losses: classes on axis 1, a ``reduction`` argument ---

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(losses, reduction):
    """The per-element losses averaged, summed or returned as they are."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _check_class_targets(op, x, t):
    """Raise a clear error unless ``t`` holds class indices for scores ``x`` with classes on axis 1."""
    if x.ndim == 0:
        raise ValueError(f"{op}: needs scores of at least one dimension, got a 0-d tensor")
    want = () if x.ndim == 1 else x.shape[:1] + x.shape[2:]
    _check_classes(op, x, axis=0 if x.ndim == 1 else 1)
    classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class targets must be integers, got dtype {t.dtype}")
    if t.shape != want:
        raise ValueError(
            f"{op}: class targets for scores of shape {x.shape} (classes on axis "
            f"{0 if x.ndim == 1 else 1}) must have shape {want}, got {t.shape}")
    bad = (t < 0) | (t >= classes)
    if np.any(bad):
        where = np.unravel_index(np.flatnonzero(bad)[0], t.shape) if t.ndim else ()
        raise ValueError(
            f"{op}: target {t[where]} at index {tuple(int(i) for i in where)} is out of range for "
            f"{classes} classes (targets must be 0 to {classes - 1}; ignore_index is not supported)")


def _class_index(t, ndim):
    """The index that picks x[n, t[n, d...], d...] from scores with classes on axis 1 (axis 0 if 1-D)."""
    if ndim == 1:
        return (t,)
    grids = np.indices(t.shape, sparse=True)
    return (grids[0], t) + tuple(grids[1:])


def _like(op, x, t):
    """``t`` as a Tensor of x's float dtype (unless it requires grad), warning when the shapes differ."""
    t = _tensor(t)
    if not t.requires_grad and t.dtype != x.dtype:
        t = Tensor(t.data.astype(x.dtype))
    if t.shape != x.shape:
        warnings.warn(f"{op}: target shape {t.shape} differs from input shape {x.shape}; they are "
                      f"broadcast together, which is rarely what you want", UserWarning, stacklevel=3)
    return t


def nll_loss(log_probs, t, reduction="mean"):
    """Negative log-likelihood: loss[n, d...] = -log_probs[n, t[n, d...], d...], as PyTorch's.

    log_probs: (C,), (N, C) or (N, C, d1, ...), classes on axis 1 (e.g.
    ``log_softmax(x, axis=1)``); t: integer class indices of shape (), (N,) or
    (N, d1, ...). reduction: "mean" (over all targets), "sum" or "none".

    >>> nll_loss(np.log([[0.5, 0.5], [0.1, 0.9]]), np.array([0, 1]), reduction="none").numpy().round(4)
    array([0.6931, 0.1054])
    """
    _check_reduction("nll_loss", reduction)
    x, t = _tensor(log_probs), _targets(t, "nll_loss")
    _check_class_targets("nll_loss", x, t.data)
    return _reduce(-x[_class_index(t.data, x.ndim)], reduction)


def cross_entropy(logits, t, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of softmax(logits) against ``t``, as PyTorch's ``F.cross_entropy``; stable.

    logits: (C,), (N, C) or (N, C, d1, ...), classes on **axis 1** (PyTorch's
    convention; ``softmax_cross_entropy`` keeps the book's classes-last).
    t: integer class indices of shape (), (N,) or (N, d1, ...), or class
    probabilities of logits' shape (float). With label smoothing e the target
    becomes (1 - e) * t + e / C, so for class indices
    loss = (1 - e) * nll - e * mean over classes of log_softmax(logits).
    reduction "mean" averages over the N * d1 * ... samples.

    >>> round(cross_entropy(np.array([[1e4, 0.0, 0.0]]), np.array([1])).item(), 4)
    10000.0
    >>> round(cross_entropy(np.array([[0.0, 0.0]]), np.array([0]), label_smoothing=0.2).item(), 4)
    0.6931
    """
    _check_reduction("cross_entropy", reduction)
    ok = isinstance(label_smoothing, (int, float, np.floating)) and 0.0 <= label_smoothing <= 1.0
    if not ok:
        raise ValueError(f"cross_entropy: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    x, t = _tensor(logits), _targets(t, "cross_entropy")
    if x.ndim == 0:
        raise ValueError("cross_entropy: needs logits of at least one dimension, got a 0-d tensor")
    axis = 0 if x.ndim == 1 else 1
    _check_classes("cross_entropy", x, axis, what="logits")
    log_p = LogSoftmax.apply(x, axis=axis)
    if t.dtype.kind == "f":  # class probabilities
        if t.shape != x.shape:
            raise ValueError(
                f"cross_entropy: probability targets must have the logits' shape {x.shape}, got {t.shape}; "
                f"for class indices pass an integer array")
        if not t.requires_grad and t.dtype != x.dtype:
            t = Tensor(t.data.astype(x.dtype))
        if label_smoothing:
            t = t * (1.0 - label_smoothing) + label_smoothing / x.shape[axis]
        return _reduce(-(log_p * t).sum(axis=axis), reduction)
    _check_class_targets("cross_entropy", x, t.data)
    losses = -log_p[_class_index(t.data, x.ndim)]
    if label_smoothing:
        losses = losses * (1.0 - label_smoothing) - log_p.mean(axis=axis) * label_smoothing
    return _reduce(losses, reduction)


def _log_at_least(x, low=-100.0):
    """max(log x, low) for a Tensor x, recorded (its gradient is 0 where the floor holds)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.log(x.data) > low).astype(x.dtype)
    return (x * keep + (1.0 - keep)).log() * keep + low * (1.0 - keep)


_BCE_EPS = float(np.float32(1e-12))  # PyTorch's bound, a float32 constant (9.99999996e-13)


class BinaryCrossEntropy(Function):
    """loss = -(t * max(log p, -100) + (1 - t) * max(log(1 - p), -100)), elementwise (PyTorch's).

    dp = (p - t) / max(p * (1 - p), 1e-12), PyTorch's formula (the exact
    derivative wherever p * (1 - p) >= 1e-12, bounded where p reaches 0 or 1);
    dt = max(log(1 - p), -100) - max(log p, -100), the derivative of the
    clamped formula (PyTorch's is unclamped: infinite at p = 0 or 1).
    Saves nothing: uses ctx.inputs.  Called by ``binary_cross_entropy``:

    >>> BinaryCrossEntropy.apply(Tensor([0.5, 0.0]), Tensor([1.0, 1.0])).numpy().round(4)
    array([  0.6931, 100.    ])
    """

    op_name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, p, t):
        if not np.all((p >= 0) & (p <= 1)):
            raise ValueError(
                f"binary_cross_entropy: every element of p must be a probability in [0, 1] "
                f"(e.g. the output of sigmoid), got values from {np.nanmin(p)} to {np.nanmax(p)}"
                f"{' and NaN' if np.isnan(p).any() else ''}")
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100.0)
            log_q = np.maximum(np.log(1 - p), -100.0)
        return -(t * log_p + (1 - t) * log_q)

    @staticmethod
    def backward(ctx, gy):
        p, t = ctx.inputs
        gp = gt = None
        if ctx.needs_input_grad[0]:
            pq = p * (1.0 - p)
            small = (pq.data < _BCE_EPS).astype(p.dtype)
            gp = gy * (p - t) / (pq * (1.0 - small) + _BCE_EPS * small)
        if ctx.needs_input_grad[1]:
            gt = gy * (_log_at_least(1.0 - p) - _log_at_least(p))
        return gp, gt


def binary_cross_entropy(p, t, reduction="mean"):
    """Binary cross-entropy of probabilities ``p`` against targets ``t`` in [0, 1], as PyTorch's.

    loss = -(t * log p + (1 - t) * log(1 - p)) with each log floored at -100
    (so p = 0 or 1 gives a finite loss, as PyTorch). p and t of one shape;
    p must lie in [0, 1] (pass scores through ``sigmoid`` first).
    reduction: "mean", "sum" or "none".

    >>> round(binary_cross_entropy(np.array([0.8, 0.3]), np.array([1.0, 0.0])).item(), 4)
    0.2899
    >>> binary_cross_entropy(np.array([0.0]), np.array([1.0]))
    Tensor(100.)
    """
    _check_reduction("binary_cross_entropy", reduction)
    p, t = _tensor(p), _tensor(t)
    if p.shape != t.shape:
        raise ValueError(f"binary_cross_entropy: target shape {t.shape} must equal the input shape {p.shape}")
    if not t.requires_grad and t.dtype != p.dtype:
        t = Tensor(t.data.astype(p.dtype))
    return _reduce(BinaryCrossEntropy.apply(p, t), reduction)


def l1_loss(x, t, reduction="mean"):
    """|x - t| elementwise, reduced; its gradient is sign(x - t) (0 where x == t), as PyTorch's.

    >>> l1_loss(np.array([1.0, -2.0]), np.array([0.0, 0.0]))
    Tensor(1.5)
    """
    _check_reduction("l1_loss", reduction)
    x = _tensor(x)
    d = x - _like("l1_loss", x, t)
    return _reduce(d * np.sign(d.data), reduction)  # |d|, with sign(d) a constant: d|d|/dd = sign(d)


def huber_loss(x, t, reduction="mean", delta=1.0):
    """Huber loss, as PyTorch's: with d = x - t, 0.5 * d**2 where |d| < delta, else delta * (|d| - delta / 2).

    Quadratic near 0, linear (gradient +-delta) far away, so one outlier
    cannot dominate the gradient. delta > 0.

    >>> huber_loss(np.array([0.5, 3.0]), np.array([0.0, 0.0]), reduction="none")
    Tensor([0.125, 2.5  ])
    """
    _check_reduction("huber_loss", reduction)
    ok = isinstance(delta, (int, float, np.floating)) and not isinstance(delta, bool) and delta > 0
    if not ok or not np.isfinite(delta):
        raise ValueError(f"huber_loss: delta must be a finite number > 0, got {delta!r}")
    x = _tensor(x)
    d = x - _like("huber_loss", x, t)
    inside = (np.abs(d.data) < delta).astype(d.dtype)  # constant masks: the branches never mix
    d_in = d * inside  # d where quadratic, 0 elsewhere (never squares a far-away d)
    outside = 1.0 - inside
    linear = (d * np.sign(d.data) - 0.5 * delta) * (delta * outside)
    return _reduce(d_in * d_in * 0.5 + linear, reduction)
