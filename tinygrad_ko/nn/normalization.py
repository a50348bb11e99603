"""BatchNorm1d, BatchNorm2d and Dropout, as PyTorch's (names, defaults, state dict, train/eval)."""

import numpy as np

from .. import functional as F
from .._checks import positive_int, positive_number
from ..autograd import mark_changed
from ..ops import check_dropout_probability
from ..tensor import Tensor
from .module import Module


def _check_momentum(momentum, where):
    """momentum: a number in [0, 1] (the weight of each new batch in the running statistics), or None."""
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.integer, np.floating)) \
            or not 0 <= momentum <= 1:
        raise ValueError(f"{where}: momentum must be a number in [0, 1] (the weight of each new batch in the "
                         f"running statistics; PyTorch's default is 0.1) or None (a plain average), "
                         f"got {momentum!r}")


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input shapes they accept."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=np.float64, *, bias=True):
        super().__init__()
        where = type(self).__name__
        num_features = positive_int(num_features, "num_features", where)
        eps = positive_number(eps, "eps", where, usual=1e-5)
        if momentum is not None:
            _check_momentum(momentum, where)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Tensor(np.ones(num_features, dtype), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_features, dtype), requires_grad=True) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        self._check_input(x)
        tracking = self.training and self.track_running_stats
        momentum = self.momentum
        if tracking and momentum is None:  # PyTorch's cumulative average: batch k weighs 1/k
            momentum = 1.0 / (int(self.num_batches_tracked.data) + 1)
        elif momentum is None:
            momentum = 0.0  # nothing is tracked, so no running statistic is updated with it
        # PyTorch's rules: batch statistics in training or when none are tracked; update only when tracking
        running = (self.running_mean, self.running_var)
        if self.training and not self.track_running_stats:
            running = (None, None)
        y = F.batch_norm(x, self.weight, self.bias, *running, training=self.training or running[0] is None,
                         momentum=momentum, eps=self.eps)
        if tracking:  # after batch_norm: a refused input changes nothing
            self.num_batches_tracked.data += 1
            mark_changed(self.num_batches_tracked, f"{type(self).__name__}'s training forward")
        return y

    def _check_input(self, x):
        raise NotImplementedError

    def __repr__(self):
        return (f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats})")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) channels (``F.batch_norm`` per feature).

    weight (ones) and bias (zeros) of shape (C,) are parameters; the buffers
    running_mean (zeros), running_var (ones) and num_batches_tracked (an int64
    count) are in ``state_dict()`` but not in ``parameters()``. In training mode
    (``.train()``, the default) a forward pass normalises with the batch's
    statistics and updates the running ones; in ``.eval()`` mode it uses the
    running ones. momentum=None averages all batches so far equally.

    >>> bn = BatchNorm1d(2)
    >>> bn(np.array([[1.0, 10.0], [3.0, 30.0]])).numpy().round(4)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> bn.running_mean, bn.num_batches_tracked
    (Tensor([0.2, 2. ]), Tensor(1))
    >>> bn
    BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    def _check_input(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D or 3D input, (N, C) or (N, C, L), got {x.ndim}D "
                             f"input of shape {x.shape}; use BatchNorm2d for (N, C, H, W)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel; as BatchNorm1d otherwise.

    >>> bn = BatchNorm2d(3).eval()  # evaluation: running statistics, mean 0 and variance 1 at first
    >>> x = np.arange(24.0).reshape(2, 3, 2, 2)
    >>> np.allclose(bn(x).numpy(), x / np.sqrt(1 + 1e-5))
    True
    """

    def _check_input(self, x):
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected 4D input (N, C, H, W), got {x.ndim}D input of shape "
                             f"{x.shape}; use BatchNorm1d for (N, C) or (N, C, L)")


class Dropout(Module):
    """Inverted dropout (``F.dropout``) in training mode; the identity in ``.eval()`` mode.

    >>> np.random.seed(0)
    >>> drop = Dropout(p=0.5)
    >>> drop(np.ones(4)), drop.eval()(np.ones(4))
    (Tensor([2., 2., 2., 2.]), Tensor([1., 1., 1., 1.]))
    >>> drop
    Dropout(p=0.5, inplace=False)
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_dropout_probability(p, "Dropout")
        if inplace:
            raise ValueError("Dropout: inplace=True is not supported (tinygrad_ko never changes an input in "
                             "place); use inplace=False")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def __repr__(self):
        return f"Dropout(p={self.p}, inplace={self.inplace})"
