"""The benchmarks' NumPy baselines: the book's chapter-5 layers, a hand-tuned net, the matmul floor.

Private to ``tinygrad_ko.bench`` and ``benchmarks/`` (one implementation for
both). Three ways to take one training step of the book's nets, each in plain
NumPy:

- ``TwoLayerNet`` / ``MultiLayerNet`` built from ``Affine``, ``Sigmoid``,
  ``Relu`` and ``SoftmaxWithLoss``, written as the book writes them
  (``common/layers.py``, ``ch05/two_layer_net.py``, ``common/multi_layer_net.py``),
  with the book's ``SGD``: **the reference** every ratio is measured against.
  Like the book, ``Affine.backward`` also computes dx for the input batch.
- ``HandTunedNet``: the same math with every buffer preallocated, everything
  in place and no gradient for the input: what a careful NumPy programmer
  would write for speed.
- ``MatmulFloor``: only the matrix products a step needs (for a TwoLayerNet:
  x@W1, h@W2, h.T@dout, dout@W2.T, x.T@dh), nothing else: the floor no
  framework on NumPy can go below.

Parameters are dicts ``{"W1": ..., "b1": ..., ...}`` as in the book; every
class can start from a given dict (copied), so that all contenders start
from the same weights.

>>> import numpy as np
>>> params = init_params([4, 5, 3], weight_init_std=0.01, seed=0)
>>> net = TwoLayerNet(4, 5, 3, params=params)
>>> x, t = np.random.default_rng(0).random((8, 4)), np.arange(8) % 3
>>> grads = net.gradient(x, t)
>>> sorted(grads), grads["W1"].shape
(['W1', 'W2', 'b1', 'b2'], (4, 5))
"""

from collections import OrderedDict

import numpy as np


def init_params(sizes, weight_init_std=0.01, seed=0, dtype=np.float64):
    """The book's initial parameters for layer sizes [in, hidden..., out], from a seed.

    weight_init_std: a number (the book's TwoLayerNet uses 0.01), or "relu"/"he"
    (sqrt(2/n)) or "sigmoid"/"xavier" (sqrt(1/n)), n the layer's input size,
    as the book's MultiLayerNet. W from N(0, 1) times that scale, b zero.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for i in range(1, len(sizes)):
        fan_in = sizes[i - 1]
        if isinstance(weight_init_std, str):
            name = weight_init_std.lower()
            scale = np.sqrt(2.0 / fan_in) if name in ("relu", "he") else np.sqrt(1.0 / fan_in)
        else:
            scale = weight_init_std
        params[f"W{i}"] = (scale * rng.standard_normal((fan_in, sizes[i]))).astype(dtype)
        params[f"b{i}"] = np.zeros(sizes[i], dtype=dtype)
    return params


# --- the book's common/functions.py ---


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot targets: turn them into labels
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


def numerical_gradient(f, x):
    """The book's central difference for every element of x (perturbed in place, restored)."""
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
    return grad


# --- the book's common/layers.py ---


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0  # the book writes into dout (tinygrad_ko's ops never do)
        dx = dout
        return dx


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        out = sigmoid(x)
        self.out = out
        return out

    def backward(self, dout):
        dx = dout * (1.0 - self.out) * self.out
        return dx


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)  # also for the input batch, as the book does
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot targets
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


# --- the book's common/optimizer.py ---


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


# --- the book's nets ---

_ACTIVATIONS = {"sigmoid": Sigmoid, "relu": Relu}


class MultiLayerNet:
    """The book's chapter-6 net: (Affine -> activation) x hidden layers -> Affine -> SoftmaxWithLoss.

    Same interface as the book (and tinygrad_ko's): ``params``, ``predict``,
    ``loss``, ``accuracy``, ``gradient`` (backprop), ``numerical_gradient``.
    ``params`` (a dict) starts as a copy of the given dict, else from
    ``init_params``; ``loss`` adds 0.5 * weight_decay_lambda * sum(W**2).
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, params=None, dtype=np.float64, seed=0):
        sizes = [input_size] + list(hidden_size_list) + [output_size]
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        if params is None:
            params = init_params(sizes, weight_init_std, seed, dtype)
        self.params = {key: np.array(value, copy=True) for key, value in params.items()}
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            self.layers[f"Activation_function{idx}"] = _ACTIVATIONS[activation]()
        idx = self.hidden_layer_num + 1
        self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        weight_decay = 0
        if self.weight_decay_lambda:
            for idx in range(1, self.hidden_layer_num + 2):
                W = self.params[f"W{idx}"]
                weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)
        return self.last_layer.forward(y, t) + weight_decay

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        def loss_W(W):
            return self.loss(x, t)
        return {key: numerical_gradient(loss_W, self.params[key]) for key in self.params}

    def gradient(self, x, t):
        # forward
        self.loss(x, t)
        # backward
        dout = 1
        dout = self.last_layer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{idx}"]
            grads[f"W{idx}"] = affine.dW + self.weight_decay_lambda * affine.W if self.weight_decay_lambda \
                else affine.dW
            grads[f"b{idx}"] = affine.db
        return grads


class TwoLayerNet(MultiLayerNet):
    """The book's chapter-5 TwoLayerNet: Affine1 -> activation -> Affine2 -> SoftmaxWithLoss.

    Sigmoid hidden layer by default, as tinygrad_ko's TwoLayerNet (the book's
    chapter-5 net uses Relu: pass activation="relu").
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, activation="sigmoid",
                 params=None, dtype=np.float64, seed=0):
        super().__init__(input_size, [hidden_size], output_size, activation=activation,
                         weight_init_std=weight_init_std, params=params, dtype=dtype, seed=seed)


