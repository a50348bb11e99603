"""The book's optimizers (``common/optimizer.py``), in order of increasing complexity.

Each has ``update(params, grads)``: ``params`` and ``grads`` are dicts with the
same keys (``W1 b1 W2 b2`` ...) whose values are ndarrays or Tensors, and each
parameter array is updated **in place**, exactly as the book writes it::

    optimizer = tk.optim.Adam()
    for i in range(iters_num):
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> params, grads = {"W": np.array([1.0, 2.0])}, {"W": np.array([10.0, 10.0])}
>>> tk.optim.SGD(lr=0.1).update(params, grads)
>>> params["W"]
array([0., 1.])

In place matters: a net's ``params`` arrays share memory with its parameter
Tensors, so an update that rebinds ``params[key]`` to a new array would not
train the net. For a Tensor, its ``.data`` array is updated; a Tensor grad
is read through its ``.data`` too. A key whose grad is ``None`` is skipped.
Parameters keep their dtype (float32 stays float32), and the state an
optimizer keeps per key (``v``, ``h``, ``m``) is created on first use with
that parameter's shape and dtype.

Every optimizer takes ``weight_decay=`` (default 0): it adds
``weight_decay * p`` to each gradient before the update, as ``torch.optim``
does and as the book's ``weight_decay_lambda`` does through the loss
(``0.5 * lambda * sum(W**2)`` has the gradient ``lambda * W``). Unlike the
book's nets, it applies to every parameter it is given, biases included;
leave the biases out of ``params`` (or use a second optimizer with 0) to decay
weights only.
"""

import math
import numbers

import numpy as np

from ..autograd import mark_all_changed
from ..tensor import Tensor

__all__ = ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"]

EPS = 1e-7  # the book's small constant that keeps 1/sqrt(h) finite where h == 0


class Optimizer:
    """Base class: checks the dicts and hands each (key, param, grad) to ``_step``.

    A subclass implements ``_step(key, p, g)``, updating the ndarray ``p`` in
    place; ``g`` is an ndarray of ``p``'s shape and dtype (weight decay
    already added).

    >>> class HalfStep(Optimizer):           # p -= g / 2
    ...     lr = 0.5
    ...     def _step(self, key, p, g):
    ...         p -= self.lr * g
    >>> params = {"w": np.array([1.0, 2.0])}
    >>> HalfStep().update(params, {"w": np.array([2.0, 2.0])})
    >>> params["w"]
    array([0., 1.])
    """

    weight_decay = 0.0

    def update(self, params, grads):
        """Update every array in ``params`` in place from ``grads`` (a dict with the same keys)."""
        pairs = self._pairs(params, grads)  # check everything before anything changes
        self._begin_update()
        decay = self.weight_decay
        for key, p, g in pairs:
            if decay:
                g = g + decay * p  # a new array: the caller's grads stay as they were
            self._step(key, p, g)
        # A graph recorded before this update must not backprop with the new values.
        owners = _owning_tensors(params, [key for key, _, _ in pairs])
        if owners:
            mark_all_changed(owners, f"{type(self).__name__}.update")

    def _begin_update(self):
        """Called once per update, after the checks and before the first ``_step`` (Adam counts steps)."""

    def _step(self, key, p, g):
        raise NotImplementedError

    def _pairs(self, params, grads):
        """Check both dicts completely (nothing is updated on an error), then list the pairs."""
        name = type(self).__name__
        for arg, value in (("params", params), ("grads", grads)):
            if not hasattr(value, "keys") or not hasattr(value, "__getitem__"):
                raise TypeError(
                    f"{name}.update: {arg} must be a dict of name -> array, got {type(value).__name__}")
        if params.keys() != grads.keys():  # fast when both are dicts; else compared key by key
            _check_same_keys(name, params, grads)
        pairs = []
        for key in params.keys():
            g = grads[key]
            if g is None:
                continue
            p = params[key]
            # What the book's loop passes (a net's params and gradient()) needs no conversion.
            if not (type(p) is np.ndarray and type(g) is np.ndarray and g.dtype == p.dtype
                    and g.shape == p.shape and p.dtype.kind == "f" and p.flags.writeable):
                p = _param_array(name, key, p)
                g = _grad_array(name, key, g, p)
            pairs.append((key, p, g))
            for attr in self._state_names:
                s = getattr(self, attr).get(key)
                if s is not None and (s.shape, s.dtype) != (p.shape, p.dtype):
                    raise ValueError(
                        f"{name}.update: param {key!r} has shape {p.shape} and dtype {p.dtype} but this "
                        f"optimizer's state {attr!r} for it has shape {s.shape} and dtype {s.dtype}; "
                        f"use a new optimizer for a new net")
        return pairs

    _state_names = ()  # the per-key state dicts a subclass keeps, checked by _pairs

    @staticmethod
    def _state(store, key, p):
        """The state array ``store[key]`` (``v``, ``h``, ``m`` ...), created as zeros on first use."""
        s = store.get(key)
        if s is None:
            s = store[key] = np.zeros(p.shape, dtype=p.dtype)
        return s

    def __repr__(self):
        hyper = self._hyperparams()
        if self.weight_decay:
            hyper["weight_decay"] = self.weight_decay
        args = ", ".join(f"{k}={v!r}" for k, v in hyper.items())
        return f"{type(self).__name__}({args})"

    def _hyperparams(self):
        return {"lr": self.lr}


