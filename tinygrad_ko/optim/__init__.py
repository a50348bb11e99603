"""Optimizers (the book's ``common/optimizer.py``) and learning-rate schedules.

``tk.optim.SGD``, ``Momentum``, ``AdaGrad``, ``RMSprop``, ``Adam`` (in
``optimizers.py``) update a dict of params in place from a dict of grads, as
in the book; each takes ``weight_decay=``. ``tk.optim.lr_scheduler.StepLR``
and ``CosineAnnealingLR`` change an optimizer's ``lr`` once per epoch, as
PyTorch's schedulers do.

>>> import numpy as np
>>> import tinygrad_ko as tk
>>> params, grads = {"W": np.array([1.0, 2.0])}, {"W": np.array([0.0, 0.0])}
>>> tk.optim.SGD(lr=0.5, weight_decay=0.1).update(params, grads)   # g + 0.1 * W
>>> params["W"]
array([0.95, 1.9 ])
"""

from . import lr_scheduler
from .optimizers import SGD, AdaGrad, Adam, Momentum, Optimizer, RMSprop

__all__ = ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "Optimizer", "lr_scheduler"]
