"""Training helpers for modules (PyTorch's ``torch.nn.utils``): gradient clipping.

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> w = tk.Tensor([1.0, 1.0], requires_grad=True)
>>> (w * np.array([3.0, 4.0])).sum().backward()     # w.grad = [3, 4], norm 5
>>> round(clip_grad_norm_([w], max_norm=1.0).item(), 6)
5.0
>>> w.grad.numpy().round(6)
array([0.6, 0.8])
"""

import math
import numbers

import numpy as np

from ..autograd import mark_changed
from ..tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the ``.grad`` of every parameter in place so that their joint norm is at most ``max_norm``.

    parameters: a Tensor, or a list (or any iterable) of Tensors, e.g.
    ``model.parameters()`` (a Module itself is taken as its parameters());
    those whose ``.grad`` is None are skipped.
    The total norm is the ``norm_type``-norm of all gradients together, as if
    they were one long vector (``float("inf")``: the largest absolute value).
    As PyTorch, every gradient is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``. Returns the total norm from
    before the scaling, as a 0-d Tensor (``.item()`` gives the float).

    Call it between ``loss.backward()`` and the optimizer's update.
    ``error_if_nonfinite=True`` raises RuntimeError when the total norm is NaN
    or infinite (otherwise those gradients are scaled, and become NaN).

    >>> w = Tensor([0.0, 0.0], requires_grad=True)
    >>> (w * np.array([30.0, 40.0])).sum().backward()
    >>> clip_grad_norm_([w], max_norm=5.0)
    Tensor(50.)
    >>> w.grad.numpy().round(6)
    array([3., 4.])
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()  # a Module
    grads = []
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm_: parameter {i} is a {type(p).__name__}, not a Tensor; "
                            f"pass model.parameters() or a list of Tensors")
        if p.grad is not None:
            grads.append(p.grad)
    max_norm = _number("max_norm", max_norm)
    norm_type = _number("norm_type", norm_type)
    if max_norm < 0 or norm_type <= 0:
        raise ValueError(f"clip_grad_norm_: needs max_norm >= 0 and norm_type > 0, "
                         f"got max_norm={max_norm} and norm_type={norm_type}")
    dtype = np.result_type(*[g.dtype for g in grads]) if grads else np.dtype(np.float64)
    total = _total_norm([g.data for g in grads], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}; "
                           f"pass error_if_nonfinite=False to scale them anyway")
    scale = min(1.0, max_norm / (total + 1e-6))
    if scale < 1.0 or math.isnan(scale):
        for g in grads:
            with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in PyTorch
                if g.data.flags.writeable:
                    g.data *= g.dtype.type(scale)
                else:
                    g.data = g.data * g.dtype.type(scale)
            mark_changed(g, "clip_grad_norm_")
    return Tensor(np.asarray(total, dtype=dtype))


def _total_norm(arrays, norm_type):
    """The norm of all arrays joined into one vector, computed in float64 (no float32 overflow)."""
    if not arrays:
        return 0.0
    if norm_type == math.inf:
        return max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    per_array = [np.linalg.norm(a.reshape(-1).astype(np.float64, copy=False), ord=norm_type) for a in arrays]
    return float(np.linalg.norm(np.array(per_array), ord=norm_type))


def _number(arg, value):
    if isinstance(value, Tensor) and value.size == 1:
        value = value.item()
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(value):
        raise ValueError(f"clip_grad_norm_: {arg} must be a number, got {value!r}")
    return float(value)
