"""Module: the base class that finds parameters by attribute, holds buffers, switches between
training and evaluation, and saves and loads state dicts."""

import os

import numpy as np

from ..autograd import mark_changed
from ..tensor import Tensor

_assignments = 0  # counts attribute assignments on every Module: the parameter tables' cache key


class Module:
    """Base class: subclasses set parameters and sub-modules as attributes and define ``forward``.

    A parameter is a leaf Tensor that requires grad. A buffer is state that is
    saved but not trained (BatchNorm's running statistics), registered with
    ``register_buffer``. ``training`` says whether the module is in training
    mode (new modules are); ``train()`` and ``eval()`` switch it.

    >>> class Scale(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Tensor([2.0], requires_grad=True)
    ...         self.register_buffer("calls", np.zeros((), dtype=np.int64))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> m = Scale()
    >>> m(Tensor([3.0])), list(m.state_dict()), m.training, m.eval().training
    (Tensor([6.], grad_fn=<Mul>), ['w', 'calls'], True, False)
    """

    training = True  # the default, also for subclasses that do not call super().__init__()

    def __init__(self):
        pass  # kept so that subclasses can call super().__init__() as in PyTorch

    def __setattr__(self, name, value):
        global _assignments
        if value is not None and not isinstance(value, Tensor) and name in self.__dict__.get("_buffers", ()):
            raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor or None, "
                            f"not {type(value).__name__} (e.g. Tensor(array))")
        object.__setattr__(self, name, value)
        _assignments += 1  # a parameter or sub-module may have changed: rebuild the tables

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- training and evaluation ---

    def train(self, mode=True):
        """Set ``training`` to ``mode`` on this module and every sub-module; return this module.

        Layers such as BatchNorm and Dropout behave differently in the two modes.
        """
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train: mode must be True or False, got {mode!r}")
        for module in self._modules_once():
            module.__dict__["training"] = bool(mode)  # not via __setattr__: parameters did not change
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``. Returns this module."""
        return self.train(False)

    def _modules_once(self):
        """This module and every sub-module, each once, parents before children."""
        order, seen, stack = [], set(), [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            order.append(module)
            stack.extend(reversed([v for v in vars(module).values() if isinstance(v, Module)]))
        return order

    # --- parameters ---

    def parameter_table(self):
        """{name: Tensor} of every parameter, sub-modules' included, in assignment order.

        Built by walking the attributes, then kept until an attribute of some
        Module is assigned again (training steps only read it, so they pay nothing).
        """
        cached = self.__dict__.get("_parameter_table")
        if cached is None or cached[0] != _assignments:
            cached = (_assignments, dict(self._walk("", set(), parameters=True, buffers=False)))
            self.__dict__["_parameter_table"] = cached  # not via __setattr__: no invalidation
        return cached[1]

    def _walk(self, prefix, seen, parameters, buffers):
        """(name, Tensor) of the parameters and/or buffers, sub-modules' included.

        Parameters and sub-modules come in assignment order; each module's
        buffers come right after its own parameters (before its sub-modules if
        it has no parameters): PyTorch's order for PyTorch's layers. Each
        Tensor is listed once, under its first name.
        """
        own_buffers = self.__dict__.get("_buffers", ())
        entries = [(name, value) for name, value in vars(self).items()
                   if name not in own_buffers and (isinstance(value, Module) or _is_parameter(value))]
        end = max([i + 1 for i, (_, value) in enumerate(entries) if not isinstance(value, Module)], default=0)
        for i, (name, value) in enumerate(entries):
            if buffers and i == end:
                yield from self._own_buffers(prefix, seen)
            if isinstance(value, Module):
                yield from value._walk(prefix + name + ".", seen, parameters, buffers)
            elif parameters and id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value
        if buffers and end == len(entries):
            yield from self._own_buffers(prefix, seen)

    def _own_buffers(self, prefix, seen):
        for name in self.__dict__.get("_buffers", ()):
            value = self.__dict__.get(name)
            if value is not None and id(value) not in seen:
                seen.add(id(value))
                yield prefix + name, value

    def named_parameters(self):
        """(name, Tensor) for every parameter, sub-modules' included, in assignment order."""
        return iter(self.parameter_table().items())

    def parameters(self):
        """The parameter Tensors, in the order of ``named_parameters()``."""
        return list(self.parameter_table().values())

    def zero_grad(self):
        """Forget every parameter's gradient."""
        for p in self.parameter_table().values():
            p.grad = None

    # --- buffers ---

    def register_buffer(self, name, value):
        """Keep ``value`` (an array, a Tensor or None) as the buffer ``name``: an attribute holding a
        Tensor that ``state_dict`` saves but that is not a parameter (it is not trained).

        >>> m = Module()
        >>> m.register_buffer("steps", np.zeros((), dtype=np.int64))
        >>> m.steps, list(m.state_dict()), m.parameters()
        (Tensor(0), ['steps'], [])
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: the name must be a Python identifier, got {name!r}")
        buffers = self.__dict__.setdefault("_buffers", [])
        if name in self.__dict__ and name not in buffers:
            raise ValueError(f"register_buffer: {type(self).__name__} already has an attribute {name!r} "
                             f"that is not a buffer; choose another name")
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(np.asarray(value))
        if value is not None and value.requires_grad:
            raise ValueError(f"register_buffer: buffer {name!r} requires grad, but buffers are not trained; "
                             f"register a parameter instead, or pass .detach()")
        if name not in buffers:
            buffers.append(name)
        setattr(self, name, value)

    def named_buffers(self):
        """(name, Tensor) for every buffer, sub-modules' included, each once."""
        return self._walk("", set(), parameters=False, buffers=True)

    def buffers(self):
        """The buffer Tensors, in the order of ``named_buffers()``."""
        return [t for _, t in self.named_buffers()]

    def get_buffer(self, target):
        """The buffer named ``target`` (``"running_mean"``, or dotted: ``"0.running_mean"``), as PyTorch's."""
        *path, name = target.split(".")
        module = self
        for part in path:
            module = getattr(module, part, None)
            if not isinstance(module, Module):
                raise AttributeError(f"get_buffer: {target!r}: {part!r} is not a sub-module")
        if name not in module.__dict__.get("_buffers", ()):
            raise AttributeError(f"get_buffer: {target!r} is not a buffer of {type(module).__name__}; "
                                 f"its buffers are {[n for n, _ in self.named_buffers()]}")
        return module.__dict__[name]

    # --- state dicts ---

    def state_dict(self):
        """{name: copy of the array} of every parameter and buffer.

        Parameters are in the order of ``named_parameters()``; each module's
        buffers follow its own parameters (``weight, bias, running_mean,
        running_var, num_batches_tracked`` for BatchNorm, as PyTorch).
        """
        return {name: t.data.copy() for name, t in self._walk("", set(), parameters=True, buffers=True)}

    def load_state_dict(self, state_dict):
        """Copy arrays into the parameters and buffers, in place (so views like ``params`` stay valid).

        Checks names, shapes and dtypes first and raises one ValueError listing
        every mismatch; nothing is changed unless everything matches.
        """
        if isinstance(state_dict, (str, bytes, os.PathLike)):
            raise TypeError(
                f"load_state_dict takes a dict of name -> array, got the path {state_dict!r}; read the file "
                f"first: model.load_state_dict(tk.load(path))")
        own = dict(self._walk("", set(), parameters=True, buffers=True))
        copy_checked(own, state_dict, f"load_state_dict into {type(self).__name__}", "load_state_dict")


