"""Convolution, pooling and flattening modules, with PyTorch's names, layouts and defaults.

>>> import numpy as np
>>> net = Conv2d(1, 4, kernel_size=3, padding=1)
>>> net.weight.shape, net.bias.shape, net(np.ones((2, 1, 8, 8))).shape
((4, 1, 3, 3), (4,), (2, 4, 8, 8))
"""

import numpy as np

from .. import functional as F
from .._checks import positive_int
from ..ops.conv import as_pair
from ..tensor import Tensor
from .module import Module


class Conv2d(Module):
    """2-D convolution: (N, in_channels, H, W) -> (N, out_channels, OH, OW), as ``torch.nn.Conv2d``.

    weight: (out_channels, in_channels, kh, kw) and bias: (out_channels,), both
    drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    in_channels * kh * kw, PyTorch's default (kaiming_uniform with a=sqrt(5)),
    using ``np.random`` (so ``np.random.seed`` repeats it). kernel_size,
    stride and padding: an int or a pair.

    >>> Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
    Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=np.float64):
        super().__init__()
        in_channels = positive_int(in_channels, "in_channels", "Conv2d")
        out_channels = positive_int(out_channels, "out_channels", "Conv2d")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = as_pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = as_pair(stride, "stride", "Conv2d")
        self.padding = as_pair(padding, "padding", "Conv2d")
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in) if fan_in else 0.0
        shape = (out_channels, in_channels) + self.kernel_size
        self.weight = Tensor(np.random.uniform(-bound, bound, shape).astype(dtype), requires_grad=True)
        if bias:
            self.bias = Tensor(np.random.uniform(-bound, bound, out_channels).astype(dtype), requires_grad=True)
        else:
            self.bias = None

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, pad=self.padding)

    def __repr__(self):
        text = (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text + ")"


class _Pool2d(Module):
    """What the two pooling modules share: their settings, their forward and their repr.

    A subclass names its function in ``pool`` (F.max_pool2d or F.avg_pool2d).
    """

    pool = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return type(self).pool(x, self.kernel_size, stride=self.stride, pad=self.padding)

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class MaxPool2d(_Pool2d):
    """The maximum of each window, as ``torch.nn.MaxPool2d`` (stride defaults to the kernel size).

    >>> MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2, padding=0)
    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).shape
    (1, 1, 2, 2)
    """

    pool = staticmethod(F.max_pool2d)


class AvgPool2d(_Pool2d):
    """The mean of each window, padding included, as ``torch.nn.AvgPool2d`` (stride defaults to the kernel size).

    >>> AvgPool2d(2, stride=1)
    AvgPool2d(kernel_size=2, stride=1, padding=0)
    """

    pool = staticmethod(F.avg_pool2d)


class Flatten(Module):
    """Merge the axes start_dim to end_dim, as ``torch.nn.Flatten``: (N, C, H, W) -> (N, C*H*W).

    >>> Flatten()
    Flatten(start_dim=1, end_dim=-1)
    >>> Flatten()(np.ones((2, 3, 4, 4))).shape
    (2, 48)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return F.flatten(x, self.start_dim, self.end_dim)

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"
