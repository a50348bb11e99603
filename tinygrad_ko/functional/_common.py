"""Argument conversion shared by the functional modules."""

import numpy as np

from ..tensor import Tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _targets(t, op="loss"):
    """Targets as a Tensor; lists of ints stay integer labels (Tensor() would make them float).

    Targets that are not numbers (strings, objects, complex) are refused in ``op``'s name.
    """
    if isinstance(t, Tensor):
        return t
    t = np.asarray(t)
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{op}: targets must be integer labels or float one-hot, got dtype {t.dtype}; "
                        f"convert them first, e.g. t.astype(int) for labels")
    return Tensor(t)
