"""Normalisation and dropout: batch normalisation (PyTorch's semantics) and inverted dropout."""

import numbers

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..tensor import Tensor


def _float_array(a, what):
    if a.dtype.kind != "f":
        raise TypeError(f"batch_norm: {what} must be floating point, got dtype {a.dtype}; "
                        f"convert it first, e.g. .astype(np.float64)")


def _check_batch_norm(x, gamma, beta, running_mean, running_var, training):
    """Raise for what batch_norm cannot do; return the axes it reduces over (all but axis 1)."""
    if x.ndim < 2:
        raise ValueError(f"batch_norm: the input must have a batch axis and a feature axis, (N, C) or "
                         f"(N, C, ...), got shape {x.shape}; for one sample write x[None]")
    _float_array(x, "the input")
    channels = x.shape[1]
    named = (("gamma", gamma), ("beta", beta), ("running_mean", running_mean), ("running_var", running_var))
    for what, a in named:
        if a is None:
            continue
        _float_array(a, what)
        if a.shape != (channels,):
            raise ValueError(f"batch_norm: {what} has shape {a.shape}, but the input {x.shape} has "
                             f"{channels} features (axis 1); {what} must have shape ({channels},)")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must both be given or both be None")
    if running_mean is None and not training:
        raise ValueError("batch_norm: evaluation mode (training=False) normalises with running_mean and "
                         "running_var; pass them, or use training=True for the batch's statistics")
    if training and running_mean is not None:
        for what, a in named[2:]:
            if not a.flags.writeable:
                raise ValueError(f"batch_norm: {what} is read-only, but training updates it in place")
    axes = (0,) + tuple(range(2, x.ndim))
    if training and channels and x.size // channels == 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                         f"shape {x.shape}; use a batch of at least 2, or training=False")
    return axes


class BatchNorm(Function):
    """Batch normalisation over every axis but axis 1 (the features or channels), as PyTorch's.

    x: (N, C) or (N, C, ...); gamma, beta: (C,). With mu the mean and v the
    biased variance of x per channel (of the batch in training, the running
    statistics in evaluation):

        x_hat = (x - mu) / sqrt(v + eps),   y = gamma * x_hat + beta

    Training also updates the running statistics in place, with the unbiased
    variance: ``running = (1 - momentum) * running + momentum * batch``.

    Backward, with a = gy * gamma, and sums and means over each channel's
    values: dbeta = sum(gy), dgamma = sum(gy * x_hat), and
    dx = a / sqrt(v + eps) in evaluation; in training, where mu and v depend on x,

        dx = (a - mean(a) - x_hat * mean(a * x_hat)) / sqrt(v + eps)

    Saves x_hat and 1/sqrt(v + eps) (and mu in evaluation), not x. Under
    create_graph, x_hat is recomputed from x by Tensor operations, so that its
    dependence on x is recorded.
    """

    op_name = "batch_norm"
    uses_inputs = (0, 1)  # gamma; x too, which create_graph reads to differentiate x_hat again

    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps):
        axes = _check_batch_norm(x, gamma, beta, running_mean, running_var, training)
        shape = tuple(x.shape[1] if i == 1 else 1 for i in range(x.ndim))  # (1, C, 1, ...)
        ctx.axes, ctx.shape, ctx.eps = axes, shape, eps
        ctx.batch_stats = training and x.size > 0  # an empty batch normalises nothing, updates nothing
        if ctx.batch_stats:
            mean = x.mean(axis=axes, keepdims=True)
            d = x - mean
            var = (d * d).mean(axis=axes, keepdims=True)
            if running_mean is not None:
                count = x.size // x.shape[1]
                _update(running_mean, mean, momentum)
                _update(running_var, var * (count / (count - 1)), momentum)
        else:
            if running_mean is None:
                running_mean, running_var = np.zeros(x.shape[1]), np.ones(x.shape[1])
            ctx.mean = running_mean.reshape(shape).astype(x.dtype)  # a copy: running may change later
            var = running_var.reshape(shape).astype(x.dtype)
            d = x - ctx.mean
        ctx.inv_std = 1.0 / np.sqrt(var + eps)
        ctx.x_hat = d * ctx.inv_std
        return ctx.x_hat * gamma.reshape(shape) + beta.reshape(shape)

    @staticmethod
    def backward(ctx, gy):
        x, gamma, _ = ctx.inputs
        if is_grad_enabled():  # create_graph: record the formulas as Tensor ops
            x_hat, inv_std = _normalized(ctx, x)
            return _batch_norm_grads(ctx, gy, x_hat, inv_std, gamma.reshape(ctx.shape))
        # A plain backward runs every training step: the same formulas on the arrays.
        grads = _batch_norm_grads(ctx, gy.data, ctx.x_hat, ctx.inv_std, gamma.data.reshape(ctx.shape))
        return tuple(None if g is None else Tensor(g) for g in grads)


def _update(running, batch, momentum):
    """running = (1 - momentum) * running + momentum * batch, written into running's array."""
    running[...] = (1.0 - momentum) * running + momentum * batch.reshape(running.shape)


def _normalized(ctx, x):
    """x_hat and 1/sqrt(v + eps) as Tensor functions of x (the same numbers forward saved)."""
    if not ctx.batch_stats:
        inv_std = Tensor(ctx.inv_std)
        return (x - Tensor(ctx.mean)) * inv_std, inv_std
    d = x - x.mean(axis=ctx.axes, keepdims=True)
    inv_std = ((d * d).mean(axis=ctx.axes, keepdims=True) + ctx.eps) ** -0.5
    return d * inv_std, inv_std


def _batch_norm_grads(ctx, gy, x_hat, inv_std, gamma):
    """(dx, dgamma, dbeta) from the docstring's formulas: on Tensors or on ndarrays alike."""
    need_x, need_gamma, need_beta = ctx.needs_input_grad
    axes = ctx.axes
    gx = ggamma = gbeta = None
    if need_x:
        a = gy * gamma
        if ctx.batch_stats:
            a = a - a.mean(axis=axes, keepdims=True) - x_hat * (a * x_hat).mean(axis=axes, keepdims=True)
        gx = a * inv_std
    if need_gamma:
        ggamma = (gy * x_hat).sum(axis=axes)
    if need_beta:
        gbeta = gy.sum(axis=axes)
    return gx, ggamma, gbeta


def check_dropout_probability(p, op="dropout"):
    """Raise unless p is a real number in [0, 1]."""
    if not isinstance(p, numbers.Real) or isinstance(p, bool):
        raise TypeError(f"{op}: p must be a number between 0 and 1, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


class Dropout(Function):
    """Inverted dropout: y = x * mask / (1 - p), each mask entry 1 with probability 1 - p.

    The mask is drawn from ``np.random`` (``np.random.seed`` repeats it); the
    1/(1 - p) keeps the expected value of y equal to x, so evaluation needs no
    change (p = 1 gives zeros). dy/dx = mask / (1 - p). Saves that scaled mask only.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, p):
        check_dropout_probability(p)
        if x.dtype.kind != "f":
            raise TypeError(f"dropout: the input must be floating point, got dtype {x.dtype}")
        mask = (np.random.random_sample(x.shape) >= p).astype(x.dtype)
        mask *= 0.0 if p == 1 else 1.0 / (1.0 - p)  # in place: mask stays in x's dtype
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, gy):
        return gy * ctx.mask
