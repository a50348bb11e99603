"""The book's nets (chapters 3-8) with the book's interface, their gradients by autograd.

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

from .base import BookNet, ParamsView
from .convnet import DeepConvNet, SimpleConvNet
from .mlp import MultiLayerNet, MultiLayerNetExtend, SimpleNet, TwoLayerNet
