"""Module: the base class that finds parameters by attribute and saves and loads state dicts."""

import numpy as np

from ..autograd import mark_changed
from ..tensor import Tensor

_assignments = 0  # counts attribute assignments on every Module: the parameter tables' cache key


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define ``forward``.

    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Tensor([2.0], requires_grad=True)
    ...     def forward(self, x):
    ...         return x * self.w
    >>> m = Scale()
    >>> m(Tensor([3.0])), list(m.state_dict())
    (Tensor([6.], grad_fn=<Mul>), ['w'])
    """

    def __init__(self):
        pass  # kept so that subclasses can call super().__init__() as in PyTorch

    def __setattr__(self, name, value):
        global _assignments
        object.__setattr__(self, name, value)
        _assignments += 1  # a parameter or sub-module may have changed: rebuild the tables

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def parameter_table(self):
        """{name: Tensor} of every parameter, sub-modules' included, in assignment order.

        Built by walking the attributes, then kept until an attribute of some
        Module is assigned again (training steps only read it, so they pay nothing).
        """
        cached = self.__dict__.get("_parameter_table")
        if cached is None or cached[0] != _assignments:
            cached = (_assignments, dict(self._walk_parameters("", set())))
            self.__dict__["_parameter_table"] = cached  # not via __setattr__: no invalidation
        return cached[1]

    def _walk_parameters(self, prefix, seen):
        for name, value in vars(self).items():
            if isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
                if id(value) not in seen:
                    seen.add(id(value))
                    yield prefix + name, value
            elif isinstance(value, Module):
                yield from value._walk_parameters(prefix + name + ".", seen)

    def named_parameters(self):
        """(name, Tensor) for every parameter, sub-modules' included, in assignment order."""
        return iter(self.parameter_table().items())

    def parameters(self):
        """The parameter Tensors, in the order of ``named_parameters()``."""
        return list(self.parameter_table().values())

    def zero_grad(self):
        """Forget every parameter's gradient."""
        for p in self.parameters():
            p.grad = None

    def state_dict(self):
        """{name: copy of the parameter's array}, named as ``named_parameters()``."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict):
        """Copy arrays into the parameters, in place (so views like ``params`` stay valid).

        Checks names, shapes and dtypes first and raises one ValueError listing
        every mismatch; nothing is changed unless everything matches.
        """
        own = dict(self.named_parameters())
        arrays = {name: np.asarray(value.data if isinstance(value, Tensor) else value)
                  for name, value in state_dict.items()}
        problems = []
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = arrays[name]
            if value.shape != p.shape:
                problems.append(f"{name}: shape {value.shape} in the state dict, {p.shape} in the model")
            elif value.dtype != p.dtype:
                problems.append(f"{name}: dtype {value.dtype} in the state dict, {p.dtype} in the model")
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + "; ".join(problems))
        for name, p in own.items():
            p.data[...] = arrays[name]
            mark_changed(p, "load_state_dict")
