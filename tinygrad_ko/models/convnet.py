"""The book's convolution nets: SimpleConvNet (chapter 7) and DeepConvNet (chapter 8).

Their params (``W1 b1 ...``) have the book's names, shapes and layouts, so the
book's trained weight files load into them (``load_params``) and score the
book's test accuracies. Input: images (N, C, H, W), as the book's
``load_mnist(flatten=False)`` gives them; flattened rows (N, C*H*W) are
reshaped to ``input_dim`` for convenience.
"""

import numpy as np

from .. import functional as F
from .._checks import non_negative_int, positive_int
from ..tensor import Tensor
from .base import BookNet
from .book_layers import book_dropout

_SIMPLE_CONV = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


def _checked_conv_param(conv_param, where, name):
    """conv_param with its four entries checked: filter_num, filter_size, stride positive ints, pad >= 0."""
    keys = ("filter_num", "filter_size", "pad", "stride")
    missing = [k for k in keys if k not in conv_param]
    unknown = [k for k in conv_param if k not in keys]
    if missing or unknown:
        raise ValueError(f"{where}: {name} must have the keys {', '.join(keys)}; "
                         + (f"missing {', '.join(map(repr, missing))}" if missing else "")
                         + ("; " if missing and unknown else "")
                         + (f"unknown {', '.join(map(repr, unknown))}" if unknown else "")
                         + f" (got {conv_param!r})")
    return {"filter_num": positive_int(conv_param["filter_num"], f"{name}['filter_num']", where),
            "filter_size": positive_int(conv_param["filter_size"], f"{name}['filter_size']", where),
            "pad": non_negative_int(conv_param["pad"], f"{name}['pad']", where),
            "stride": positive_int(conv_param["stride"], f"{name}['stride']", where)}


def _checked_input_dim(input_dim, where):
    """input_dim as a tuple (C, H, W) of positive ints."""
    if not isinstance(input_dim, (tuple, list)) or len(input_dim) != 3:
        raise ValueError(f"{where}: input_dim must be (channels, height, width), e.g. (1, 28, 28) for MNIST, "
                         f"got {input_dim!r}")
    return tuple(positive_int(n, f"input_dim[{i}]", where) for i, n in enumerate(input_dim))


def _conv_output_size(input_size, conv_param, where):
    """(input + 2 pad - filter) // stride + 1, refusing sizes where the filter does not fit."""
    size = (input_size + 2 * conv_param["pad"] - conv_param["filter_size"]) // conv_param["stride"] + 1
    if size < 1:
        raise ValueError(f"{where}: a {conv_param['filter_size']}x{conv_param['filter_size']} filter with pad "
                         f"{conv_param['pad']} does not fit an input of size {input_size}")
    return size


def _weights(shape, std, dtype):
    return Tensor((std * np.random.randn(*shape)).astype(dtype), requires_grad=True)


def _zeros(size, dtype):
    return Tensor(np.zeros(size, dtype=dtype), requires_grad=True)


class ConvNet(BookNet):
    """What the two conv nets share: image input, and accuracy in batches of 100 as the book."""

    def _images(self, x):
        """x as a Tensor of shape (N, *input_dim); rows of C*H*W values are reshaped."""
        x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
        if x.ndim == 2 and x.shape[1] == int(np.prod(self.input_dim)):
            return x.reshape(x.shape[0], *self.input_dim)
        if x.ndim != 4 or tuple(x.shape[1:]) != tuple(self.input_dim):
            raise ValueError(f"{type(self).__name__}: expected images of shape (N, {', '.join(map(str, self.input_dim))}) "
                             f"(or rows of {int(np.prod(self.input_dim))} values), got {x.shape}; load the data "
                             f"with load_mnist(flatten=False)")
        return x


