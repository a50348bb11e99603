"""The basic layers: Linear, ReLU, Sigmoid and Sequential."""

import numpy as np

from .. import functional as F
from .. import ops
from .._checks import positive_int
from ..tensor import Tensor
from .module import Module


class Linear(Module):
    """y = x @ weight.T + bias, PyTorch's ``nn.Linear`` (the book's Affine layer, W stored transposed).

    x: (N, in_features) or (..., in_features) -> y: (..., out_features).
    ``weight`` has shape (out_features, in_features) and ``bias`` (out_features,),
    PyTorch's layout, so that ``state_dict()`` loads into ``torch.nn.Linear``
    as it is (see the README, "Moving to PyTorch"). The book's W of shape
    (in, out) is ``weight.T``. Both are drawn from
    U(-1/sqrt(in_features), 1/sqrt(in_features)) as PyTorch does, using
    ``np.random`` (so ``np.random.seed`` makes it repeatable).

    >>> layer = Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape, layer(np.ones((4, 3))).shape
    ((2, 3), (2,), (4, 2))
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float64):
        super().__init__()
        self.in_features = in_features = positive_int(in_features, "in_features", "Linear")
        self.out_features = out_features = positive_int(out_features, "out_features", "Linear")
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Tensor(np.random.uniform(-bound, bound, (out_features, in_features)).astype(dtype),
                             requires_grad=True)
        if bias:
            self.bias = Tensor(np.random.uniform(-bound, bound, out_features).astype(dtype),
                               requires_grad=True)
        else:
            self.bias = None

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if self.bias is None:
            return ops.Linear.apply(x, self.weight, out_in=True)
        return ops.Linear.apply(x, self.weight, self.bias, out_in=True)

    def __repr__(self):
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


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