def _check_same_keys(name, params, grads):
    """Raise KeyError naming the keys that only one of params and grads has."""
    missing = [k for k in params.keys() if k not in grads]
    if missing:
        raise KeyError(f"{name}.update: grads has no entry for param key(s) {missing}; "
                       f"params and grads need the same keys (use None to skip a param)")
    extra = [k for k in grads.keys() if k not in params]
    if extra:
        raise KeyError(f"{name}.update: grads has key(s) {extra} that params lacks; "
                       f"params and grads need the same keys")


def _owning_tensors(params, keys):
    """The Tensors whose data ``params[key]`` are: the values themselves, or the Tensors behind a net's params."""
    tensors = getattr(params, "tensors", None)  # a net's ParamsView knows them
    owners = []
    for key in keys:
        value = params[key]
        owner = value if isinstance(value, Tensor) else None if tensors is None else tensors.get(key)
        if owner is not None:
            owners.append(owner)
    return owners


def _param_array(name, key, p):
    if isinstance(p, Tensor):
        p = p.data
    if not isinstance(p, np.ndarray):
        raise TypeError(
            f"{name}.update: param {key!r} is a {type(p).__name__}; it must be an ndarray or Tensor "
            f"so that it can be updated in place")
    if p.dtype.kind != "f":
        raise TypeError(f"{name}.update: param {key!r} has dtype {p.dtype}; only floating-point "
                        f"params can be trained (convert with p.astype(np.float64))")
    if not p.flags.writeable:
        raise ValueError(f"{name}.update: param {key!r} is a read-only array and cannot be updated in place")
    return p


def _grad_array(name, key, g, p):
    if isinstance(g, Tensor):
        g = g.data
    if type(g) is np.ndarray and g.dtype == p.dtype and g.shape == p.shape:
        return g  # what a net's gradient() gives: nothing to convert or check
    g = np.asarray(g)
    if g.dtype.kind not in "biuf":
        raise TypeError(f"{name}.update: grad {key!r} has dtype {g.dtype}; expected a real numeric array")
    if g.shape != p.shape:
        raise ValueError(
            f"{name}.update: grad {key!r} has shape {g.shape} but its param has shape {p.shape}")
    return g.astype(p.dtype, copy=False)  # compute in the param's dtype: float32 stays float32


def _check_hyperparam(name, arg, value, low, high, high_open=False):
    """``value`` as a float, or ValueError unless low <= value <= high (< high if high_open)."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
          and low <= value <= high and not (high_open and value == high))
    if not ok:
        upper = "inf)" if high == math.inf else f"{high})" if high_open else f"{high}]"
        raise ValueError(f"{name}: {arg} must be a finite number in [{low}, {upper}, got {value!r}")
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``.

    >>> import numpy as np
    >>> params, grads = {"W": np.array([1.0, 2.0])}, {"W": np.array([10.0, -10.0])}
    >>> SGD(lr=0.1).update(params, grads)
    >>> params["W"]
    array([0., 3.])
    """

    def __init__(self, lr=0.01, weight_decay=0.0):
        self.lr = _check_hyperparam("SGD", "lr", lr, 0, math.inf)
        self.weight_decay = _check_hyperparam("SGD", "weight_decay", weight_decay, 0, math.inf)

    def _step(self, key, p, g):
        p -= self.lr * g


class Momentum(Optimizer):
    """SGD with momentum: ``v = momentum * v - lr * g``, then ``p += v`` (``v`` starts at 0).

    >>> import numpy as np
    >>> params, grads = {"W": np.array([1.0])}, {"W": np.array([1.0])}
    >>> opt = Momentum(lr=0.1, momentum=0.9)
    >>> opt.update(params, grads); params["W"]      # v = -0.1
    array([0.9])
    >>> opt.update(params, grads); params["W"]      # v = 0.9 * -0.1 - 0.1 = -0.19
    array([0.71])
    """

    _state_names = ("v",)

    def __init__(self, lr=0.01, momentum=0.9, weight_decay=0.0):
        self.lr = _check_hyperparam("Momentum", "lr", lr, 0, math.inf)
        self.momentum = _check_hyperparam("Momentum", "momentum", momentum, 0, 1)
        self.weight_decay = _check_hyperparam("Momentum", "weight_decay", weight_decay, 0, math.inf)
        self.v = {}  # velocity per key

    def _step(self, key, p, g):
        v = self._state(self.v, key, p)
        v *= self.momentum
        v -= self.lr * g
        p += v

    def _hyperparams(self):
        return {"lr": self.lr, "momentum": self.momentum}


