"""Batch normalisation and dropout, with PyTorch's semantics (``torch.nn.functional``)."""

import numbers

import numpy as np

from .. import ops
from ..autograd import mark_changed
from ..tensor import Tensor
from ._common import _tensor


def batch_norm(x, gamma, beta, running_mean=None, running_var=None, training=True, momentum=0.1, eps=1e-5):
    """Normalise each feature (N, D) or channel (N, C, L), (N, C, H, W) to mean 0 and variance 1,
    then scale by gamma and shift by beta, as ``torch.nn.functional.batch_norm``.

    training=True: normalise with the batch's mean and biased variance, and
    update running_mean and running_var in place, if given
    (``running = (1 - momentum) * running + momentum * batch``, with the
    unbiased batch variance for running_var). training=False: normalise with
    running_mean and running_var (required). gamma, beta: (C,) or None (no
    scale, no shift). running_mean, running_var: (C,) ndarrays or Tensors;
    they are state, not differentiated. Returns a Tensor of x's shape.

    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> running_mean, running_var = np.zeros(2), np.ones(2)
    >>> batch_norm(x, None, None, running_mean, running_var, eps=0.0)
    Tensor([[-1., -1.],
            [ 1.,  1.]])
    >>> running_mean, running_var  # 0.9 * old + 0.1 * batch (mean 2 and 20; variance 2 and 200)
    (array([0.2, 2. ]), array([ 1.1, 20.9]))
    """
    x = _tensor(x)
    channels = x.shape[1] if x.ndim >= 2 else 0
    if gamma is None:
        gamma = Tensor(np.ones(channels, x.dtype))
    if beta is None:
        beta = Tensor(np.zeros(channels, x.dtype))
    if not isinstance(momentum, numbers.Real) or not isinstance(eps, numbers.Real):
        raise TypeError(f"batch_norm: momentum and eps must be numbers, got {momentum!r} and {eps!r}")
    if not (np.isfinite(eps) and eps >= 0):  # a negative eps makes sqrt(var + eps) NaN for a constant feature
        raise ValueError(f"batch_norm: eps must be a finite number >= 0 (added to the variance under the "
                         f"square root; PyTorch's default is 1e-5), got {eps!r}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"batch_norm: momentum must be a number in [0, 1] (the weight of each new batch in "
                         f"the running statistics; PyTorch's default is 0.1), got {momentum!r}")
    out = ops.BatchNorm.apply(x, _tensor(gamma), _tensor(beta),
                              running_mean=_state(running_mean, "running_mean"),
                              running_var=_state(running_var, "running_var"),
                              training=bool(training), momentum=float(momentum), eps=float(eps))
    if training and x.size:
        for running in (running_mean, running_var):
            if isinstance(running, Tensor):
                mark_changed(running, "batch_norm's running-statistics update")
    return out


def _state(running, what):
    """The array behind a running statistic (updated in place, so it must be an ndarray or a Tensor)."""
    if running is None or isinstance(running, np.ndarray):
        return running
    if isinstance(running, Tensor):
        return running.data
    raise TypeError(f"batch_norm: {what} must be an ndarray, a Tensor or None (it is updated in place), "
                    f"got {type(running).__name__}")


def dropout(x, p=0.5, training=True):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1 - p).

    The mask is drawn from ``np.random``, so ``np.random.seed`` makes it
    repeatable. With training=False (or p=0) x is returned as it is, as a
    Tensor (the same Tensor if x is one), as ``torch.nn.functional.dropout``.

    >>> np.random.seed(0)
    >>> dropout(np.ones(8), p=0.5)
    Tensor([2., 2., 2., 2., 0., 2., 0., 2.])
    >>> dropout(np.ones(3), p=0.5, training=False)
    Tensor([1., 1., 1.])
    """
    ops.check_dropout_probability(p)
    x = _tensor(x)
    if not training or p == 0:
        return x
    return ops.Dropout.apply(x, p=float(p))
