"""Losses, as in the book's ``common/functions.py``, and a fused softmax-cross-entropy."""

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from ._common import _targets, _tensor
from .activations import LogSoftmax, Softmax, _shifted


def _check_targets(op, y, t):
    """Raise a clear error unless ``t`` is labels (shape y.shape[:-1]) or one-hot (y's shape)."""
    if y.ndim == 0:
        raise ValueError(f"{op}: needs scores of at least one dimension (classes last), got a 0-d tensor")
    classes = y.shape[-1]
    if t.dtype.kind in "iu":
        if t.shape != y.shape[:-1]:
            raise ValueError(
                f"{op}: integer labels must have shape {y.shape[:-1]} (one per row of {y.shape}), "
                f"got {t.shape}; for one-hot targets pass a float array of shape {y.shape}")
        if t.size and (t.max() >= classes or (t.dtype.kind == "i" and t.min() < 0)):
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
        _check_targets("softmax_cross_entropy", x, t)
        classes = x.shape[-1]
        rows = x.reshape(-1, classes)  # one row per sample, whatever the leading axes
        z = _shifted(rows, 1, "softmax_cross_entropy")
        probs = np.exp(z)
        sum_exp = np.dot(probs, np.ones((classes, 1), probs.dtype))  # row sums; BLAS is 3x faster here
        log_sum_exp = np.log(sum_exp)
        probs /= sum_exp
        ctx.probs = probs.reshape(x.shape)
        ctx.rows = rows.shape[0]
        ctx.is_labels = t.dtype.kind in "iu"
        if ctx.is_labels:  # -log p of each true class: log(sum(exp(z))) - z[t]
            losses = log_sum_exp.reshape(-1) - z[np.arange(ctx.rows), t.reshape(-1)]
        else:  # where t is 0 and log p is -inf, the term is 0, not 0 * -inf (a NaN still counts)
            t_rows, log_p = t.reshape(-1, classes), z - log_sum_exp
            counted = ~((t_rows == 0) & np.isinf(log_p))
            losses = -np.multiply(t_rows, log_p, out=np.zeros(z.shape), where=counted)
        # The mean as a sum of losses / N, in float64: when every row's loss fits, so does their
        # mean, though their plain sum may overflow. The mean of no rows is NaN, as np.mean's.
        mean = (losses / ctx.rows).sum(dtype=np.float64) if ctx.rows else np.nan
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
            gx.reshape(ctx.rows, x.shape[-1])[np.arange(ctx.rows), t.data.reshape(-1)] -= 1
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
    logits, t = _tensor(logits), _targets(t)
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
    y, t = _tensor(y), _targets(t).data
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
    t = _targets(t)
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
