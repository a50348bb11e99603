"""The book's nets (chapters 4-6) with the book's interface, their gradients by autograd.

``params`` is a dict-like view ``{"W1": ndarray, ...}`` whose arrays ARE the
parameter Tensors' data, so the book's training loop works unchanged:

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> np.random.seed(0)
>>> net = tk.TwoLayerNet(input_size=4, hidden_size=5, output_size=3)
>>> x, t = np.random.rand(8, 4), np.random.randint(0, 3, 8)
>>> before = net.loss(x, t).item()
>>> for step in range(100):
...     grads = net.gradient(x, t)
...     for key in ("W1", "b1", "W2", "b2"):
...         net.params[key] -= 0.5 * grads[key]
>>> net.loss(x, t).item() < before
True
"""

import numpy as np

from . import functional as F
from .autograd import no_grad
from .nn import Module
from .numerical import numerical_gradient as _numerical_gradient
from .tensor import Tensor


class ParamsView(dict):
    """``{name: ndarray}`` whose arrays ARE the module's parameter data (made on each ``net.params``).

    A plain dict for reading (fast, as the optimizers need); assigning
    ``params[k] = array`` (or ``update``) copies into the parameter in place,
    so the view and the module never drift apart. Deleting is refused.
    """

    def __init__(self, module):
        super().__init__((name, p.data) for name, p in module.parameter_table().items())

    def __setitem__(self, key, value):
        target = self[key]
        if value is not target:  # params[k] -= g already updated target in place
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"params[{key!r}]: shape {value.shape} does not match the parameter's "
                                 f"{target.shape}")
            target[...] = value

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


class SimpleNet(BookNet):
    """The book's simpleNet (4.4.2): W (2, 3) from N(0, 1); predict(x) = x @ W.

    The book's loss: softmax, then ``cross_entropy_error``.

    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> net = tk.SimpleNet()
    >>> net.W.data[...] = [[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]]
    >>> x, t = np.array([0.6, 0.9]), np.array([0, 0, 1])
    >>> round(net.loss(x, t).item(), 4)  # the book printed 0.92806853..., without its own +1e-7
    0.9281
    >>> dW = tk.numerical_gradient(lambda W: net.loss(x, t), net.W)
    >>> dW.round(4)
    array([[ 0.2192,  0.1436, -0.3628],
           [ 0.3289,  0.2153, -0.5442]])
    """

    loss_function = "cross_entropy_error"

    def __init__(self):
        super().__init__()
        self.W = Tensor(np.random.randn(2, 3), requires_grad=True)

    def predict(self, x):
        return F.linear(x, self.W)


class TwoLayerNet(BookNet):
    """The book's TwoLayerNet: Affine -> Sigmoid -> Affine -> softmax with cross-entropy.

    input_size -> hidden_size -> output_size; W1, W2 from weight_init_std * N(0, 1)
    (a number, or "he"/"xavier" as in MultiLayerNet), b1, b2 zero, drawn with
    ``np.random`` as in the book. ``predict`` returns scores (before softmax),
    like the book's chapter-5 net. Options beyond the book: ``activation``
    ("sigmoid" as chapter 4, or "relu" as chapter 5), ``loss_function``
    ("softmax_cross_entropy", fused; or the book's "cross_entropy_error" of
    the softmax, with its +1e-7) and ``dtype``.

    >>> net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    >>> {key: value.shape for key, value in net.params.items()}
    {'W1': (784, 50), 'b1': (50,), 'W2': (50, 10), 'b2': (10,)}
    >>> x, t = np.random.rand(3, 784), np.array([3, 1, 4])
    >>> grads = net.gradient(x, t)        # backprop; net.numerical_gradient(x, t) is the slow check
    >>> grads["W1"].shape, round(net.accuracy(x, t) * 3) in (0, 1, 2, 3)
    ((784, 50), True)
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="sigmoid", loss_function="softmax_cross_entropy", dtype=np.float64):
        super().__init__()
        self.activation = activation
        self.loss_function = loss_function
        _lookup(_ACTIVATIONS, activation, "activation")
        _lookup(_LOSSES, loss_function, "loss_function")
        std1 = _init_std(weight_init_std, input_size)
        std2 = _init_std(weight_init_std, hidden_size)
        self.W1 = Tensor((std1 * np.random.randn(input_size, hidden_size)).astype(dtype), requires_grad=True)
        self.b1 = Tensor(np.zeros(hidden_size, dtype=dtype), requires_grad=True)
        self.W2 = Tensor((std2 * np.random.randn(hidden_size, output_size)).astype(dtype), requires_grad=True)
        self.b2 = Tensor(np.zeros(output_size, dtype=dtype), requires_grad=True)

    def predict(self, x):
        hidden = _ACTIVATIONS[self.activation](F.linear(x, self.W1, self.b1))
        return F.linear(hidden, self.W2, self.b2)


class MultiLayerNet(BookNet):
    """The book's chapter-6 MultiLayerNet: (Affine -> activation) x len(hidden_size_list) -> Affine.

    weight_init_std: a number, "relu"/"he" (sqrt(2/n), the default) or
    "sigmoid"/"xavier" (sqrt(1/n)), n the layer's input size. The loss adds
    the book's weight decay 0.5 * weight_decay_lambda * sum(W**2) over every W.
    Params W1 b1 ... Wn bn.

    >>> net = MultiLayerNet(784, [100, 100], 10, weight_decay_lambda=0.1)
    >>> list(net.params)
    ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']
    >>> net.loss(np.random.rand(2, 784), np.array([0, 1])).shape
    ()
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, loss_function="softmax_cross_entropy",
                 dtype=np.float64):
        super().__init__()
        self.activation = activation
        self.loss_function = loss_function
        self.weight_decay_lambda = weight_decay_lambda
        _lookup(_ACTIVATIONS, activation, "activation")
        _lookup(_LOSSES, loss_function, "loss_function")
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        self.layer_count = len(sizes) - 1
        for i in range(1, len(sizes)):
            std = _init_std(weight_init_std, sizes[i - 1])
            setattr(self, f"W{i}", Tensor((std * np.random.randn(sizes[i - 1], sizes[i])).astype(dtype),
                                          requires_grad=True))
            setattr(self, f"b{i}", Tensor(np.zeros(sizes[i], dtype=dtype), requires_grad=True))

    def predict(self, x):
        act = _ACTIVATIONS[self.activation]
        for i in range(1, self.layer_count + 1):
            x = F.linear(x, getattr(self, f"W{i}"), getattr(self, f"b{i}"))
            if i < self.layer_count:
                x = act(x)
        return x

    def loss(self, x, t):
        loss = self._data_loss(x, t)
        if self.weight_decay_lambda:
            for i in range(1, self.layer_count + 1):
                W = getattr(self, f"W{i}")
                loss = loss + 0.5 * self.weight_decay_lambda * (W * W).sum()
        return loss