# --- hand-tuned and floor ---


class HandTunedNet:
    """One SGD step with preallocated buffers, everything in place, no gradient for the input.

    Same math as the reference (sigmoid or relu hidden layers, softmax with
    cross-entropy on integer labels, SGD), for a fixed batch size.
    ``step(x, t)`` updates ``params`` in place and sets ``loss``.
    """

    def __init__(self, params, batch_size, activation="sigmoid", lr=0.1):
        self.params = {key: np.array(value, copy=True) for key, value in params.items()}
        self.layer_count = len(self.params) // 2
        self.activation = activation
        self.lr = lr
        self.loss = None
        dtype = self.params["W1"].dtype
        n = batch_size
        W = [self.params[f"W{i}"] for i in range(1, self.layer_count + 1)]
        self._W = W
        self._b = [self.params[f"b{i}"] for i in range(1, self.layer_count + 1)]
        self._z = [np.empty((n, w.shape[1]), dtype) for w in W]           # layer outputs (activated in place)
        self._dz = [np.empty((n, w.shape[1]), dtype) for w in W]          # their gradients
        self._tmp = [np.empty((n, w.shape[1]), dtype) for w in W]         # activation derivative
        self._mask = [np.empty((n, w.shape[1]), bool) for w in W]
        self._dW = [np.empty_like(w) for w in W]
        self._db = [np.empty_like(b) for b in self._b]
        self._row = np.empty((n, 1), dtype)
        self._rows = np.arange(n)

    def step(self, x, t):
        W, b, z, dz = self._W, self._b, self._z, self._dz
        last = self.layer_count - 1
        n = x.shape[0]
        # forward
        a = x
        for i in range(self.layer_count):
            np.dot(a, W[i], out=z[i])
            z[i] += b[i]
            if i < last:
                if self.activation == "sigmoid":
                    np.negative(z[i], out=z[i])
                    np.exp(z[i], out=z[i])
                    z[i] += 1
                    np.reciprocal(z[i], out=z[i])
                else:
                    np.maximum(z[i], 0, out=z[i])
            a = z[i]
        # softmax with cross-entropy; the scores' buffer becomes (y - onehot) / n
        s = dz[last]
        np.subtract(z[last], np.max(z[last], axis=1, keepdims=True, out=self._row), out=s)
        np.exp(s, out=s)
        np.sum(s, axis=1, keepdims=True, out=self._row)
        s /= self._row
        self.loss = -np.mean(np.log(s[self._rows, t] + 1e-7))
        s[self._rows, t] -= 1
        s *= 1.0 / n
        # backward, no dx for the input
        for i in range(last, -1, -1):
            np.dot((z[i - 1] if i else x).T, dz[i], out=self._dW[i])
            np.sum(dz[i], axis=0, out=self._db[i])
            if i:
                g = dz[i - 1]
                np.dot(dz[i], W[i].T, out=g)
                y = z[i - 1]
                if self.activation == "sigmoid":
                    tmp = self._tmp[i - 1]
                    np.subtract(1, y, out=tmp)
                    tmp *= y
                    g *= tmp
                else:
                    np.greater(y, 0, out=self._mask[i - 1])
                    g *= self._mask[i - 1]
        # SGD, in place
        for i in range(self.layer_count):
            self._dW[i] *= self.lr
            W[i] -= self._dW[i]
            self._db[i] *= self.lr
            b[i] -= self._db[i]


