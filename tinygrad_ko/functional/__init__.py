"""Differentiable functions: activations, losses, convolution, pooling, normalisation (the book's layers).

Every function accepts ndarrays as well as Tensors (as the book's do) and
returns a Tensor; ``np.asarray(result)`` gives the array. Softmax, log-softmax
and the fused softmax-cross-entropy are primitives because their composites
overflow: they subtract the row maximum first, so logits of 1e4 are fine.

>>> import numpy as np
>>> import tinygrad_ko.functional as F
>>> F.softmax(np.array([0.3, 2.9, 4.0]))
Tensor([0.01821127, 0.24519181, 0.73659691])
"""

from .activations import (LogSoftmax, Softmax, elu, exp, gelu, leaky_relu, linear, log, log_softmax, relu,
                          sigmoid, softmax, softplus, sqrt, tanh)
from .conv import avg_pool2d, col2im, conv2d, flatten, im2col, max_pool2d, pad
from .losses import (BinaryCrossEntropy, SoftmaxCrossEntropy, binary_cross_entropy, cross_entropy,
                     cross_entropy_error, huber_loss, l1_loss, mean_squared_error, nll_loss,
                     softmax_cross_entropy, sum_squared_error)
from .normalization import batch_norm, dropout
from .tensor_ops import (abs, argmin, broadcast_to, clip, clone, concatenate, copy, cos, cumsum, expand_dims,
                         expm1, log1p, logsumexp, maximum, min, minimum, permute, prod, reciprocal, repeat, sign,
                         sin, split, square, squeeze, stack, std, sum_to, swapaxes, tile, unsqueeze, var, where)

# F.abs and F.min exist, but `from tinygrad_ko.functional import *` must not hide Python's abs and min.
__all__ = [
    "LogSoftmax", "Softmax", "elu", "exp", "gelu", "leaky_relu", "linear", "log", "log_softmax", "relu",
    "sigmoid", "softmax", "softplus", "sqrt", "tanh", "avg_pool2d", "col2im", "conv2d", "flatten",
    "im2col", "max_pool2d", "pad", "BinaryCrossEntropy", "SoftmaxCrossEntropy", "binary_cross_entropy",
    "cross_entropy", "cross_entropy_error", "huber_loss", "l1_loss", "mean_squared_error", "nll_loss",
    "softmax_cross_entropy", "sum_squared_error", "batch_norm", "dropout", "argmin", "broadcast_to",
    "clip", "clone", "concatenate", "copy", "cos", "cumsum", "expand_dims", "expm1", "log1p",
    "logsumexp", "maximum", "minimum", "permute", "prod", "reciprocal", "repeat", "sign", "sin",
    "split", "square", "squeeze", "stack", "std", "sum_to", "swapaxes", "tile", "unsqueeze", "var",
    "where",
]