class SimpleConvNet(ConvNet):
    """The book's SimpleConvNet: conv - relu - pool - affine - relu - affine - softmax.

    input_dim: (C, H, W). conv_param: filter_num, filter_size, pad, stride of
    the one convolution (W1: (filter_num, C, filter_size, filter_size)); a 2x2
    max pool with stride 2 follows; W2: (filter_num * (OH // 2) * (OW // 2),
    hidden_size), W3: (hidden_size, output_size). Weights from
    ``weight_init_std * N(0, 1)``, biases zero, drawn with ``np.random`` in
    the book's order. ``dtype`` is beyond the book (float64 by default).

    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> net = tk.SimpleConvNet()
    >>> {k: v.shape for k, v in net.params.items()}
    {'W1': (30, 1, 5, 5), 'b1': (30,), 'W2': (4320, 100), 'b2': (100,), 'W3': (100, 10), 'b3': (10,)}
    >>> net.predict(np.zeros((2, 1, 28, 28))).shape
    (2, 10)
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01, dtype=np.float64):
        super().__init__()
        self.input_dim = _checked_input_dim(input_dim, "SimpleConvNet")
        self.conv_param = _checked_conv_param({**_SIMPLE_CONV, **conv_param}, "SimpleConvNet", "conv_param")
        hidden_size = positive_int(hidden_size, "hidden_size", "SimpleConvNet")
        output_size = positive_int(output_size, "output_size (the number of classes)", "SimpleConvNet")
        channels, height, width = self.input_dim
        out_h = _conv_output_size(height, self.conv_param, "SimpleConvNet")
        out_w = _conv_output_size(width, self.conv_param, "SimpleConvNet")
        self.conv_output_sizes = [(out_h, out_w)]  # per convolution: its output's height and width
        filters, size = self.conv_param["filter_num"], self.conv_param["filter_size"]
        pooled = filters * (out_h // 2) * (out_w // 2)
        self.W1 = _weights((filters, channels, size, size), weight_init_std, dtype)
        self.b1 = _zeros(filters, dtype)
        self.W2 = _weights((pooled, hidden_size), weight_init_std, dtype)
        self.b2 = _zeros(hidden_size, dtype)
        self.W3 = _weights((hidden_size, output_size), weight_init_std, dtype)
        self.b3 = _zeros(output_size, dtype)

    def predict(self, x):
        """Class scores (N, output_size) of images x (N, C, H, W)."""
        x = self._images(x)
        h = F.conv2d(x, self.W1, self.b1, stride=self.conv_param["stride"], pad=self.conv_param["pad"]).relu()
        h = F.max_pool2d(h, 2, 2, stride=2)
        h = F.linear(h.reshape(h.shape[0], -1), self.W2, self.b2).relu()
        return F.linear(h, self.W3, self.b3)


_DEEP_CONVS = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)


class DeepConvNet(ConvNet):
    """The book's DeepConvNet (chapter 8), over 99% on MNIST.

        conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool -
        conv - relu - conv - relu - pool -
        affine - relu - dropout - affine - dropout - softmax

    Six 3x3 convolutions (conv_param_1 ... conv_param_6, the book's defaults:
    16, 16, 32, 32 (pad 2), 64, 64 filters), 2x2 max pools with stride 2,
    W7: (64*4*4, hidden_size), W8: (hidden_size, output_size). He
    initialisation with the book's fan-ins (1*3*3, 16*3*3, 16*3*3, 32*3*3,
    32*3*3, 64*3*3, 64*4*4, hidden_size), as the book writes them. Dropout is
    the book's (not inverted, ratio 0.5), active when ``train_flg=True``;
    ``loss`` uses it, as the book's does.

    >>> import tinygrad_ko as tk
    >>> net = tk.DeepConvNet()
    >>> [tuple(v.shape) for k, v in net.params.items() if k.startswith("W")][:2], net.params["W7"].shape
    ([(16, 1, 3, 3), (16, 16, 3, 3)], (1024, 50))
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1=_DEEP_CONVS[0], conv_param_2=_DEEP_CONVS[1], conv_param_3=_DEEP_CONVS[2],
                 conv_param_4=_DEEP_CONVS[3], conv_param_5=_DEEP_CONVS[4], conv_param_6=_DEEP_CONVS[5],
                 hidden_size=50, output_size=10, dtype=np.float64):
        super().__init__()
        self.input_dim = _checked_input_dim(input_dim, "DeepConvNet")
        self.conv_params = [_checked_conv_param(p, "DeepConvNet", f"conv_param_{i + 1}")
                            for i, p in enumerate((conv_param_1, conv_param_2, conv_param_3,
                                                   conv_param_4, conv_param_5, conv_param_6))]
        hidden_size = positive_int(hidden_size, "hidden_size", "DeepConvNet")
        output_size = positive_int(output_size, "output_size (the number of classes)", "DeepConvNet")
        # The book's fan-ins, fixed as it writes them (its TODO: compute them).
        fan_ins = np.array([1 * 3 * 3, 16 * 3 * 3, 16 * 3 * 3, 32 * 3 * 3, 32 * 3 * 3, 64 * 3 * 3, 64 * 4 * 4,
                            hidden_size])
        scales = np.sqrt(2.0 / fan_ins)
        channels, height, width = self.input_dim
        self.conv_output_sizes = []  # per convolution: its output's height and width
        for i, conv in enumerate(self.conv_params):
            size = conv["filter_size"]
            setattr(self, f"W{i + 1}", _weights((conv["filter_num"], channels, size, size), scales[i], dtype))
            setattr(self, f"b{i + 1}", _zeros(conv["filter_num"], dtype))
            channels = conv["filter_num"]
            height = _conv_output_size(height, conv, "DeepConvNet")
            width = _conv_output_size(width, conv, "DeepConvNet")
            self.conv_output_sizes.append((height, width))
            if i % 2 == 1:  # a pool after every second convolution
                height, width = height // 2, width // 2
        self.W7 = _weights((channels * height * width, hidden_size), scales[6], dtype)
        self.b7 = _zeros(hidden_size, dtype)
        self.W8 = _weights((hidden_size, output_size), scales[7], dtype)
        self.b8 = _zeros(output_size, dtype)

    def predict(self, x, train_flg=False):
        """Class scores (N, output_size); ``train_flg`` switches the book's dropout to training."""
        h = self._images(x)
        for i, conv in enumerate(self.conv_params):
            W, b = getattr(self, f"W{i + 1}"), getattr(self, f"b{i + 1}")
            h = F.conv2d(h, W, b, stride=conv["stride"], pad=conv["pad"]).relu()
            if i % 2 == 1:
                h = F.max_pool2d(h, 2, 2, stride=2)
        h = F.linear(h.reshape(h.shape[0], -1), self.W7, self.b7).relu()
        h = book_dropout(h, 0.5, train_flg)
        h = F.linear(h, self.W8, self.b8)
        return book_dropout(h, 0.5, train_flg)

    def loss(self, x, t):
        """The loss with dropout in training mode, as the book's DeepConvNet.loss."""
        return F.softmax_cross_entropy(self.predict(x, train_flg=True), t)
