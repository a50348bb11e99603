"""What the book's nets share: the ``params`` view, initial weight scales, loss, accuracy, gradients."""

import numpy as np

from .. import functional as F
from ..autograd import mark_changed, no_grad
from ..nn import Module
from ..numerical import numerical_gradient as _numerical_gradient
from ..tensor import Tensor


class ParamsView(dict):
    """``{name: ndarray}`` whose arrays ARE the module's parameter data (made on each ``net.params``).

    A plain dict for reading (fast, as the optimizers need); assigning
    ``params[k] = array`` (or ``update``) copies into the parameter in place,
    so the view and the module never drift apart. Deleting is refused.
    """

    def __init__(self, module):
        self.tensors = module.parameter_table()  # name -> the parameter Tensor behind each array
        super().__init__((name, p.data) for name, p in self.tensors.items())

    def __setitem__(self, key, value):
        target = self[key]
        if value is not target:  # params[k] -= g already updated target in place
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"params[{key!r}]: shape {value.shape} does not match the parameter's "
                                 f"{target.shape}")
            target[...] = value
        mark_changed(self.tensors[key], f"net.params[{key!r}] assignment (such as -=)")

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def _refuse(self, *args, **kwargs):
        raise TypeError("params: the parameters of a net cannot be removed or added")

    __delitem__ = pop = popitem = clear = setdefault = _refuse

    def __repr__(self):
        return "ParamsView(" + ", ".join(f"{k}: {v.shape}" for k, v in self.items()) + ")"


def _init_std(weight_init_std, fan_in):
    """The book's initial weight scale: a number, or "relu"/"he" (sqrt(2/n)), "sigmoid"/"xavier" (sqrt(1/n))."""
    if isinstance(weight_init_std, str):
        name = weight_init_std.lower()
        if name in ("relu", "he"):
            return np.sqrt(2.0 / fan_in)
        if name in ("sigmoid", "xavier"):
            return np.sqrt(1.0 / fan_in)
        raise ValueError(f"weight_init_std must be a number or one of 'relu', 'he', 'sigmoid', 'xavier'; "
                         f"got {weight_init_std!r}")
    return float(weight_init_std)


_ACTIVATIONS = {"relu": F.relu, "sigmoid": F.sigmoid}
_LOSSES = {"softmax_cross_entropy": F.softmax_cross_entropy,
           "cross_entropy_error": lambda scores, t: F.cross_entropy_error(F.softmax(scores), t)}


def _lookup(table, name, what):
    if name not in table:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, table))}; got {name!r}")
    return table[name]


class BookNet(Module):
    """What the book's nets share: params, loss, accuracy and both gradients.

    Subclasses define ``predict(x)`` (class scores, before softmax) and set
    ``self.loss_function``.
    """

    loss_function = "softmax_cross_entropy"

    @property
    def params(self):
        return ParamsView(self)

    def forward(self, x):
        return self.predict(x)

    def _data_loss(self, x, t):
        return _lookup(_LOSSES, self.loss_function, "loss_function")(self.predict(x), t)

    def loss(self, x, t):
        """The loss (a 0-d Tensor) on inputs x (N, input_size) and labels or one-hot t."""
        return self._data_loss(x, t)

    def accuracy(self, x, t):
        """Fraction of rows whose highest score is the label (t: labels or one-hot), as a float."""
        with no_grad():
            y = np.argmax(self.predict(x).data, axis=1)
        t = np.asarray(t.data if isinstance(t, Tensor) else t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t) / x.shape[0])

    def gradient(self, x, t):
        """Gradients of the loss by backprop: {name: new ndarray} keyed like ``params``."""
        self.zero_grad()
        self.loss(x, t).backward()
        return {name: p.grad.data for name, p in self.named_parameters()}

    def numerical_gradient(self, x, t):
        """Gradients by central differences (slow: 2 forward passes per parameter element).

        Each parameter is perturbed in place and restored exactly, even on Ctrl-C.
        """
        with no_grad():
            def loss_W(_):
                return self.loss(x, t).item()
            return {name: _numerical_gradient(loss_W, p.data) for name, p in self.named_parameters()}
