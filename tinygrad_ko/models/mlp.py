"""The book's fully connected nets of chapters 4-6: SimpleNet, TwoLayerNet, MultiLayerNet."""

import numpy as np

from .. import functional as F
from .._checks import positive_int
from ..tensor import Tensor
from .base import _ACTIVATIONS, _LOSSES, BookNet, _init_std, _lookup
from .book_layers import book_batch_norm, book_dropout


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
        input_size = positive_int(input_size, "input_size", "TwoLayerNet")
        hidden_size = positive_int(hidden_size, "hidden_size", "TwoLayerNet")
        output_size = positive_int(output_size, "output_size (the number of classes)", "TwoLayerNet")
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


def _layer_sizes(where, input_size, hidden_size_list, output_size):
    """[input_size, *hidden_size_list, output_size], each checked to be a positive int."""
    if not isinstance(hidden_size_list, (list, tuple, np.ndarray)):
        example = f"[{hidden_size_list}]" if isinstance(hidden_size_list, int) else "[100, 100]"
        raise TypeError(f"{where}: hidden_size_list must be a list of positive ints (one size per hidden layer), "
                        f"got {hidden_size_list!r}; for example {example}")
    return ([positive_int(input_size, "input_size", where)]
            + [positive_int(n, f"hidden_size_list[{i}]", where) for i, n in enumerate(hidden_size_list)]
            + [positive_int(output_size, "output_size (the number of classes)", where)])


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
        sizes = _layer_sizes(type(self).__name__, input_size, hidden_size_list, output_size)
        self.layer_count = len(sizes) - 1
        for i in range(1, len(sizes)):
            std = _init_std(weight_init_std, sizes[i - 1])
            setattr(self, f"W{i}", Tensor((std * np.random.randn(sizes[i - 1], sizes[i])).astype(dtype),
                                          requires_grad=True))
            setattr(self, f"b{i}", Tensor(np.zeros(sizes[i], dtype=dtype), requires_grad=True))
            if i < self.layer_count:
                self._add_hidden_layer_extras(i, sizes[i], dtype)

    def _add_hidden_layer_extras(self, i, size, dtype):
        """A hook for subclasses: more parameters of hidden layer i, right after W_i and b_i."""

    def predict(self, x):
        act = _ACTIVATIONS[self.activation]
        for i in range(1, self.layer_count + 1):
            x = F.linear(x, getattr(self, f"W{i}"), getattr(self, f"b{i}"))
            if i < self.layer_count:
                x = act(x)
        return x

    def loss(self, x, t):
        return self._with_weight_decay(self._data_loss(x, t))

    def _with_weight_decay(self, loss):
        """loss + 0.5 * weight_decay_lambda * sum(W**2) over every W, as the book adds it."""
        if self.weight_decay_lambda:
            for i in range(1, self.layer_count + 1):
                W = getattr(self, f"W{i}")
                loss = loss + 0.5 * self.weight_decay_lambda * (W * W).sum()
        return loss


class MultiLayerNetExtend(MultiLayerNet):
    """The book's MultiLayerNetExtend (chapter 6): MultiLayerNet with weight decay, dropout and batch norm.

    Each hidden layer is Affine -> [BatchNorm] -> activation -> [Dropout]. Batch
    norm and dropout are the book's (see ``models.book_layers``): its batch
    norm normalises each feature over the batch with momentum 0.9 and eps
    10e-7, its dropout is not inverted (at test time outputs are multiplied by
    1 - ratio). They act in training mode when ``train_flg=True``: ``gradient``
    and ``numerical_gradient`` use it, ``loss`` and ``predict`` default to test
    mode, as in the book. Params ``W1 b1 gamma1 beta1 ... Wn bn`` (gamma ones,
    beta zeros); the running mean and variance of each batch norm are buffers
    (``running_mean1``, ``running_var1``...): in ``state_dict()``, not in ``params``.

    >>> net = MultiLayerNetExtend(784, [100, 100], 10, use_batchnorm=True, use_dropout=True)
    >>> list(net.params)
    ['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'gamma2', 'beta2', 'W3', 'b3']
    >>> net.loss(np.random.rand(2, 784), np.array([0, 1]), train_flg=True).shape
    ()
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu", weight_init_std="relu",
                 weight_decay_lambda=0, use_dropout=False, dropout_ration=0.5, use_batchnorm=False,
                 dtype=np.float64):
        if not 0 <= dropout_ration < 1:
            raise ValueError(f"MultiLayerNetExtend: dropout_ration must be in [0, 1), got {dropout_ration!r}")
        self.use_dropout = use_dropout
        self.dropout_ration = dropout_ration
        self.use_batchnorm = use_batchnorm
        super().__init__(input_size, hidden_size_list, output_size, activation=activation,
                         weight_init_std=weight_init_std, weight_decay_lambda=weight_decay_lambda, dtype=dtype)

    def _add_hidden_layer_extras(self, i, size, dtype):
        """gamma_i (ones), beta_i (zeros) and the running statistics (zeros, as the book starts them)."""
        if self.use_batchnorm:
            setattr(self, f"gamma{i}", Tensor(np.ones(size, dtype=dtype), requires_grad=True))
            setattr(self, f"beta{i}", Tensor(np.zeros(size, dtype=dtype), requires_grad=True))
            self.register_buffer(f"running_mean{i}", np.zeros(size, dtype=dtype))
            self.register_buffer(f"running_var{i}", np.zeros(size, dtype=dtype))

    def predict(self, x, train_flg=False):
        act = _ACTIVATIONS[self.activation]
        for i in range(1, self.layer_count + 1):
            x = F.linear(x, getattr(self, f"W{i}"), getattr(self, f"b{i}"))
            if i == self.layer_count:
                break
            if self.use_batchnorm:
                x = book_batch_norm(x, getattr(self, f"gamma{i}"), getattr(self, f"beta{i}"),
                                    getattr(self, f"running_mean{i}").data, getattr(self, f"running_var{i}").data, train_flg)
            x = act(x)
            if self.use_dropout:
                x = book_dropout(x, self.dropout_ration, train_flg)
        return x

    def loss(self, x, t, train_flg=False):
        """Cross-entropy of the scores plus the weight decay 0.5 * lambda * sum(W**2) over every W."""
        return self._with_weight_decay(F.softmax_cross_entropy(self.predict(x, train_flg), t))

    def training_loss(self, x, t):
        return self.loss(x, t, train_flg=True)
