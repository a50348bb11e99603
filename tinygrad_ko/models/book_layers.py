"""The book's two layers whose semantics differ from PyTorch's, as small functions on the same ops.

``tk.nn`` and ``tk.functional`` follow PyTorch; the book's nets use these, so
that its trained weights and its figures come out the same:

- ``book_dropout``: the book's ``Dropout`` is **not inverted**. In training it
  keeps each unit with probability ``1 - ratio`` and does not rescale; at test
  time it multiplies by ``1 - ratio`` instead. (PyTorch's ``F.dropout``
  scales the kept units by ``1 / (1 - p)`` in training and is the identity at
  test time.) Same expected output, different numbers.
- ``book_batch_norm``: the book's ``BatchNormalization`` flattens a 4-D input
  to (N, C*H*W), so each pixel of each channel is its own feature (PyTorch's
  BatchNorm2d normalises per channel); its ``momentum=0.9`` keeps
  ``0.9 * running + 0.1 * batch`` (PyTorch's momentum 0.1 means the same);
  ``eps`` is ``10e-7`` (= 1e-6, PyTorch's default is 1e-5); and its running
  variance is the biased batch variance (PyTorch keeps the unbiased one).
"""

import numpy as np

from .. import functional as F
from ..tensor import Tensor

BOOK_BN_MOMENTUM = 0.9
BOOK_BN_EPS = 10e-7  # as the book writes it: 1e-6


def book_dropout(x, ratio, train_flg):
    """The book's Dropout: ``x * mask`` in training (mask = rand > ratio), ``x * (1 - ratio)`` at test.

    x: a Tensor of any shape. The mask is drawn with ``np.random.rand`` exactly
    as the book draws it, so ``np.random.seed`` gives the book's masks.
    """
    if train_flg:
        mask = np.random.rand(*x.shape) > ratio
        return x * Tensor(mask.astype(x.dtype))
    return x * (1.0 - ratio)


def book_batch_norm(x, gamma, beta, running_mean, running_var, train_flg,
                    momentum=BOOK_BN_MOMENTUM, eps=BOOK_BN_EPS):
    """The book's BatchNormalization: y = gamma * (x - mu) / sqrt(var + eps) + beta over (N, D).

    x: (N, D) or (N, C, H, W), flattened to (N, C*H*W) first; gamma, beta:
    (D,) Tensors; running_mean, running_var: (D,) ndarrays updated in place in
    training (``momentum * running + (1 - momentum) * batch``, biased variance).
    In training, mu and var are the batch's (biased var); at test time the
    running ones. The normalisation itself is ``F.batch_norm`` (same formula).
    """
    shape = x.shape
    rows = x.reshape(shape[0], -1)
    if train_flg:
        y = F.batch_norm(rows, gamma, beta, training=True, eps=eps)
        batch = rows.data
        running_mean *= momentum
        running_mean += (1.0 - momentum) * batch.mean(axis=0)
        running_var *= momentum
        running_var += (1.0 - momentum) * batch.var(axis=0)
    else:
        y = F.batch_norm(rows, gamma, beta, running_mean, running_var, training=False, eps=eps)
    return y.reshape(shape)
