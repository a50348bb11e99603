"""Learning-rate schedules, as PyTorch's ``torch.optim.lr_scheduler``: they set the optimizer's ``lr``.

Make the scheduler after the optimizer and call its ``step()`` once per epoch,
after that epoch's updates. The values are PyTorch's (written in closed form)::

    optimizer = tk.optim.SGD(lr=0.1)
    scheduler = tk.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        for x, t in batches:
            ...
            optimizer.update(net.params, grads)
        scheduler.step()

>>> from tinygrad_ko.optim import SGD
>>> optimizer = SGD(lr=1.0)
>>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(optimizer.lr)
...     scheduler.step()
>>> lrs
[1.0, 1.0, 0.5, 0.5, 0.25]
"""

import math
import numbers

__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class: keeps the optimizer's starting ``lr`` and sets ``lr`` for each epoch.

    A subclass implements ``_lr_at(epoch)`` from ``self.base_lr``. Creating a
    scheduler sets the optimizer's ``lr`` for epoch 0 (the starting value).

    >>> from tinygrad_ko.optim import SGD
    >>> class Halving(LRScheduler):
    ...     def _lr_at(self, epoch):
    ...         return self.base_lr / 2 ** epoch
    >>> scheduler = Halving(SGD(lr=0.4))
    >>> scheduler.step(); scheduler.get_last_lr(), scheduler.optimizer.lr
    ([0.2], 0.2)
    """

    def __init__(self, optimizer):
        name = type(self).__name__
        lr = getattr(optimizer, "lr", None)
        if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
            raise TypeError(f"{name}: the optimizer must have a number attribute lr "
                            f"(a tk.optim optimizer), got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(lr)
        self.last_epoch = -1
        self.step()

    @property
    def base_lrs(self):
        """[base_lr], PyTorch's list with one entry per parameter group (tk.optim has one)."""
        return [self.base_lr]

    def step(self):
        """Move to the next epoch and set the optimizer's ``lr`` for it."""
        self.last_epoch += 1
        self.optimizer.lr = self._last_lr = self._lr_at(self.last_epoch)

    def get_last_lr(self):
        """[the lr set by the latest step()], a list as PyTorch's (one entry: tk.optim has one lr)."""
        return [self._last_lr]

    def _lr_at(self, epoch):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({args})"


def _check(name, arg, value, low, integer=False, strict=False):
    ok = isinstance(value, numbers.Integral if integer else numbers.Real) and not isinstance(value, bool)
    ok = ok and math.isfinite(value) and (value > low if strict else value >= low)
    if not ok:
        kind = "an integer" if integer else "a finite number"
        raise ValueError(f"{name}: {arg} must be {kind} {'>' if strict else '>='} {low}, got {value!r}")
    return int(value) if integer else float(value)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): multiply by ``gamma`` every ``step_size`` epochs.

    >>> from tinygrad_ko.optim import Momentum
    >>> scheduler = StepLR(Momentum(lr=0.1), step_size=3)
    >>> for _ in range(3):
    ...     scheduler.step()
    >>> scheduler.get_last_lr()
    [0.010000000000000002]
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = _check("StepLR", "step_size", step_size, 0, integer=True, strict=True)
        self.gamma = _check("StepLR", "gamma", gamma, 0)
        super().__init__(optimizer)

    def _lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)

    def _settings(self):
        return {"step_size": self.step_size, "gamma": self.gamma}


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Falls along half a cosine from base_lr to ``eta_min`` over ``T_max``
    epochs; after that it rises again, as PyTorch's does (restart it, or stop
    at T_max, to hold eta_min).

    >>> from tinygrad_ko.optim import SGD
    >>> optimizer = SGD(lr=1.0)
    >>> scheduler = CosineAnnealingLR(optimizer, T_max=4)
    >>> for _ in range(2):
    ...     scheduler.step()
    >>> round(optimizer.lr, 12)
    0.5
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = _check("CosineAnnealingLR", "T_max", T_max, 0, integer=True, strict=True)
        self.eta_min = _check("CosineAnnealingLR", "eta_min", eta_min, 0)
        super().__init__(optimizer)

    def _lr_at(self, epoch):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2

    def _settings(self):
        return {"T_max": self.T_max, "eta_min": self.eta_min}
