"""Elementwise operations: arithmetic with NumPy broadcasting, and functions of one input."""

import numpy as np

from ..autograd import Function


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
        # Mul.apply is gz * y without the operator's dispatch: the commonest backward, kept lean.
        return (Mul.apply(gz, y) if need_x else None), (Mul.apply(gz, x) if need_y else None)


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
        ctx.mask = x > 0
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.mask  # the mask is a constant: its own derivative is zero


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
        return np.reciprocal(y, out=y)  # four passes over one buffer, as fast as the book's version

    @staticmethod
    def backward(ctx, gy):
        return SigmoidGrad.apply(gy, ctx.output)


class SigmoidGrad(Function):
    """gx = gy * y * (1 - y), Sigmoid's backward as one op (as PyTorch's sigmoid_backward).

    One pass-fused op instead of three Tensor ops: a training step runs it every
    time. Its own backward is written in Tensor ops, so second derivatives work:
    d/dgy = y (1 - y), d/dy = gy (1 - 2 y).  Uses the inputs.
    """

    op_name = "sigmoid_backward"

    @staticmethod
    def forward(ctx, gy, y):
        gx = np.subtract(1.0, y)
        gx *= y
        gx *= gy
        return gx

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
