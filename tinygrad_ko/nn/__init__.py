"""Modules: objects that own parameters and compute with them (PyTorch's ``nn``, simplified).

A parameter is a leaf Tensor that requires grad, assigned as an attribute of
a Module. Modules assigned as attributes are searched too, so names nest:
``Sequential(Linear(2, 3))`` has the parameters ``0.weight`` and ``0.bias``
(PyTorch's names and layouts, so state dicts move between the two).

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> model = tk.nn.Sequential(tk.nn.Linear(4, 3), tk.nn.ReLU(), tk.nn.Linear(3, 2))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
>>> model(np.ones((5, 4))).shape
(5, 2)
"""

from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .layers import Linear, ReLU, Sequential, Sigmoid
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, Dropout
from . import utils
