"""Activations, softmax and the Affine layer, as in the book's ``common/functions.py``, and
PyTorch's leaky_relu, elu, gelu and softplus.

Softmax and log-softmax are primitives because their composites overflow: they
subtract the row maximum first, so logits of 1e4 are fine.
"""

import math

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor  # noqa: F401 (the doctests of this module use it)
from ._common import _tensor


def relu(x):
    """max(x, 0), elementwise; its gradient at 0 is 0 (as PyTorch and the book).

    >>> relu(np.array([-1.0, 0.0, 2.0]))
    Tensor([0., 0., 2.])
    """
    return ops.ReLU.apply(_tensor(x))


def sigmoid(x):
    """1 / (1 + exp(-x)), elementwise, finite with a finite gradient for any finite x.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    Tensor([0. , 0.5, 1. ])
    """
    return ops.Sigmoid.apply(_tensor(x))


def tanh(x):
    """tanh(x), elementwise.

    >>> tanh(np.array([0.0, 1.0])).numpy().round(4)
    array([0.    , 0.7616])
    """
    return ops.Tanh.apply(_tensor(x))


def exp(x):
    """exp(x), elementwise.

    >>> exp(np.array([0.0, 1.0])).numpy().round(4)
    array([1.    , 2.7183])
    """
    return ops.Exp.apply(_tensor(x))


def log(x):
    """Natural log, elementwise.

    >>> log(np.array([1.0, np.e]))
    Tensor([0., 1.])
    """
    return ops.Log.apply(_tensor(x))


def sqrt(x):
    """Square root, elementwise; its gradient 1 / (2 sqrt(x)) is infinite at 0.

    >>> sqrt(np.array([4.0, 9.0]))
    Tensor([2., 3.])
    """
    return ops.Sqrt.apply(_tensor(x))


def linear(x, W, b=None):
    """x @ W + b, the book's Affine layer.  x: (N, in) or (..., in), W: (in, out), b: (out,).

    >>> linear(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)).shape
    (2, 4)
    """
    x, W = _tensor(x), _tensor(W)
    if b is None:
        return x @ W
    return ops.Linear.apply(x, W, _tensor(b))


# How far below the largest score exp() may go and still give a normal number (e**-60 is about
# 1e-26 in float32, e**-600 about 1e-261 in float64).
_EXP_SAFE_RANGE = {np.dtype(np.float32): 60.0, np.dtype(np.float64): 600.0}


def _shifted(x, axis, op):
    """x minus what softmax subtracts before exp, so that exp never overflows; as floats.

    That is each slice's maximum along ``axis``. When all of x lies within a
    safe range below its overall maximum, that one number does the same job
    (the largest term of every slice stays a normal number) and NumPy finds it
    several times faster than the maxima of many short rows (100 rows of 10
    scores: about 1.7 us against 5 us). Refuses 0-d input (it has no classes).
    """
    if x.ndim == 0:
        raise ValueError(f"{op}: needs at least one dimension (the classes), got a 0-d tensor")
    x = ops.as_float(x)
    limit = _EXP_SAFE_RANGE.get(x.dtype)
    if limit is not None and x.size:
        largest = float(x.max())  # Python floats: no NumPy warning can come from this test
        if math.isfinite(largest) and float(x.min()) >= largest - limit:  # NaN fails too
            return x - largest
    with np.errstate(over="ignore"):  # -1e308 - 1e308 = -inf, whose exp is the right 0
        return x - x.max(axis=axis, keepdims=True, initial=-np.inf)


def _checked_axis(x, axis, op):
    """``axis`` as NumPy takes it (an int in range, or a tuple of them), or an error naming the op and x's shape."""
    if x.ndim == 0:  # _shifted says what is wrong
        return axis
    return ops.normalize_axes(axis, x.ndim, op, x.shape)


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``axis``.

    dx = y * (gy - sum(gy * y, axis)).  Uses the output.  Called by ``softmax``:

    >>> Softmax.apply(Tensor([0.0, 0.0]), axis=-1)
    Tensor([0.5, 0.5])
    """

    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x, axis):
        if type(axis) is not int or not -x.ndim <= axis < x.ndim:
            axis = _checked_axis(x, axis, "softmax")
        ctx.axis = axis
        e = np.exp(_shifted(x, axis, "softmax"))
        e /= e.sum(axis=axis, keepdims=True)
        return e

    @staticmethod
    def backward(ctx, gy):
        y = ctx.output
        return y * (gy - (gy * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis`` (log-sum-exp with the maximum subtracted).

    dx = gy - exp(y) * sum(gy, axis).  Uses the output.  Called by ``log_softmax``:

    >>> LogSoftmax.apply(Tensor([1e4, 1e4]), axis=-1).numpy().round(4)
    array([-0.6931, -0.6931])
    """

    op_name = "log_softmax"
    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x, axis):
        if type(axis) is not int or not -x.ndim <= axis < x.ndim:
            axis = _checked_axis(x, axis, "log_softmax")
        ctx.axis = axis
        z = _shifted(x, axis, "log_softmax")
        return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(ctx, gy):
        y = ctx.output
        return gy - y.exp() * gy.sum(axis=ctx.axis, keepdims=True)


def softmax(x, axis=-1):
    """Softmax along ``axis``; never overflows (the row maximum is subtracted first).

    x: any shape; the result has x's shape and sums to 1 along ``axis``.

    >>> softmax(np.array([[1e4, 1e4], [0.0, np.log(3.0)]]))
    Tensor([[0.5 , 0.5 ],
            [0.25, 0.75]])
    """
    return Softmax.apply(_tensor(x), axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, computed stably as x - logsumexp(x).

    >>> log_softmax(np.array([0.0, 1e4]))
    Tensor([-10000.,      0.])
    """
    return LogSoftmax.apply(_tensor(x), axis=axis)


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x (the slope also at 0, as PyTorch).

    >>> leaky_relu(np.array([-2.0, 0.0, 3.0]))
    Tensor([-0.02,  0.  ,  3.  ])
    """
    return ops.LeakyReLU.apply(_tensor(x), negative_slope=negative_slope)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1); its gradient at 0 is alpha, as PyTorch.

    >>> elu(np.array([-1.0, 2.0])).numpy().round(4)
    array([-0.6321,  2.    ])
    """
    return ops.ELU.apply(_tensor(x), alpha=alpha)


def gelu(x, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF (``approximate="tanh"``: the tanh formula), as PyTorch.

    >>> gelu(np.array([-1.0, 0.0, 1.0])).numpy().round(4)
    array([-0.1587,  0.    ,  0.8413])
    """
    return ops.GELU.apply(_tensor(x), approximate=approximate)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as PyTorch; never overflows.

    >>> softplus(np.array([-1000.0, 0.0, 1000.0])).numpy().tolist()
    [0.0, 0.6931471805599453, 1000.0]
    """
    return ops.Softplus.apply(_tensor(x), beta=beta, threshold=threshold)
