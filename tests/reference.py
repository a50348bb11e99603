"""Independent references for the gradient tests: plain NumPy, never tinygrad_ko.

``numeric_vjp`` is the central-difference oracle; the ``np_*`` functions are
the book's formulas written directly in NumPy, to be differentiated by it.
"""

import numpy as np


def numeric_vjp(np_fn, arrays, w, i, h=1e-6):
    """sum(w * np_fn(*arrays)) differentiated by central differences with respect to arrays[i].

    Works on copies (float64 for arrays[i]), one element at a time. The two
    outputs are subtracted before the sum, which is the same number without
    the cancellation between two large sums; dividing by the step actually
    taken ((x + h) - (x - h), not 2h) removes the rounding of x + h.
    """
    arrays = [np.array(a) for a in arrays]
    x = arrays[i] = arrays[i].astype(np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        step = x[index]
        up = np.array(np_fn(*arrays), dtype=np.float64)    # np.array copies: np_fn may return a view of x
        x[index] = original - h
        step -= x[index]
        down = np.array(np_fn(*arrays), dtype=np.float64)
        x[index] = original
        grad[index] = np.sum(w * (up - down)) / step
    return grad


# --- the book's functions, in NumPy ---


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_relu(x):
    return np.maximum(x, 0.0)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def np_one_hot(labels, classes):
    return np.eye(classes)[labels]


def np_cross_entropy_error(y, labels):
    """The book's: -sum(log(y[label] + 1e-7)) / N, y of shape (N, C) or (C,)."""
    y2 = y.reshape(1, -1) if y.ndim == 1 else y
    labels = np.reshape(labels, -1)
    return -np.sum(np.log(y2[np.arange(y2.shape[0]), labels] + 1e-7)) / y2.shape[0]


def np_softmax_cross_entropy(x, t):
    """-sum(t * log_softmax(x)) / (number of rows); t of x's shape (one-hot, probabilities or any weights)."""
    rows = x.size // x.shape[-1]
    return -np.sum(t * np_log_softmax(x, axis=-1)) / rows