class MatmulFloor:
    """Only the matrix products of one step, into preallocated buffers: the floor.

    Forward x@W1, h@W2, ...; backward h.T@dout for every W and dout@W.T for
    every layer but the first (no gradient for the input): 5 products for a
    TwoLayerNet, 8 for 784-100-100-10. Nothing is updated, so the values
    stay put; ``t`` is ignored.
    """

    def __init__(self, params, batch_size):
        layer_count = len(params) // 2
        self._W = [np.array(params[f"W{i}"], copy=True) for i in range(1, layer_count + 1)]
        dtype = self._W[0].dtype
        rng = np.random.default_rng(0)
        n = batch_size
        self._z = [np.empty((n, w.shape[1]), dtype) for w in self._W]
        self._dz = [(0.01 * rng.standard_normal((n, w.shape[1]))).astype(dtype) for w in self._W]
        self._dW = [np.empty_like(w) for w in self._W]
        self.matmul_count = 3 * layer_count - 1

    def step(self, x, t=None):
        W, z, dz, dW = self._W, self._z, self._dz, self._dW
        a = x
        for i in range(len(W)):
            np.dot(a, W[i], out=z[i])
            a = z[i]
        for i in range(len(W) - 1, -1, -1):
            np.dot((z[i - 1] if i else x).T, dz[i], out=dW[i])
            if i:
                np.dot(dz[i], W[i].T, out=dz[i - 1])


