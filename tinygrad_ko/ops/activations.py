"""Activations beyond the book's: leaky ReLU, ELU, GELU (and erf, which it needs) and softplus.

Their formulas and conventions at the kinks follow ``torch.nn.functional``.
"""

import math

import numpy as np

from ..autograd import Function
from .elementwise import Exp, Sigmoid, Tanh, as_float
from .selection import Clip


class LeakyReLU(Function):
    """y = x where x > 0, else negative_slope * x.

    dy/dx = 1 where x > 0, else negative_slope (also at x == 0, as PyTorch).
    Saves that slope array.
    """

    op_name = "leaky_relu"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, negative_slope):
        x = as_float(x)
        ctx.slope = np.where(x > 0, 1.0, negative_slope).astype(x.dtype, copy=False)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.slope  # a constant: the second derivative is 0


class ELU(Function):
    """y = x where x > 0, else alpha * (exp(x) - 1).

    dy/dx = 1 where x > 0, else alpha * exp(x) (alpha at x == 0, as PyTorch).
    Uses the input, not y + alpha, which loses digits far below 0. Saves the mask x > 0.
    """

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x, alpha):
        x = as_float(x)
        ctx.alpha = alpha
        ctx.positive = x > 0
        negative_part = np.expm1(np.minimum(x, 0)) * x.dtype.type(alpha)  # no overflow for large x
        return np.where(ctx.positive, x, negative_part)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        positive = ctx.positive
        below = np.where(positive, 0.0, ctx.alpha).astype(gy.dtype, copy=False)
        # exp of min(x, 0): exp(800) would overflow, and 0 * inf is NaN
        slope = Exp.apply(Clip.apply(x, lo=None, hi=0.0)) * below + positive
        return gy * slope


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)
_TANH_CUBIC = 0.044715
_erf_each = np.frompyfunc(math.erf, 1, 1)


def erf_array(x):
    """erf of each element (NumPy has no erf; math.erf is exact to float64, one element at a time)."""
    return np.asarray(_erf_each(x), dtype=np.float64).astype(x.dtype, copy=False)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t**2) dt.

    dy/dx = 2/sqrt(pi) * exp(-x**2).  Uses the input.
    """

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return erf_array(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        return gy * (Exp.apply(-(x * x)) * (2.0 / math.sqrt(math.pi)))


class GELU(Function):
    """y = x * Phi(x), Phi the standard normal CDF, as ``torch.nn.functional.gelu``.

    approximate="none": Phi(x) = (1 + erf(x / sqrt(2))) / 2, and
    dy/dx = Phi(x) + x * phi(x) with phi(x) = exp(-x**2 / 2) / sqrt(2 pi).
    approximate="tanh": y = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x**3),
    dy/dx = (1 + t) / 2 + x (1 - t**2) sqrt(2/pi) (1 + 3 * 0.044715 x**2) / 2, t = tanh(u).
    Uses the input.
    """

    op_name = "gelu"
    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x, approximate):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be \"none\" or \"tanh\", got {approximate!r}")
        x = as_float(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            u = (x + _TANH_CUBIC * x ** 3) * _TANH_SCALE
            return 0.5 * x * (1.0 + np.tanh(u))
        return 0.5 * x * (1.0 + erf_array(x * _SQRT_HALF))

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        if ctx.approximate == "tanh":
            x2 = x * x
            t = Tanh.apply((x + x2 * x * _TANH_CUBIC) * _TANH_SCALE)
            du = (x2 * (3.0 * _TANH_CUBIC) + 1.0) * _TANH_SCALE
            return gy * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * du * 0.5)
        cdf = (Erf.apply(x * _SQRT_HALF) + 1.0) * 0.5
        pdf = Exp.apply(x * x * -0.5) * _INV_SQRT_2PI
        return gy * (cdf + x * pdf)


class Softplus(Function):
    """y = log(1 + exp(beta x)) / beta, and y = x where beta x > threshold, as PyTorch.

    dy/dx = sigmoid(beta x), and 1 where beta x > threshold. log1p and the
    threshold keep it finite: no overflow for large x, no cancellation below 0.
    Uses the input; saves the mask of the linear part.
    """

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x, beta, threshold):
        x = as_float(x)
        z = x * x.dtype.type(beta)
        ctx.beta = beta
        ctx.linear = z > threshold
        smooth = np.log1p(np.exp(np.minimum(z, threshold))) / x.dtype.type(beta)
        return np.where(ctx.linear, x, smooth)

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        linear = ctx.linear
        smooth = (~linear).astype(gy.dtype)
        return gy * (Sigmoid.apply(x * ctx.beta) * smooth + linear)
