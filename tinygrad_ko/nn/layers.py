"""The basic layers: Linear, ReLU, Sigmoid and Sequential."""

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .module import Module


class Linear(Module):
    """y = x @ W + b, the book's Affine layer.  x: (N, in_features) -> y: (N, out_features).

    W: (in_features, out_features) and b: (out_features,) (the book's layout),
    both drawn from U(-1/sqrt(in_features), 1/sqrt(in_features)) as PyTorch
    does, using ``np.random`` (so ``np.random.seed`` makes it repeatable).

    >>> layer = Linear(3, 2)
    >>> layer.W.shape, layer.b.shape, layer(np.ones((4, 3))).shape
    ((3, 2), (2,), (4, 2))
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float64):
        super().__init__()
        bound = 1.0 / np.sqrt(in_features) if in_features else 0.0
        self.W = Tensor(np.random.uniform(-bound, bound, (in_features, out_features)).astype(dtype),
                        requires_grad=True)
        if bias:
            self.b = Tensor(np.random.uniform(-bound, bound, out_features).astype(dtype),
                            requires_grad=True)
        else:
            self.b = None

    def forward(self, x):
        return F.linear(x, self.W, self.b)

    def __repr__(self):
        return f"Linear({self.W.shape[0]}, {self.W.shape[1]}, bias={self.b is not None})"


class ReLU(Module):
    """max(x, 0), elementwise.

    >>> ReLU()(np.array([-1.0, 2.0]))
    Tensor([0., 2.])
    """

    def forward(self, x):
        return F.relu(x)

    def __repr__(self):
        return "ReLU()"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise.

    >>> Sigmoid()(np.array([0.0]))
    Tensor([0.5])
    """

    def forward(self, x):
        return F.sigmoid(x)

    def __repr__(self):
        return "Sigmoid()"


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b)(x) == b(a(x))``. Index it like a list.

    >>> model = Sequential(Linear(2, 3), ReLU())
    >>> len(model), model[1]
    (2, ReLU())
    """

    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            setattr(self, str(i), module)
        self._count = len(modules)

    def __getitem__(self, i):
        return getattr(self, str(range(self._count)[i]))

    def __len__(self):
        return self._count

    def __iter__(self):
        return (self[i] for i in range(self._count))

    def forward(self, x):
        for module in self:
            x = module(x)
        return x

    def __repr__(self):
        inner = "\n".join(f"  ({i}): {m!r}" for i, m in enumerate(self))
        return f"Sequential(\n{inner}\n)"
