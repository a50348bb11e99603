"""Argument conversion shared by the functional modules."""

import numpy as np

from ..tensor import Tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _targets(t):
    """Targets as a Tensor; lists of ints stay integer labels (Tensor() would make them float)."""
    return t if isinstance(t, Tensor) else Tensor(np.asarray(t))