def copy_checked(own, arrays, where, how):
    """Copy ``arrays`` (name -> array or Tensor) into the Tensors ``own`` (name -> Tensor), in place.

    Checks names, shapes and dtypes first and raises one ValueError (starting
    with ``where``) listing every mismatch; nothing changes unless all match.
    Each Tensor is then marked changed by ``how`` (for the engine's in-place check).
    """
    if not hasattr(arrays, "items"):
        raise TypeError(f"{where}: expected a dict of name -> array, got {type(arrays).__name__}")
    values = {name: np.asarray(value.data if isinstance(value, Tensor) else value)
              for name, value in arrays.items()}
    problems = []
    missing = [k for k in own if k not in values]
    unexpected = [k for k in values if k not in own]
    if missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {', '.join(map(str, unexpected))}")
    for name, p in own.items():
        if name in values:
            problems += _mismatch(name, values[name], p)
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))
    for name, p in own.items():
        p.data[...] = values[name]
        mark_changed(p, how)


def _mismatch(name, value, p):
    """[] when ``value`` fits the Tensor ``p``; else one line saying what differs and how to convert."""
    if value.shape != p.shape:
        return [f"{name}: shape {value.shape} in the state dict, {p.shape} in the model"]
    if value.dtype == p.dtype:
        return []
    if value.dtype.newbyteorder("=") == p.dtype:
        return [f"{name}: dtype {value.dtype.str} in the state dict (the model's {p.dtype}, but in the other "
                f"byte order), {p.dtype} in the model; convert it with .astype(np.{p.dtype.name}) first"]
    fix = f"; convert it with .astype(np.{p.dtype.name}) first" if value.dtype.kind == p.dtype.kind else ""
    return [f"{name}: dtype {value.dtype} in the state dict, {p.dtype} in the model{fix}"]


def _is_parameter(value):
    return isinstance(value, Tensor) and value.requires_grad and value.is_leaf