# --- the book's chapter 7: im2col, Convolution, Pooling (common/util.py, common/layers.py) ---


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """The book's im2col: (N*OH*OW, C*FH*FW), filled by one strided slice per filter offset.

    Unlike the book, the columns keep the input's dtype (the book's are always
    float64), so that a float32 run is compared with float32 work.
    """
    n, c, h, w = input_data.shape
    out_h = (h + 2 * pad - filter_h) // stride + 1
    out_w = (w + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((n, c, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for dy in range(filter_h):
        for dx in range(filter_w):
            col[:, :, dy, dx, :, :] = img[:, :, dy:dy + stride * out_h:stride, dx:dx + stride * out_w:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The book's col2im: the columns added back into a padded image, one strided slice per offset."""
    n, c, h, w = input_shape
    out_h = (h + 2 * pad - filter_h) // stride + 1
    out_w = (w + 2 * pad - filter_w) // stride + 1
    col = col.reshape(n, out_h, out_w, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=col.dtype)
    for dy in range(filter_h):
        for dx in range(filter_w):
            img[:, :, dy:dy + stride * out_h:stride, dx:dx + stride * out_w:stride] += col[:, :, dy, dx, :, :]
    return img[:, :, pad:h + pad, pad:w + pad]


class Convolution:
    """The book's Convolution layer: im2col and one matrix product; backward by col2im.

    Like the book, backward also computes dx (the book's layer cannot tell
    that its input is the data batch).
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None
        self.col = None
        self.col_W = None
        self.dW = None
        self.db = None

    def forward(self, x):
        fn, c, fh, fw = self.W.shape
        n, c, h, w = x.shape
        out_h = 1 + (h + 2 * self.pad - fh) // self.stride
        out_w = 1 + (w + 2 * self.pad - fw) // self.stride
        col = im2col(x, fh, fw, self.stride, self.pad)
        col_W = self.W.reshape(fn, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(n, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x = x
        self.col = col
        self.col_W = col_W
        return out

    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    """The book's max Pooling layer: im2col, a max and an argmax per window row; backward by col2im."""

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None
        self.arg_max = None

    def forward(self, x):
        n, c, h, w = x.shape
        out_h = 1 + (h - self.pool_h) // self.stride
        out_w = 1 + (w - self.pool_w) // self.stride
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        self.x = x
        return out.reshape(n, out_h, out_w, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


def init_convnet_params(input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=100, output_size=10,
                        weight_init_std=0.01, seed=0, dtype=np.float64):
    """Initial parameters of the book's SimpleConvNet (pad 0, stride 1, 2x2 pool), from a seed."""
    rng = np.random.default_rng(seed)
    c, h, w = input_dim
    conv_h, conv_w = h - filter_size + 1, w - filter_size + 1
    pool_output_size = filter_num * (conv_h // 2) * (conv_w // 2)
    shapes = {"W1": (filter_num, c, filter_size, filter_size), "W2": (pool_output_size, hidden_size),
              "W3": (hidden_size, output_size)}
    params = {}
    for i in (1, 2, 3):
        params[f"W{i}"] = (weight_init_std * rng.standard_normal(shapes[f"W{i}"])).astype(dtype)
        params[f"b{i}"] = np.zeros(shapes[f"W{i}"][0 if i == 1 else 1], dtype=dtype)
    return params


class SimpleConvNet:
    """The book's chapter-7 SimpleConvNet: Conv1 - Relu1 - Pool1 - Affine1 - Relu2 - Affine2 - SoftmaxWithLoss.

    The convolution has stride 1 and pad 0, the pool is 2x2 with stride 2, as
    the book's defaults. ``params`` starts as a copy of the given dict
    (``init_convnet_params``); ``gradient(x, t)`` is the book's backprop.
    """

    def __init__(self, params):
        self.params = {key: np.array(value, copy=True) for key, value in params.items()}
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"], stride=1, pad=0)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for i, name in ((1, "Conv1"), (2, "Affine1"), (3, "Affine2")):
            grads[f"W{i}"] = self.layers[name].dW
            grads[f"b{i}"] = self.layers[name].db
        return grads

    def accuracy(self, x, t, batch_size=100):
        return _accuracy(self.predict, x, t, batch_size)


def _accuracy(predict, x, t, batch_size):
    """The book's conv nets' accuracy: argmax of the scores, ``batch_size`` images at a time.

    Unlike the book's (which drops a last partial batch), every image counts, as tinygrad_ko's.
    """
    if t.ndim != 1:
        t = np.argmax(t, axis=1)
    correct = 0
    for start in range(0, x.shape[0], batch_size):
        y = predict(x[start:start + batch_size])
        correct += int(np.sum(np.argmax(y, axis=1) == t[start:start + batch_size]))
    return correct / x.shape[0]


# --- the book's chapter 8: Dropout and DeepConvNet (common/layers.py, ch08/deep_convnet.py) ---


class Dropout:
    """The book's Dropout: not inverted; the mask from ``np.random.rand`` as the book draws it."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


DEEP_CONV_PARAMS = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)


def init_deep_convnet_params(hidden_size=50, output_size=10, seed=0, dtype=np.float64):
    """Initial parameters of the book's DeepConvNet (He scales with the book's fan-ins), from a seed."""
    rng = np.random.default_rng(seed)
    fan_ins = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3, 64 * 3 * 3, 64 * 4 * 4,
                        hidden_size])
    scales = np.sqrt(2.0 / fan_ins)
    params, channels = {}, 1
    for i, conv in enumerate(DEEP_CONV_PARAMS):
        shape = (conv["filter_num"], channels, conv["filter_size"], conv["filter_size"])
        params[f"W{i + 1}"] = (scales[i] * rng.standard_normal(shape)).astype(dtype)
        params[f"b{i + 1}"] = np.zeros(conv["filter_num"], dtype=dtype)
        channels = conv["filter_num"]
    params["W7"] = (scales[6] * rng.standard_normal((64 * 4 * 4, hidden_size))).astype(dtype)
    params["b7"] = np.zeros(hidden_size, dtype=dtype)
    params["W8"] = (scales[7] * rng.standard_normal((hidden_size, output_size))).astype(dtype)
    params["b8"] = np.zeros(output_size, dtype=dtype)
    return params


class DeepConvNet:
    """The book's chapter-8 DeepConvNet, layer by layer as ``ch08/deep_convnet.py`` builds it.

    conv - relu - conv - relu - pool (three times), affine - relu - dropout -
    affine - dropout - SoftmaxWithLoss; 28x28 input. ``params`` starts as a
    copy of the given dict (``init_deep_convnet_params``, or the book's
    deep_convnet_params.pkl). ``loss`` and ``gradient`` use dropout in
    training mode, as the book's.
    """

    def __init__(self, params):
        self.params = {key: np.array(value, copy=True) for key, value in params.items()}
        p = self.params
        self.layers = []
        for i, conv in enumerate(DEEP_CONV_PARAMS):
            self.layers.append(Convolution(p[f"W{i + 1}"], p[f"b{i + 1}"], conv["stride"], conv["pad"]))
            self.layers.append(Relu())
            if i % 2 == 1:
                self.layers.append(Pooling(pool_h=2, pool_w=2, stride=2))
        self.layers += [Affine(p["W7"], p["b7"]), Relu(), Dropout(0.5), Affine(p["W8"], p["b8"]), Dropout(0.5)]
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        for layer in self.layers:
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def accuracy(self, x, t, batch_size=100):
        return _accuracy(self.predict, x, t, batch_size)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for i, layer_idx in enumerate((0, 2, 5, 7, 10, 12, 15, 18)):
            grads[f"W{i + 1}"] = self.layers[layer_idx].dW
            grads[f"b{i + 1}"] = self.layers[layer_idx].db
        return grads
