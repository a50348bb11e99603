"""Elementwise operations: arithmetic with NumPy broadcasting, and functions of one input."""

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor
from .selection import Where, one_like, zero_like


# --- elementwise, two inputs (NumPy broadcasting) ---


class Add(Function):
    """z = x + y.  dz/dx = dz/dy = 1.  Saves nothing."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, gz):
        return gz, gz


class Sub(Function):
    """z = x - y.  dz/dx = 1, dz/dy = -1.  Saves nothing."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, gz):
        return gz, (-gz if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = x * y.  dz/dx = y, dz/dy = x.  Saves nothing: uses ctx.inputs."""

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, gz):
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        if is_grad_enabled():  # create_graph: record gz * y and gz * x (Mul.apply: no operator dispatch)
            return (Mul.apply(gz, y) if need_x else None), (Mul.apply(gz, x) if need_y else None)
        # The commonest backward of all, in a plain pass: the same products, not recorded.
        g = gz.data
        return (as_tensor(g * y.data) if need_x else None), (as_tensor(g * x.data) if need_y else None)


class Div(Function):
    """z = x / y.  dz/dx = 1/y, dz/dy = -x/y**2 = -z/y.  Uses the inputs and the output."""

    uses_inputs = (1,)
    uses_output = True

    @staticmethod
    def forward(ctx, x, y):
        return x / y

    @staticmethod
    def backward(ctx, gz):
        x, y = ctx.inputs
        gx = gz / y
        gy = -(gx * ctx.output) if ctx.needs_input_grad[1] else None
        return gx, gy


def as_tensor(result):
    """A NumPy result as a Tensor (0-d arithmetic gives NumPy scalars: made 0-d arrays, as apply does)."""
    return Tensor(result if type(result) is np.ndarray else np.asarray(result))


# --- elementwise, one input ---


def as_float(x):
    """x as floats: float64 for integers (NumPy would give float16 for tanh of uint8 pixels)."""
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


class Neg(Function):
    """y = -x.  dy/dx = -1.  Saves nothing."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, gy):
        return -gy


class Pow(Function):
    """y = x ** c for a constant real c.  dy/dx = c * x ** (c - 1).  Saves c."""

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.exponent = exponent
        if x.dtype.kind == "f":
            # float32 ** 3 stays float32, as in NumPy 2 (NumPy 1.x gives float64 for a 0-d x); the
            # operator, not np.power, so that ** 2 is an exact square on every NumPy
            return x ** x.dtype.type(exponent)
        return x ** exponent

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.inputs
        c = ctx.exponent
        if c == 0:
            return gy * 0.0  # x ** 0 is constant; c * x ** -1 would give 0 * inf at x = 0
        return gy * (x ** (c - 1) * c)


class Exp(Function):
    """y = exp(x).  dy/dx = y.  Uses the output, so nothing is recomputed."""

    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x):
        return np.exp(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.output


class Log(Function):
    """y = log(x) (natural).  dy/dx = 1/x.  Uses the input."""

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.log(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return gy / ctx.inputs[0]


class Sqrt(Function):
    """y = sqrt(x).  dy/dx = 1 / (2 y), infinite at x = 0.  Uses the output."""

    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x):
        return np.sqrt(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return gy / (ctx.output * 2.0)


class ReLU(Function):
    """y = max(x, 0).  dy/dx = 1 where x > 0, else 0 (also at x == 0, as PyTorch and the book).

    Saves the mask x > 0. NaN stays NaN in forward, as ``torch.relu``.
    """

    op_name = "relu"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x):
        if ctx.needs_input_grad:  # recorded: backward will need the mask
            ctx.mask = x > 0
        if x.dtype.kind != "f":
            return np.maximum(x, 0)
        # Against an array of zeros (in x's memory order), not the scalar 0: NumPy 2.4's fast loop
        # for maximum takes two arrays; with a scalar, a (32, 16, 28, 28) float32 x took 123 us
        # instead of 61, zeros included (AMD EPYC). The same maxima, NaN kept.
        y = np.zeros_like(x)
        return np.maximum(x, y, out=y)

    @staticmethod
    def backward(ctx, gy):
        if is_grad_enabled():  # create_graph: record gy * mask
            return gy * ctx.mask  # the mask is a constant: its own derivative is zero
        return Tensor(gy.data * ctx.mask)  # the same product, without recording it


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)).  dy/dx = y (1 - y).  Uses the output.

    A primitive, not a composite of Tensor ops: the composite gives a NaN
    gradient at x = -1000 (-0 * -inf in the backward of 1 / (1 + exp(-x))).
    As one op, exp(-x) may overflow to inf (silently), 1 / inf is exactly 0,
    and the gradient y (1 - y) is 0: finite everywhere, accurate in relative
    terms for large |x| on both sides.
    """

    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x):
        x = as_float(x)  # np.negative would also wrap around in uint8
        y = np.negative(x, out=np.empty(x.shape, x.dtype))
        with np.errstate(over="ignore"):  # exp(-x) = inf for x < -709 gives 1 / inf = 0, as it should
            np.exp(y, out=y)
        y += 1.0
        # Four passes over one buffer. 1 / y by division: the same correctly rounded quotients as
        # np.reciprocal, which NumPy 2.4 runs without SIMD (100x100 float64: 3.2 against 5.5 us).
        return np.divide(1.0, y, out=y)

    @staticmethod
    def backward(ctx, gy):
        if is_grad_enabled():  # create_graph: record it as an op, so that it can be differentiated
            return SigmoidGrad.apply(gy, ctx.output)
        return Tensor(sigmoid_grad(gy.data, ctx.output.data))  # the same arithmetic, not recorded


def sigmoid_grad(gy, y):
    """gy * y * (1 - y) on arrays, in three passes over one new array."""
    gx = np.subtract(1.0, y)
    gx *= y
    gx *= gy
    return gx


class SigmoidGrad(Function):
    """gx = gy * y * (1 - y), Sigmoid's backward as one op (as PyTorch's sigmoid_backward).

    One pass-fused op instead of three Tensor ops: a training step runs it every
    time. Its own backward is written in Tensor ops, so second derivatives work:
    d/dgy = y (1 - y), d/dy = gy (1 - 2 y).  Uses the inputs.
    """

    op_name = "sigmoid_backward"

    @staticmethod
    def forward(ctx, gy, y):
        return sigmoid_grad(gy, y)

    @staticmethod
    def backward(ctx, ggx):
        gy, y = ctx.inputs
        need_gy, need_y = ctx.needs_input_grad
        g_gy = ggx * (y * (1.0 - y)) if need_gy else None
        g_y = ggx * gy * (1.0 - 2.0 * y) if need_y else None
        return g_gy, g_y


class Tanh(Function):
    """y = tanh(x).  dy/dx = 1 - y**2.  Uses the output."""

    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x):
        return np.tanh(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        y = ctx.output
        return gy * (1.0 - y * y)


class Positive(Function):
    """y = +x, a new array (as NumPy's +x).  dy/dx = 1.  Saves nothing."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x):
        return np.positive(x)

    @staticmethod
    def backward(ctx, gy):
        return gy


class Abs(Function):
    """y = |x|.  dy/dx = sign(x), which is 0 at x == 0 (as PyTorch).  Saves sign(x)."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x):
        ctx.sign = np.sign(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.sign


class Sign(Function):
    """y = sign(x) (-1, 0 or 1).  dy/dx = 0: a step function, as PyTorch's zero gradient.  Saves nothing."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)

    @staticmethod
    def backward(ctx, gy):
        return Tensor(np.zeros(gy.shape, gy.dtype))


class Square(Function):
    """y = x * x.  dy/dx = 2 x.  Uses the input."""

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.square(x)

    @staticmethod
    def backward(ctx, gy):
        return gy * (ctx.inputs[0] * 2.0)


class Reciprocal(Function):
    """y = 1 / x.  dy/dx = -1 / x**2 = -y**2.  Uses the output."""

    uses_inputs = ()
    uses_output = True

    @staticmethod
    def forward(ctx, x):
        return np.reciprocal(as_float(x))  # np.reciprocal of the integer 2 is 0

    @staticmethod
    def backward(ctx, gy):
        y = ctx.output
        return -(gy * (y * y))


class Sin(Function):
    """y = sin(x).  dy/dx = cos(x).  Uses the input."""

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.sin(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return gy * Cos.apply(ctx.inputs[0])


class Cos(Function):
    """y = cos(x).  dy/dx = -sin(x).  Uses the input."""

    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.cos(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return -(gy * Sin.apply(ctx.inputs[0]))


class Log1p(Function):
    """y = log(1 + x), accurate for small x.  dy/dx = 1 / (1 + x).  Uses the input."""

    op_name = "log1p"
    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.log1p(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return gy / (ctx.inputs[0] + 1.0)


class Expm1(Function):
    """y = exp(x) - 1, accurate for small x.  dy/dx = exp(x).  Uses the input.

    Not y + 1 from the output: for x = -30 that sum keeps only 3 digits.
    """

    op_name = "expm1"
    uses_inputs = (0,)

    @staticmethod
    def forward(ctx, x):
        return np.expm1(as_float(x))

    @staticmethod
    def backward(ctx, gy):
        return gy * Exp.apply(ctx.inputs[0])


class PowTensor(Function):
    """z = x ** y with a tensor exponent (broadcasting), as ``np.power``.

    dz/dx = y * x ** (y - 1), taken as 0 where y == 0 (x ** 0 is constant);
    dz/dy = z * log(x), taken as 0 where x == 0 and y >= 0 (z stays 0 or 1
    there), as PyTorch. Negative x gives NaN for a fractional y, as NumPy.
    Uses the inputs and the output.
    """

    op_name = "pow"
    uses_output = True

    @staticmethod
    def forward(ctx, x, y):
        return np.power(x, y)

    @staticmethod
    def backward(ctx, gz):
        x, y = ctx.inputs
        need_x, need_y = ctx.needs_input_grad
        gx = gy_ = None
        if need_x:
            constant = y.data == 0
            if constant.any():  # x ** (0 - 1) would divide by zero at x = 0: use exponent 1 - 1 there
                safe_y = Where.apply(one_like(y), y, cond=constant)
                gx = gz * (y * PowTensor.apply(x, safe_y - 1.0))
                gx = Where.apply(zero_like(gx), gx, cond=constant)
            else:
                gx = gz * (y * PowTensor.apply(x, y - 1.0))
        if need_y:
            at_zero = (x.data == 0) & (y.data >= 0)
            safe_x = Where.apply(one_like(x), x, cond=at_zero) if at_zero.any() else x  # log(1) = 0 there
            gy_ = gz * (ctx.output * Log.apply(safe_x))
        return gx, gy_

