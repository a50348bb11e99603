"""What the book's nets share: the ``params`` view, initial weight scales, loss, accuracy, gradients."""

import numpy as np

from .. import functional as F
from .._checks import positive_int
from ..allocator import keep_freed_memory
from ..autograd import mark_changed, no_grad
from ..io import load_book_params, save, save_book_params
from ..nn import Module
from ..nn.module import copy_checked
from ..numerical import numerical_gradient as _numerical_gradient
from ..tensor import Tensor


class ParamsView(dict):
    """``{name: ndarray}`` whose arrays ARE the module's parameter data (made on each ``net.params``).

    A plain dict for reading (fast, as the optimizers need); assigning
    ``params[k] = array`` (or ``update``) copies into the parameter in place,
    so the view and the module never drift apart. Deleting is refused.
    """

    def __init__(self, module):
        self.tensors = module.parameter_table()  # name -> the parameter Tensor behind each array
        super().__init__((name, p.data) for name, p in self.tensors.items())

    def __setitem__(self, key, value):
        target = self[key]
        if value is not target:  # params[k] -= g already updated target in place
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"params[{key!r}]: shape {value.shape} does not match the parameter's "
                                 f"{target.shape}")
            target[...] = value
        mark_changed(self.tensors[key], f"net.params[{key!r}] assignment (such as -=)")

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def _refuse(self, *args, **kwargs):
        raise TypeError("params: the parameters of a net cannot be removed or added")

    __delitem__ = pop = popitem = clear = setdefault = _refuse

    def __repr__(self):
        return "ParamsView(" + ", ".join(f"{k}: {v.shape}" for k, v in self.items()) + ")"


def _init_std(weight_init_std, fan_in):
    """The book's initial weight scale: a number, or "relu"/"he" (sqrt(2/n)), "sigmoid"/"xavier" (sqrt(1/n))."""
    if isinstance(weight_init_std, str):
        name = weight_init_std.lower()
        if name in ("relu", "he"):
            return np.sqrt(2.0 / fan_in)
        if name in ("sigmoid", "xavier"):
            return np.sqrt(1.0 / fan_in)
        raise ValueError(f"weight_init_std must be a number or one of 'relu', 'he', 'sigmoid', 'xavier'; "
                         f"got {weight_init_std!r}")
    _check_init_std(weight_init_std)
    return float(weight_init_std)


def _check_init_std(weight_init_std):
    """A number weight_init_std must be finite: NaN or inf would make every weight NaN or inf."""
    if isinstance(weight_init_std, bool) or not isinstance(weight_init_std, (int, float, np.integer, np.floating)) \
            or not np.isfinite(weight_init_std):
        raise ValueError(f"weight_init_std must be a finite number (the book uses 0.01) or one of 'relu', 'he', "
                         f"'sigmoid', 'xavier'; got {weight_init_std!r}")


_ACTIVATIONS = {"relu": F.relu, "sigmoid": F.sigmoid}
_LOSSES = {"softmax_cross_entropy": F.softmax_cross_entropy,
           "cross_entropy_error": lambda scores, t: F.cross_entropy_error(F.softmax(scores), t)}


def _lookup(table, name, what):
    if name not in table:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, table))}; got {name!r}")
    return table[name]


class BookNet(Module):
    """What the book's nets share: params, loss, accuracy and both gradients.

    Subclasses define ``predict(x)`` (class scores, before softmax) and set
    ``self.loss_function``.
    """

    loss_function = "softmax_cross_entropy"

    @property
    def params(self):
        return ParamsView(self)

    def forward(self, x):
        return self.predict(x)

    def _data_loss(self, x, t):
        return _lookup(_LOSSES, self.loss_function, "loss_function")(self.predict(x), t)

    def loss(self, x, t):
        """The loss (a 0-d Tensor) on inputs x (N, input_size) and labels or one-hot t."""
        return self._data_loss(x, t)

    def training_loss(self, x, t):
        """The loss as ``gradient`` differentiates it (nets with dropout or batch norm: in training mode)."""
        return self.loss(x, t)

    def accuracy(self, x, t, batch_size=100):
        """Fraction of rows whose highest score is the label (t: labels or one-hot), as a float.

        Predicts ``batch_size`` rows at a time (as the book's conv nets do), in
        test mode; unlike the book's, a last partial batch counts too.
        """
        x = x.data if isinstance(x, Tensor) else np.asarray(x)
        t = np.asarray(t.data if isinstance(t, Tensor) else t)
        if x.ndim < 2:
            raise ValueError(f"accuracy: x must hold one row (or image) per sample, got shape {x.shape}; "
                             f"for a single sample use x[np.newaxis]")
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        if len(t) != len(x):
            raise ValueError(f"accuracy: {len(x)} inputs but {len(t)} labels")
        positive_int(batch_size, "batch_size", "accuracy")
        step = max(int(batch_size), 1)
        correct = 0
        with no_grad():
            for start in range(0, len(x), step):
                scores = self.predict(x[start:start + step]).data
                correct += int(np.sum(np.argmax(scores, axis=1) == t[start:start + step]))
        return correct / len(x) if len(x) else float("nan")

    def gradient(self, x, t):
        """Gradients of the loss by backprop: {name: new ndarray} keyed like ``params``."""
        return self.loss_and_gradient(x, t)[1]

    def loss_and_gradient(self, x, t):
        """(loss as a float, gradients as ``gradient`` gives them) from one forward and one backward pass.

        The first call keeps freed memory in the process from then on (``tinygrad_ko.allocator``),
        as a training run does: the book's loop calls this every step, and a conv net's step
        would otherwise get its large arrays from the system page by page, every step.
        """
        keep_freed_memory()
        table = self.parameter_table()
        for p in table.values():  # zero_grad
            p.grad = None
        loss = self.training_loss(x, t)
        loss.backward()
        return loss.item(), {name: p.grad.data for name, p in table.items()}

    def save_params(self, file_name="params.pkl"):
        """Write ``params`` in the book's pickle format (the book's own load_params reads it); ``.npz`` too.

        A name ending in ``.npz`` gives an ``.npz`` file (``tk.load`` reads it), any other the book's
        pickle of a dict of arrays.
        """
        params = {name: p.data.copy() for name, p in self.named_parameters()}
        if str(file_name).endswith(".npz"):
            save(params, file_name)
        else:
            save_book_params(params, file_name)

    def load_params(self, file_name="params.pkl"):
        """Load the book's weight file (its pickle, read safely) or an ``.npz`` into ``params``, in place.

        Names, shapes and dtypes are checked first, as ``load_state_dict`` does; nothing changes on a
        mismatch. The book's files are read by ``tk.load_book_params``, which refuses anything but
        plain arrays (a pickle can run code when loaded with ``pickle.load``).
        """
        arrays = load_book_params(file_name)
        copy_checked(self.parameter_table(), arrays, f"load_params of {file_name!r} into {type(self).__name__}",
                     "load_params")

    def numerical_gradient(self, x, t):
        """Gradients by central differences (slow: 2 forward passes per parameter element).

        Each parameter is perturbed in place and restored exactly, even on Ctrl-C.
        """
        with no_grad():
            def loss_W(_):
                return self.training_loss(x, t).item()
            return {name: _numerical_gradient(loss_W, p.data) for name, p in self.named_parameters()}