class AdaGrad(Optimizer):
    """Per-element learning rates that shrink with the gradients seen so far.

    ``h += g * g``, then ``p -= lr * g / (sqrt(h) + 1e-7)`` (``h`` starts at 0).

    >>> import numpy as np
    >>> params, grads = {"W": np.array([1.0])}, {"W": np.array([2.0])}
    >>> opt = AdaGrad(lr=0.5)
    >>> opt.update(params, grads); params["W"]      # h = 4: 1 - 0.5 * 2 / 2
    array([0.5])
    """

    _state_names = ("h",)

    def __init__(self, lr=0.01, weight_decay=0.0):
        self.lr = _check_hyperparam("AdaGrad", "lr", lr, 0, math.inf)
        self.weight_decay = _check_hyperparam("AdaGrad", "weight_decay", weight_decay, 0, math.inf)
        self.h = {}  # sum of squared gradients per key

    def _step(self, key, p, g):
        h = self._state(self.h, key, p)
        h += g * g
        p -= self.lr * g / (np.sqrt(h) + EPS)


class RMSprop(Optimizer):
    """AdaGrad with a forgetting average of the squared gradients.

    ``h = decay_rate * h + (1 - decay_rate) * g * g``, then
    ``p -= lr * g / (sqrt(h) + 1e-7)`` (``h`` starts at 0).

    >>> import numpy as np
    >>> params, grads = {"W": np.array([1.0])}, {"W": np.array([2.0])}
    >>> opt = RMSprop(lr=0.1, decay_rate=0.75)
    >>> opt.update(params, grads); params["W"]      # h = 0.25 * 4 = 1: 1 - 0.1 * 2 / 1
    array([0.8])
    """

    _state_names = ("h",)

    def __init__(self, lr=0.01, decay_rate=0.99, weight_decay=0.0):
        self.lr = _check_hyperparam("RMSprop", "lr", lr, 0, math.inf)
        self.decay_rate = _check_hyperparam("RMSprop", "decay_rate", decay_rate, 0, 1)
        self.weight_decay = _check_hyperparam("RMSprop", "weight_decay", weight_decay, 0, math.inf)
        self.h = {}  # moving average of squared gradients per key

    def _step(self, key, p, g):
        h = self._state(self.h, key, p)
        h *= self.decay_rate
        h += (1 - self.decay_rate) * g * g
        p -= self.lr * g / (np.sqrt(h) + EPS)

    def _hyperparams(self):
        return {"lr": self.lr, "decay_rate": self.decay_rate}


class Adam(Optimizer):
    """Momentum and RMSprop together, with bias correction (the book's form).

    Per ``update`` call: ``iter += 1`` and
    ``lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter)``; then for each key
    ``m += (1 - beta1) * (g - m)``, ``v += (1 - beta2) * (g**2 - v)``,
    ``p -= lr_t * m / (sqrt(v) + 1e-7)`` (``m`` and ``v`` start at 0).

    >>> import numpy as np
    >>> params, grads = {"W": np.array([1.0])}, {"W": np.array([2.0])}
    >>> opt = Adam(lr=0.1)
    >>> opt.update(params, grads); params["W"]      # the first step moves each element by about lr
    array([0.9])

    This is the book's Adam, which differs slightly from ``torch.optim.Adam``:
    the book folds both bias corrections into ``lr_t`` and adds its 1e-7 to
    ``sqrt(v)``, where PyTorch adds eps=1e-8 to the bias-corrected
    ``sqrt(v / (1 - beta2**iter))``. The two agree while ``sqrt(v)`` is far
    above eps and differ for gradients near 0. Its ``weight_decay`` is
    PyTorch Adam's (L2 added to the gradient), not AdamW's decoupled decay.
    """

    _state_names = ("m", "v")

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, weight_decay=0.0):
        self.lr = _check_hyperparam("Adam", "lr", lr, 0, math.inf)
        self.beta1 = _check_hyperparam("Adam", "beta1", beta1, 0, 1, high_open=True)
        self.beta2 = _check_hyperparam("Adam", "beta2", beta2, 0, 1, high_open=True)
        self.weight_decay = _check_hyperparam("Adam", "weight_decay", weight_decay, 0, math.inf)
        self.iter = 0  # update calls so far, shared by all keys (as in the book)
        self.m = {}  # moving average of gradients per key
        self.v = {}  # moving average of squared gradients per key

    def _begin_update(self):
        self.iter += 1
        self._lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)

    def _step(self, key, p, g):
        m = self._state(self.m, key, p)
        v = self._state(self.v, key, p)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g ** 2 - v)
        p -= self._lr_t * m / (np.sqrt(v) + EPS)

    def _hyperparams(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2}
