"""tinygrad_ko: a small, exact autograd framework on NumPy for learners of
*Deep Learning from Scratch* (밑바닥부터 시작하는 딥러닝).

>>> import tinygrad_ko as tk
>>> x = tk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> loss = (x ** 2).sum()
>>> loss.backward()
>>> x.grad
Tensor([2., 4., 6.])
"""

from . import datasets, functional, nn, optim, viz
from .io import UnsafePickleError, load, load_book_params, save, save_book_params
from .autograd import Function, detect_anomaly, enable_grad, grad, is_grad_enabled, no_grad
from .creation import arange, eye, full, full_like, ones, ones_like, rand, randn, zeros, zeros_like
from .functional.tensor_ops import clip, concatenate, maximum, minimum, split, stack, where
from .numerical import (GradcheckError, gradcheck, gradgradcheck, gradient_descent,
                        numerical_diff, numerical_gradient)
from .models import DeepConvNet, MultiLayerNet, MultiLayerNetExtend, SimpleConvNet, SimpleNet, TwoLayerNet
from .tensor import Tensor
from .trainer import Trainer

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "grad", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly",
    "functional", "numerical_diff", "numerical_gradient", "gradient_descent",
    "gradcheck", "gradgradcheck", "GradcheckError",
    "nn", "SimpleNet", "TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet", "DeepConvNet",
    "optim", "save", "load", "datasets", "viz", "Trainer",
    "load_book_params", "save_book_params", "UnsafePickleError",
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "eye", "randn", "rand",
    "where", "maximum", "minimum", "clip", "concatenate", "stack", "split",
]
