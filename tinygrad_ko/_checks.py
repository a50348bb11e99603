"""Argument checks shared by the nets, the layers and the functions: one message per kind of mistake.

Each check returns the value as a plain Python int or float, or raises an error
that names the function or class, the argument, the value given and what to
pass instead: ``TypeError`` for a value of the wrong type (a float or a string
where an int is needed), ``ValueError`` for one of the right type out of range.

>>> positive_int(3, "hidden_size", "TwoLayerNet")
3
>>> positive_int(0, "hidden_size", "TwoLayerNet")
Traceback (most recent call last):
ValueError: TwoLayerNet: hidden_size must be a positive int, got 0; a size is at least 1
"""

import math
import numbers

import numpy as np


def is_int(value):
    """True for Python and NumPy integers; False for bools (True is not a size), floats and the rest."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def whole_int(value):
    """The int that a float like 3.0 or a string like "3" stands for (to suggest it), or None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _described(value):
    """``'1' (str)``: the value and its type, for a message."""
    return f"{value!r} ({type(value).__name__})"


def _int_hint(value):
    """What to pass instead of a value that is not an int."""
    as_int = whole_int(value)
    if as_int is not None:
        return f"pass {as_int}"
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return f"pass a whole number such as {round(value)}"
    return "pass an int"


def positive_int(value, name, where):
    """``value`` as an int if it is an int >= 1 (NumPy integers too; bools, floats and strings refused).

    For layer sizes, channel counts, class counts, filter sizes and strides.
    """
    if not is_int(value):
        raise TypeError(f"{where}: {name} must be a positive int, got {_described(value)}; {_int_hint(value)}")
    if value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}; a size is at least 1")
    return int(value)


def non_negative_int(value, name, where):
    """``value`` as an int if it is an int >= 0 (for paddings and counts that may be 0)."""
    if not is_int(value):
        raise TypeError(f"{where}: {name} must be a non-negative int, got {_described(value)}; "
                        f"{_int_hint(value)}")
    if value < 0:
        raise ValueError(f"{where}: {name} must be a non-negative int (0 or more), got {value!r}")
    return int(value)


def positive_number(value, name, where, usual=None):
    """``value`` as a float if it is a finite real number > 0 (steps such as h and eps, batch-norm eps).

    ``usual``: the customary value, suggested in the message.
    """
    advice = f"; the usual value is {usual:g}" if usual is not None else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a finite positive number, got {_described(value)}{advice}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{where}: {name} must be a finite positive number, got {value!r}{advice}")
    return float(value)


# --- axes ---


def _range_text(ndim):
    return f"an int from {-ndim} to {ndim - 1}" if ndim else "axis=None (a 0-d tensor has no axes)"


def axis_type_error(op, axis, shape, tuples=True, ndim=None):
    """The TypeError for an ``axis`` that is not an int (or a tuple of ints, where ``tuples``).

    ``ndim``: the number of axes it may name, if not ``len(shape)`` (``shape`` may be None then).

    >>> str(axis_type_error("sum", "1", (2, 3)))
    "sum: axis must be an int or a tuple of ints, got '1' (str); for a tensor of shape (2, 3) use axis=1"
    """
    kind = "an int or a tuple of ints" if tuples else "an int"
    ndim = len(shape) if ndim is None else ndim
    tensor = f"a tensor with {ndim} dimensions" if shape is None else f"a tensor of shape {tuple(shape)}"
    if isinstance(axis, (tuple, list)) and tuples:
        bad = next((a for a in axis if not is_int(a)), None)
        got = f"{axis!r}, whose entry {_described(bad)} is not an int"
        fixed = [a if is_int(a) else whole_int(a) for a in axis]
        suggestion = (f"axis={tuple(int(a) for a in fixed)}" if None not in fixed
                      else f"a tuple of ints from {-ndim} to {ndim - 1}")
    else:
        got = _described(axis)
        fixed = whole_int(axis)
        suggestion = f"axis={fixed}" if fixed is not None and -ndim <= fixed < ndim else _range_text(ndim)
    return TypeError(f"{op}: axis must be {kind}, got {got}; for {tensor} use {suggestion}")


def axis_range_error(op, axis, ndim, shape=None):
    """The ValueError for an int axis outside [-ndim, ndim)."""
    of_shape = f" (shape {tuple(shape)})" if shape is not None else ""
    return ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions{of_shape}; "
                      f"use {_range_text(ndim)}")


def one_axis(axis, ndim, op, shape):
    """One axis in range(ndim) (negatives count from the end), or an error naming the op and the shape.

    ``ndim`` may differ from ``len(shape)`` (expand_dims counts the axes of its result).
    """
    if not is_int(axis):
        raise axis_type_error(op, axis, shape, tuples=False, ndim=ndim)
    if not -ndim <= axis < ndim:
        raise axis_range_error(op, axis, ndim, shape)
    return int(axis) % ndim
