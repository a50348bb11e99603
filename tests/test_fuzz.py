"""Fuzzing with the nasty floats: NaN, ±Inf, ±0.0, denormals, 1e300, empty and 0-d arrays, float32 with float64.

The property tests (test_op_gradients.py) check the math on tame inputs; these
check what happens at the edges, where learners' runs actually die:

- forward agrees with the same expression in plain NumPy (under
  ``np.errstate(all="ignore")``), value by value with NaN equal to NaN, and the
  result dtype follows NumPy's promotion;
- an invalid shape or axis raises ValueError, IndexError or TypeError naming the
  op exactly where NumPy raises too, and nothing else is ever raised (no
  FloatingPointError unless ``detect_anomaly`` is on, no OverflowError, ...);
- the ops documented stable (sigmoid, softmax, log_softmax,
  softmax_cross_entropy) emit no NumPy warning at any finite input;
- backward runs on the same graphs with a random upstream gradient and gives
  each leaf a gradient of its shape and dtype, equal (NaN where the formula
  gives NaN) to a naive chain rule over the recorded ops written here in NumPy;
- axes and sizes of the wrong type (``axis="1"``, ``1.0``, ``True``, a float size
  in reshape) are a TypeError naming the op, as NumPy refuses them too;
- hostile files (random bytes, damaged ``.npz`` and book pickles, pickles naming
  random globals, IDX and pickle headers declaring sizes they do not hold) make
  ``tk.load``, ``tk.load_book_params`` and ``read_idx`` return plain arrays or
  raise ValueError or UnsafePickleError, and nothing else: no other exception,
  no call of anything the file names, no allocation of a declared size.

Each op's NumPy reference is applied to the arrays tinygrad_ko actually fed the
op, so rounding does not compound along a program and the comparison stays tight.
"""

import contextlib
import gzip
import io
import math
import os
import pickle
import struct
import tempfile
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko import Tensor, UnsafePickleError
from tinygrad_ko.datasets import read_idx

DOCUMENTED = (ValueError, IndexError, TypeError)

# Examples per test: each takes a millisecond or two, so ci affords a few hundred (a few
# tenths of a second per test); intense runs a few thousand (the whole file in about two minutes).
EXAMPLES = {"dev": 20, "ci": 250, "intense": 3000}.get(os.environ.get("HYPOTHESIS_PROFILE", "ci"), 250)
FUZZ = settings(max_examples=EXAMPLES)

SPECIAL = [
    math.nan, math.inf, -math.inf, 0.0, -0.0,
    5e-324, -5e-324, 2.2250738585072014e-308, 1e-310,   # float64 denormals and the smallest normal
    1e-45, 1.1754943508222875e-38,                       # float32's smallest denormal and normal
    1e-300, -1e-300, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308,
    3.4e38, -3.4e38, 1e38,
    1.0, -1.0, 0.5, -2.0, 3.0, 88.7, -88.7, 103.9, 709.8, -709.8, -745.2,
]
ANY_FLOAT = st.one_of(st.sampled_from(SPECIAL), st.floats(-10, 10), st.floats())
FINITE = st.one_of(st.sampled_from([v for v in SPECIAL if math.isfinite(v)]),
                   st.floats(-10, 10), st.floats(allow_nan=False, allow_infinity=False))
GRAD_VALUES = st.one_of(st.floats(-10, 10), st.sampled_from([0.0, -0.0, 1.0, math.nan, 1e30, 5e-324]))
DTYPES = st.sampled_from([np.float32, np.float64])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


@st.composite
def float_arrays(draw, shape=None, dtype=None, elements=ANY_FLOAT, finite=False):
    """float32 or float64 arrays; 1e300 becomes inf in float32 (as NumPy casts) unless finite=True."""
    shape = draw(SHAPES) if shape is None else shape
    dtype = draw(DTYPES) if dtype is None else dtype
    values = draw(hnp.arrays(np.float64, shape, elements=elements))
    if finite:
        big = float(np.finfo(dtype).max)
        values = np.clip(values, -big, big)
    return cast(values, dtype)


def cast(value, dtype):
    with np.errstate(all="ignore"):
        return np.asarray(value).astype(dtype) if isinstance(value, np.ndarray) else np.dtype(dtype).type(value)


@contextlib.contextmanager
def quiet():
    """NumPy's own warnings about NaN and overflow are not what these tests look at."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


@contextlib.contextmanager
def promotion(state):
    """NumPy 1.24-1.26's promotion rule switch ("weak" is NEP 50, NumPy 2's only rule); a no-op on NumPy 2."""
    switch = getattr(np, "_set_promotion_state", None)
    if switch is None:
        yield
        return
    previous = np._get_promotion_state()
    switch(state)
    try:
        yield
    finally:
        switch(previous)


def numpy_result(fn, *args, state="legacy"):
    """fn(*args) in plain NumPy, or the documented exception it raises."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings(), promotion(state):
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.asarray(fn(*args))
    except DOCUMENTED as error:
        return error


def numpy_reference(fn, *args, dtype=None):
    """numpy_result; on NumPy 1.x, where tinygrad_ko follows NumPy 2's rule for Python numbers
    (float32 * 2.0 stays float32 even for 0-d arrays) and NumPy's own rule between arrays, the result
    under whichever of the two rules gives ``dtype``."""
    expected = numpy_result(fn, *args)
    if hasattr(np, "_set_promotion_state") and getattr(expected, "dtype", dtype) != dtype:
        weak = numpy_result(fn, *args, state="weak")
        if getattr(weak, "dtype", None) == dtype:
            return weak
    return expected


def assert_matches(actual, expected, rtol, atol=0.0):
    """Same shape and dtype, NaN where NaN, ±inf where ±inf, and the finite values close."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    if expected.dtype.kind == "f":
        atol += 2 * np.finfo(expected.dtype).tiny
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)


def finite_spread(a):
    """max - min of the finite entries (0 if none): the scale of softmax's rounding errors."""
    finite = np.asarray(a, dtype=np.float64)[np.isfinite(a)]
    with np.errstate(all="ignore"):
        return float(finite.max() - finite.min()) if finite.size else 0.0


def softmax_atol(a, dtype):
    """Softmax may subtract one shift for all slices (a valid choice): then the largest term of
    a slice is no longer exp(0) = 1 exactly, and the absolute error grows with how far the
    slices lie apart, a few eps times (1 + the spread of x)."""
    return 8 * np.finfo(dtype).eps * (1 + min(finite_spread(a), 1e3))


def rtol_for(dtype, exact):
    """Ops that call the same NumPy function agree to the last bit; composites to a few ulps."""
    if exact:
        return 0
    return 1e-5 if np.dtype(dtype) == np.float32 else 1e-12


def unbroadcast(g, shape):
    """Sum g (of a broadcast shape) back down to ``shape``: the reference for every binary op."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def kept_shape(shape, axis):
    axes = range(len(shape)) if axis is None else [a % len(shape) for a in np.atleast_1d(axis)]
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def assert_matmul_matches(actual, expected, x, y):
    """x @ y against np.matmul: NaN and ±inf exactly where np.matmul has them; finite entries
    within the rounding bound of a dot product, 8 eps (|x| @ |y|), whatever the summation order."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg="NaN positions")
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(actual[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)])
    with np.errstate(all="ignore"):
        bound = 8 * np.finfo(expected.dtype).eps * np.matmul(np.abs(x), np.abs(y)) + np.finfo(expected.dtype).tiny
        error = np.abs(actual.astype(np.float64) - expected)
    assert (error[finite] <= bound[finite]).all(), (actual, expected)


# --- the ops: a tinygrad_ko call, the same expression in NumPy, and the chain rule in NumPy ---
#
# Each op is given to Program.run as: the names an error may use for it (the user-facing
# name, or its Function's; test_errors.py pins the user-facing one), run_tk(operands, params)
# (the tinygrad_ko call), run_np(arrays, params) (the same expression in NumPy), and
# vjp(g, arrays, out, params) (one NumPy gradient per input, before the engine casts it to
# the input's dtype), and how forward is compared (see Program.run).


def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def np_softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True, initial=-np.inf))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(a, axis):
    z = a - np.max(a, axis=axis, keepdims=True, initial=-np.inf)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def pow_vjp(g, arrays, out, c):
    (x,) = arrays
    if c == 0:
        return [g * 0.0]
    return [g * (x ** (c - 1) * c)]


UNARY = {
    # name: (run_tk(t, p), run_np(a, p), vjp, check)
    "neg": (lambda t, p: -t, lambda a, p: -a, lambda g, xs, out, p: [-g], "exact"),
    "exp": (lambda t, p: t.exp(), lambda a, p: np.exp(a), lambda g, xs, out, p: [g * out], "exact"),
    "log": (lambda t, p: t.log(), lambda a, p: np.log(a), lambda g, xs, out, p: [g / xs[0]], "exact"),
    "sqrt": (lambda t, p: t.sqrt(), lambda a, p: np.sqrt(a), lambda g, xs, out, p: [g / (out * 2.0)], "exact"),
    "relu": (lambda t, p: t.relu(), lambda a, p: np.maximum(a, 0), lambda g, xs, out, p: [g * (xs[0] > 0)], "exact"),
    "tanh": (lambda t, p: t.tanh(), lambda a, p: np.tanh(a), lambda g, xs, out, p: [g * (1.0 - out * out)], "exact"),
    "sigmoid": (lambda t, p: t.sigmoid(), lambda a, p: np_sigmoid(a),
                lambda g, xs, out, p: [g * (out * (1.0 - out))], "close"),
    "pow": (lambda t, c: t ** c, lambda a, c: a ** c, pow_vjp, "exact"),
}
EXPONENTS = st.sampled_from([2, 3, 0, 1, -1, 0.5, -0.5, 1.5, 2.0, -2])

BINARY = {
    "add": (lambda x, y: x + y, lambda g, x, y, out: [unbroadcast(g, np.shape(x)), unbroadcast(g, np.shape(y))]),
    "sub": (lambda x, y: x - y, lambda g, x, y, out: [unbroadcast(g, np.shape(x)), unbroadcast(-g, np.shape(y))]),
    "mul": (lambda x, y: x * y, lambda g, x, y, out: [unbroadcast(g * y, np.shape(x)),
                                                      unbroadcast(g * x, np.shape(y))]),
    "div": (lambda x, y: x / y, lambda g, x, y, out: [unbroadcast(g / y, np.shape(x)),
                                                      unbroadcast(-((g / y) * out), np.shape(y))]),
}


def max_weights(a, axis, keepdims):
    """The documented convention: ties share the gradient evenly; a NaN is the maximum of its slice."""
    m = np.max(a, axis=axis, keepdims=True)
    is_max = (a == m) | (np.isnan(a) & np.isnan(m))
    return is_max / is_max.sum(axis=axis, keepdims=True)


def reduction_vjp(name):
    def vjp(g, arrays, out, p):
        (x,), (axis, keepdims) = arrays, p
        g = g.reshape(kept_shape(x.shape, axis)) if x.ndim else g
        if name == "sum":
            return [np.broadcast_to(g, x.shape)]
        if name == "mean":
            count = np.prod([x.shape[a] for a in range(x.ndim)] if axis is None
                            else [x.shape[a] for a in np.atleast_1d(axis)], dtype=int)
            return [np.broadcast_to(g / np.asarray(count, dtype=g.dtype), x.shape)]
        source = x if name == "max" else -x
        return [g * max_weights(source, axis, keepdims).astype(x.dtype)]
    return vjp


REDUCTIONS = {name: (lambda name: (lambda t, p: getattr(t, name)(axis=p[0], keepdims=p[1]),
                                   lambda a, p: getattr(np, name)(a, axis=p[0], keepdims=p[1])))(name)
              for name in ("sum", "mean", "max", "min")}


def matmul_vjp(g, arrays, out, p):
    x, y = arrays
    xm = x.reshape(1, -1) if x.ndim == 1 else x
    ym = y.reshape(-1, 1) if y.ndim == 1 else y
    batch = np.broadcast_shapes(xm.shape[:-2], ym.shape[:-2])
    gm = g.reshape(batch + (xm.shape[-2], ym.shape[-1]))
    gx = unbroadcast(np.matmul(gm, np.swapaxes(ym, -1, -2)), xm.shape).reshape(x.shape)
    gy = unbroadcast(np.matmul(np.swapaxes(xm, -1, -2), gm), ym.shape).reshape(y.shape)
    return [gx, gy]


def getitem_vjp(g, arrays, out, index):
    (x,) = arrays
    grad = np.zeros(x.shape, dtype=g.dtype)
    np.add.at(grad, index, g)
    return [grad]


def transpose_vjp(g, arrays, out, axes):
    return [g.transpose() if not axes else g.transpose(np.argsort([a % g.ndim for a in axes]))]


def softmax_vjp(g, arrays, out, axis):
    return [out * (g - (g * out).sum(axis=axis, keepdims=True))]


def log_softmax_vjp(g, arrays, out, axis):
    return [g - np.exp(out) * g.sum(axis=axis, keepdims=True)]


def sce_reference(x, t):
    """The mean over rows of -sum(t * log_softmax(x)), as the mean of the rows' losses.

    Each term is divided by the row count before the float64 sum: where every row's loss fits
    the dtype, so does the mean (a plain sum could overflow first). Cross-entropy's convention
    0 * log 0 = 0: a target of 0 adds nothing, even where log p is -inf.
    """
    rows = x.size // x.shape[-1]
    log_p = np_log_softmax(x, -1)
    if t.dtype.kind in "iu":
        terms = -np.take_along_axis(log_p, t[..., None].astype(np.intp), axis=-1)
    else:
        with np.errstate(invalid="ignore"):
            terms = -(t.astype(x.dtype) * log_p)
        terms[(t == 0) & np.isinf(log_p)] = 0
    mean = (terms / rows).sum(dtype=np.float64) if rows else np.nan
    return np.asarray(mean, dtype=x.dtype)


def sce_vjp(g, arrays, out, t):
    (x,) = arrays
    rows = x.size // x.shape[-1]
    probs = np_softmax(x, -1)
    scale = g / rows
    if t.dtype.kind in "iu":
        onehot = np.zeros(x.shape, x.dtype)
        np.put_along_axis(onehot, t[..., None].astype(np.intp), 1, axis=-1)
        return [(probs - onehot) * scale]
    t = t.astype(x.dtype)
    return [(probs * t.sum(axis=-1, keepdims=True) - t) * scale]


# --- strategies for the ops' parameters ---


@st.composite
def axis_arguments(draw, ndim, allow_invalid=True):
    """None, an int or a tuple of ints; sometimes out of range or repeated."""
    valid = st.one_of(st.none(), st.integers(-ndim, ndim - 1) if ndim else st.nothing(),
                      hnp.valid_tuple_axes(ndim))
    if not allow_invalid:
        return draw(valid)
    invalid = st.one_of(st.integers(-ndim - 2, ndim + 1),
                        st.lists(st.integers(-ndim - 1, ndim), min_size=1, max_size=3).map(tuple),
                        WRONG_AXES)
    return draw(st.one_of(valid, valid, invalid))


# Axes of the wrong type, as learners write them: NumPy refuses each with a TypeError, and so
# must tinygrad_ko, naming the op (never "axis 1 is out of range").
WRONG_AXES = st.sampled_from(["1", "0", "-1", 1.0, 0.0, True, (0, "1"), (0.0,)])


@st.composite
def reshape_targets(draw, shape):
    size = math.prod(shape)
    if draw(st.booleans()):
        target = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    else:                                                 # the same size, shuffled into new sides
        target = list(shape)
        draw(st.randoms(use_true_random=False)).shuffle(target)
        if size and draw(st.booleans()):
            target = [size] + [1] * draw(st.integers(0, 2))
        target = tuple(target)
    if target and draw(st.booleans()):
        i = draw(st.integers(0, len(target) - 1))
        target = target[:i] + (draw(st.sampled_from([-1, -1, -1, float(target[i]), str(target[i])])),) \
            + target[i + 1:]                         # a float or a string size: a TypeError naming reshape
    return target


@st.composite
def transpose_axes(draw, ndim):
    choice = draw(st.sampled_from(["none", "perm", "negative", "junk"]))
    if choice == "none":
        return None
    if choice == "junk":
        return tuple(draw(st.lists(st.integers(-ndim - 1, ndim + 1), max_size=4)))
    perm = draw(st.permutations(range(ndim)))
    return tuple(a - ndim if choice == "negative" and draw(st.booleans()) else a for a in perm)


@st.composite
def indices(draw, shape):
    kinds = ["basic", "int", "list", "mask", "oob"]
    kind = draw(st.sampled_from(kinds))
    if kind == "basic" or not shape:
        return draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    if kind == "mask":
        return draw(hnp.arrays(bool, shape[:draw(st.integers(1, len(shape)))]))
    if kind == "oob":
        axis = draw(st.integers(0, len(shape) - 1))
        bad = draw(st.sampled_from([shape[axis], shape[axis] + 2, -shape[axis] - 1]))
        return (slice(None),) * axis + (bad,)
    n = shape[0]
    picks = draw(st.lists(st.integers(-n, n - 1), max_size=4)) if n else []
    if kind == "list":
        return picks
    return np.array(picks, dtype=np.intp)


@st.composite
def matmul_partner_shapes(draw, shape):
    if draw(st.booleans()) or not shape:
        return draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    k = shape[-1]
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=3))
    n = draw(st.integers(0, 3))
    return draw(st.sampled_from([(k,), (k, n), batch + (k, n)]))


# --- one step: run an op on tinygrad_ko and on NumPy, and compare ---


class Ref:
    """A tensor of the graph, by its position (a bare int would be a Python-number operand)."""

    def __init__(self, index):
        self.index = index


class Program:
    """A growing graph of tensors: each step applies a random op to earlier results and checks it."""

    def __init__(self, data, anomaly=False):
        self.data = data
        self.anomaly = anomaly
        self.tensors = []          # every tensor made, leaves first
        self.copies = []           # a copy of each tensor's data when it was made
        self.steps = []            # (output index, vjp, [input index or None], arrays, params)

    def draw(self, strategy, label=None):
        return self.data.draw(strategy, label=label)

    def add(self, tensor):
        self.tensors.append(tensor)
        self.copies.append(tensor.data.copy())
        return Ref(len(self.tensors) - 1)

    def add_leaf(self):
        array = self.draw(float_arrays(), label="leaf")
        return self.add(Tensor(array, requires_grad=self.draw(st.booleans(), label="requires_grad")))

    def pick(self):
        return Ref(self.draw(st.integers(0, len(self.tensors) - 1), label="operand"))

    def tensor(self, ref):
        return self.tensors[ref.index]

    def constant(self, like_shape):
        """An operand that is not a tensor of the graph: ndarray, Python number or NumPy scalar."""
        kind = self.draw(st.sampled_from(["ndarray", "python float", "python int", "numpy scalar", "tensor"]))
        if kind in ("ndarray", "tensor"):
            shapes = st.one_of(hnp.broadcastable_shapes(like_shape, min_dims=0, max_dims=3, min_side=0, max_side=3),
                               SHAPES)
            array = self.draw(float_arrays(shape=self.draw(shapes)), label="constant")
            return array if kind == "ndarray" else Tensor(array)
        if kind == "python float":
            return self.draw(ANY_FLOAT, label="constant")
        if kind == "python int":
            return self.draw(st.integers(-3, 3), label="constant")
        return cast(self.draw(ANY_FLOAT, label="constant"), self.draw(DTYPES))

    def run(self, names, run_tk, run_np, inputs, params, vjp, check, stricter=False):
        """Check the op against NumPy and add its result to the graph.

        inputs: Ref(i) for a tensor of the graph, or a constant. check: how forward is
        compared, "exact" (the same NumPy function: to the last bit), "close" (a few ulps),
        "softmax" or "matmul" (their rounding bounds). stricter: tinygrad_ko may refuse
        (with a documented error naming the op) a call that NumPy accepts.
        """
        operands = [self.tensors[i.index] if isinstance(i, Ref) else i for i in inputs]
        arrays = [o.data if isinstance(o, Tensor) else o for o in operands]
        try:
            with quiet():
                out = run_tk(*operands, params)
        except (FloatingPointError,) + DOCUMENTED:
            out = None
        expected = numpy_reference(lambda *a: run_np(*a, params), *arrays,
                                   dtype=None if out is None else out.data.dtype)
        try:
            if out is None:
                with quiet():
                    out = run_tk(*operands, params)
        except FloatingPointError as error:
            assert self.anomaly, f"FloatingPointError without detect_anomaly: {error}"
            assert not isinstance(expected, Exception)
            assert any(str(error).startswith(n) for n in names), str(error)
            inputs_finite = all(np.isfinite(a).all() for a in arrays if np.asarray(a).dtype.kind == "f")
            assert inputs_finite and not np.isfinite(expected).all(), (
                f"anomaly raised, but the inputs were not all finite or the output was: {error}")
            return None
        except DOCUMENTED as error:
            assert stricter or isinstance(expected, Exception), (
                f"NumPy gives {expected!r}, tinygrad_ko raised {error!r}")
            assert any(n in str(error) for n in names), f"{names} not named in {error!r}"
            return None
        assert not isinstance(expected, Exception), f"NumPy raised {expected!r}, tinygrad_ko gave {out!r}"
        assert isinstance(out, Tensor)
        if check == "matmul":
            assert_matmul_matches(out.data, expected, *arrays)
        elif check == "softmax":
            assert_matches(out.data, expected, rtol_for(expected.dtype, False),
                           softmax_atol(arrays[0], expected.dtype))
        else:
            assert_matches(out.data, expected, rtol_for(expected.dtype, check == "exact"))
        if self.anomaly:
            # It did not raise, so the output is finite or an input already was not.
            finite_in = all(np.isfinite(a).all() for a in arrays if np.asarray(a).dtype.kind == "f")
            assert not finite_in or np.isfinite(out.data).all(), "an anomaly was not detected"
        self.check_nan_stays_nan(names[0], arrays, out.data, params)
        ref = self.add(out)
        self.steps.append((ref.index, vjp, [i.index if isinstance(i, Ref) else None for i in inputs], arrays, params))
        return ref

    @staticmethod
    def check_nan_stays_nan(name, arrays, out, params):
        """Elementwise ops: a NaN in an input gives a NaN in the output there (NaN ** 0 = 1 aside)."""
        if name not in UNARY and name not in BINARY or (name == "pow" and params == 0):
            return
        nan = np.zeros(out.shape, bool)
        for a in arrays:
            nan |= np.broadcast_to(np.isnan(np.asarray(a, dtype=np.float64)), out.shape)
        assert np.isnan(out[nan]).all()

    # --- the op families ---

    def unary(self):
        name = self.draw(st.sampled_from(sorted(UNARY)), label="unary")
        run_tk, run_np, vjp, check = UNARY[name]
        params = self.draw(EXPONENTS, label="exponent") if name == "pow" else None
        functional = name in ("exp", "log", "sqrt", "relu", "sigmoid", "tanh") and self.draw(st.booleans())
        if functional:                                     # tk.functional's form of the same op
            run_tk = (lambda fn: lambda t, p: fn(t))(getattr(F, name))
        return self.run([name], run_tk, lambda a, p: run_np(a, p), [self.pick()], params, vjp, check)

    def binary(self):
        name = self.draw(st.sampled_from(sorted(BINARY)), label="binary")
        fn, vjp = BINARY[name]
        x = self.pick()
        side = self.draw(st.sampled_from(["graph", "constant right", "constant left"]), label="other operand")
        if side == "graph":
            inputs = [x, self.pick()]
        else:
            c = self.constant(self.tensor(x).shape)
            inputs = [x, c] if side == "constant right" else [c, x]
        return self.run([name], lambda a, b, p: fn(a, b), lambda a, b, p: fn(a, b), inputs, None,
                        lambda g, arrays, out, p: vjp(g, *arrays, out), "exact")

    def matmul(self):
        x = self.pick()
        if self.draw(st.booleans()):
            y = self.pick()
        else:
            shape = self.draw(matmul_partner_shapes(self.tensor(x).shape))
            y = self.add(Tensor(self.draw(float_arrays(shape=shape)), requires_grad=self.draw(st.booleans())))
        return self.run(["matmul"], lambda a, b, p: a @ b, lambda a, b, p: np.matmul(a, b), [x, y], None,
                        matmul_vjp, "matmul")

    def reduction(self):
        name = self.draw(st.sampled_from(sorted(REDUCTIONS)), label="reduction")
        x = self.pick()
        params = (self.draw(axis_arguments(self.tensor(x).ndim), label="axis"), self.draw(st.booleans()))
        run_tk, run_np = REDUCTIONS[name]
        names = [name, "max"] if name == "min" else [name]
        # NumPy's legacy quirk lets a 0-d array be reduced over axis 0 or -1; refusing that is fine.
        stricter = self.tensor(x).ndim == 0 and params[0] is not None
        check = "close" if name == "mean" else "exact"
        return self.run(names, run_tk, run_np, [x], params, reduction_vjp(name), check, stricter)

    def softmax(self):
        name = self.draw(st.sampled_from(["softmax", "log_softmax"]))
        x = self.pick()
        ndim = self.tensor(x).ndim
        axis = self.draw(st.one_of(st.just(-1), st.integers(-ndim - 1, ndim), WRONG_AXES), label="axis")
        fn, ref, vjp = ((F.softmax, np_softmax, softmax_vjp) if name == "softmax"
                        else (F.log_softmax, np_log_softmax, log_softmax_vjp))
        # A 0-d tensor has no classes: tinygrad_ko refuses it (NumPy's axis -1 of a 0-d array is lenient).
        return self.run([name, name.replace("_", "")], lambda t, p: fn(t, axis=p), ref, [x], axis, vjp, "softmax",
                        stricter=ndim == 0)

    def cross_entropy(self):
        x = self.pick()
        shape = self.tensor(x).shape
        if not shape or shape[-1] == 0:
            return None
        if self.draw(st.booleans()):
            t = self.draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1)), label="labels")
        else:
            t = self.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)), label="soft targets")
        return self.run(["softmax_cross_entropy"], lambda a, p: F.softmax_cross_entropy(a, p),
                        sce_reference, [x], t, sce_vjp, "softmax")

    def movement(self):
        x = self.pick()
        shape = self.tensor(x).shape
        kind = self.draw(st.sampled_from(["reshape", "reshape varargs", "transpose", "transpose varargs", "T",
                                          "getitem"]), label="movement")
        if kind.startswith("reshape"):
            target = self.draw(reshape_targets(shape), label="target")
            call = (lambda t, p: t.reshape(*p)) if kind == "reshape varargs" else (lambda t, p: t.reshape(p))
            if kind == "reshape varargs" and not target:
                return None                              # t.reshape() with no sizes is not a call NumPy has
            return self.run(["reshape"], call, lambda a, p: a.reshape(p), [x], target,
                            lambda g, arrays, out, p: [g.reshape(arrays[0].shape)], "exact")
        if kind == "T":
            return self.run(["transpose"], lambda t, p: t.T, lambda a, p: a.T, [x], None, transpose_vjp, "exact")
        if kind.startswith("transpose"):
            axes = self.draw(transpose_axes(len(shape)), label="axes")
            if axes is None:
                call, ref = (lambda t, p: t.transpose()), (lambda a, p: a.transpose())
            elif kind == "transpose varargs":
                call, ref = (lambda t, p: t.transpose(*p)), (lambda a, p: a.transpose(*p))
            else:
                call, ref = (lambda t, p: t.transpose(p)), (lambda a, p: a.transpose(p))
            return self.run(["transpose"], call, ref, [x], axes, transpose_vjp, "exact")
        index = self.draw(indices(shape), label="index")
        return self.run(["getitem"], lambda t, p: t[p], lambda a, p: a[p], [x], index, getitem_vjp, "exact")

    def random_step(self):
        family = self.draw(st.sampled_from(["unary", "unary", "binary", "binary", "reduction", "movement",
                                            "matmul", "softmax", "cross_entropy"]), label="op family")
        return getattr(self, family)()

    # --- backward ---

    def reference_grads(self, root, g):
        """The chain rule over the recorded steps, in NumPy, last step first."""
        grads = {root: g}
        for out, vjp, inputs, arrays, params in reversed(self.steps):
            if out not in grads:
                continue
            with np.errstate(all="ignore"):
                gxs = vjp(grads[out], arrays, self.tensors[out].data, params)
            for i, gx in zip(inputs, gxs):
                if i is None or not self.tensors[i].requires_grad:
                    continue
                with np.errstate(all="ignore"):
                    gx = np.asarray(gx).astype(self.tensors[i].dtype)
                    grads[i] = gx if i not in grads else grads[i] + gx
        return grads

    def backward_and_check(self):
        roots = [i for i, t in enumerate(self.tensors) if t.requires_grad and not t.is_leaf]
        if not roots:
            return
        root = self.draw(st.sampled_from(roots), label="backward from")
        out = self.tensors[root]
        g = self.draw(hnp.arrays(out.dtype, out.shape, elements=GRAD_VALUES.map(lambda v: cast(v, out.dtype))),
                      label="grad")
        g_copy = g.copy()
        with quiet():
            out.backward(g)
        np.testing.assert_array_equal(g, g_copy)          # the upstream gradient is not written into
        expected = self.reference_grads(root, g)
        for i, t in enumerate(self.tensors):
            np.testing.assert_array_equal(t.data, self.copies[i])   # nothing was written into any tensor
            if not t.is_leaf:
                assert t.grad is None
                continue
            if i not in expected:
                assert t.grad is None
                continue
            assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == t.dtype
            # Sums may be added in another order, and a backward may cancel differently (p * g - g
            # for (p - 1) * g): compare each entry to within rtol of the larger of the largest entry
            # and the upstream gradient (the usual norm-wise check for gradients).
            rtol = 1e-5 if t.dtype == np.float32 else 1e-9
            finite = np.abs(np.concatenate([expected[i][np.isfinite(expected[i])], g[np.isfinite(g)]]))
            scale = float(finite.max()) if finite.size else 0.0
            assert_matches(t.grad.data, expected[i], rtol, rtol * scale if np.isfinite(scale) else 0.0)


# --- the tests ---


@FUZZ
@given(data=st.data())
def test_unary_ops_at_special_values(data):
    program = Program(data)
    program.add_leaf()
    program.unary()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_binary_ops_with_broadcasting_mixed_dtypes_and_every_kind_of_operand(data):
    program = Program(data)
    program.add_leaf()
    program.add_leaf()
    program.binary()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_reductions_with_random_axes(data):
    program = Program(data)
    program.add_leaf()
    program.reduction()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_reshape_transpose_and_indexing(data):
    program = Program(data)
    program.add_leaf()
    program.movement()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_matmul_with_random_shapes(data):
    program = Program(data)
    program.add_leaf()
    program.matmul()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_softmax_family_at_special_values(data):
    program = Program(data)
    program.add_leaf()
    program.draw(st.sampled_from([program.softmax, program.cross_entropy]))()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_random_op_sequences(data):
    program = Program(data)
    for _ in range(data.draw(st.integers(1, 3), label="leaves")):
        program.add_leaf()
    for _ in range(data.draw(st.integers(1, 8), label="steps")):
        program.random_step()
    program.backward_and_check()


@FUZZ
@given(data=st.data())
def test_detect_anomaly_raises_exactly_when_an_op_turns_finite_inputs_into_nan_or_inf(data):
    # Only ops that are one Function each: then "the op" of the error is the op called.
    program = Program(data, anomaly=True)
    program.add_leaf()
    program.add_leaf()
    family = data.draw(st.sampled_from(["unary", "binary", "matmul", "movement"]), label="op family")
    with tk.detect_anomaly():
        getattr(program, family)()


# --- the ops documented stable: no NumPy warning at any finite input ---


EXTREMES = [1.7976931348623157e308, -1.7976931348623157e308, 1e300, -1e300, 3.4e38, -3.4e38, 1e38, -1e38,
            5e-324, 0.0, -0.0, 1.0]


@settings(FUZZ, suppress_health_check=[HealthCheck.too_slow])
@given(x=float_arrays(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                      elements=st.one_of(st.sampled_from(EXTREMES), FINITE), finite=True),
       data=st.data())
def test_stable_ops_warn_nothing_at_any_finite_input(x, data):
    g = data.draw(st.floats(-10, 10))
    t = Tensor(x, requires_grad=True)
    labels = data.draw(hnp.arrays(np.int64, x.shape[:-1], elements=st.integers(0, x.shape[-1] - 1)))
    one_hot = np.eye(x.shape[-1], dtype=x.dtype)[labels]
    calls = {
        "sigmoid": lambda: F.sigmoid(t),
        "softmax": lambda: F.softmax(t, axis=-1),
        "log_softmax": lambda: F.log_softmax(t, axis=-1),
        "softmax_cross_entropy labels": lambda: F.softmax_cross_entropy(t, labels),
        "softmax_cross_entropy one-hot": lambda: F.softmax_cross_entropy(t, one_hot),
    }
    name = data.draw(st.sampled_from(sorted(calls)), label="op")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = calls[name]()
        y.backward(np.full(y.shape, g, dtype=y.dtype))
    assert not np.isnan(y.data).any() and not np.isnan(t.grad.data).any(), name
    if name in ("sigmoid", "softmax"):
        assert np.isfinite(y.data).all() and np.isfinite(t.grad.data).all()
        assert ((0 <= y.data) & (y.data <= 1)).all()


@FUZZ
@given(x=float_arrays(shape=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4),
                      elements=st.one_of(st.sampled_from([1e300, -1e300, 1e37, -1e37, 0.0]), st.floats(-1e300, 1e300))),
       label=st.integers(0, 3), g=st.floats(-10, 10))
def test_log_softmax_and_cross_entropy_are_finite_for_logits_up_to_1e300(x, label, g):
    # Logits within ±1e300 (±1e37 in float32) are at most 2e300 apart, so log-probabilities,
    # losses (even summed over the rows before the mean) and gradients are all finite.
    big = 1e300 if x.dtype == np.float64 else 1e37
    x = np.clip(x, -big, big).astype(x.dtype)
    labels = np.full(x.shape[:-1], label % x.shape[-1])
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_p = F.log_softmax(a)
        log_p.backward(np.full(x.shape, g, dtype=x.dtype))
        loss = F.softmax_cross_entropy(b, labels)
        loss.backward()
    assert np.isfinite(log_p.data).all() and np.isfinite(a.grad.data).all()
    assert np.isfinite(loss.data) and np.isfinite(b.grad.data).all()


# --- tk.functional on integer arrays, as the book's functions take them ---


@FUZZ
@given(x=hnp.arrays(st.sampled_from([np.int64, np.int32, np.uint8]),
                    hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4),
                    elements=st.integers(0, 9)),
       name=st.sampled_from(["sigmoid", "tanh", "exp", "relu", "softmax", "log_softmax"]))
def test_functional_on_integer_arrays_gives_the_float_result(x, name):
    floats = x.astype(np.float64)
    references = {"sigmoid": np_sigmoid, "tanh": np.tanh, "exp": np.exp, "relu": lambda a: np.maximum(a, 0),
                  "softmax": lambda a: np_softmax(a, -1), "log_softmax": lambda a: np_log_softmax(a, -1)}
    with quiet():
        result = getattr(F, name)(x)
    # softmax's shared shift rounds within a few ulps of the spread (see softmax_atol): exact zeros of
    # log_softmax may come out as -2e-16
    np.testing.assert_allclose(np.asarray(result, dtype=np.float64), references[name](floats), rtol=1e-12,
                               atol=4 * np.finfo(np.float64).eps * (1 + np.ptp(floats)))


def test_softmax_cross_entropy_of_integer_logits_gives_the_float_result():
    logits = np.array([[1, 2, 3], [0, 0, 5]])
    expected = F.softmax_cross_entropy(logits.astype(np.float64), np.array([2, 0])).item()
    assert F.softmax_cross_entropy(logits, np.array([2, 0])).item() == pytest.approx(expected, rel=1e-12)


# --- found by the fuzzing above, pinned as plain examples ---


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_keeps_nan_when_the_inner_dimension_is_one(dtype):
    # 0 * NaN is NaN: np.matmul says so for every shape, and so must @, in forward and backward.
    # (A product with inner dimension 1 and a 1 x 1 operand: a batch of one through one output.)
    zeros, nans = np.zeros((1, 1), dtype), np.full((1, 2), np.nan, dtype)
    with quiet():
        np.testing.assert_array_equal((Tensor(zeros) @ Tensor(nans)).data, np.matmul(zeros, nans))
        np.testing.assert_array_equal((Tensor(nans.T) @ Tensor(zeros)).data, np.matmul(nans.T, zeros))
        x = Tensor(np.full((1, 3), np.nan, dtype), requires_grad=True)
        w = Tensor(np.ones((3, 1), dtype), requires_grad=True)
        (x @ w).backward(np.zeros((1, 1), dtype))
    assert np.isnan(w.grad.data).all()            # x.T @ gy = NaN * 0
    np.testing.assert_array_equal(x.grad.data, np.zeros((1, 3)))   # gy @ w.T = 0 * 1


def test_indexing_with_an_empty_list_selects_nothing_like_numpy():
    # x[[]] is NumPy's empty integer index (a batch of no rows), not an error.
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[[]]
    assert y.shape == np.arange(6.0).reshape(2, 3)[[]].shape == (0, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


def test_transpose_with_an_empty_tuple_is_refused_like_numpy():
    # ndarray.transpose(()) on a matrix raises; it is not ndarray.transpose() (which reverses).
    with pytest.raises(ValueError, match="transpose"):
        Tensor(np.ones((2, 3))).transpose(())
    assert Tensor(np.float64(2.0)).transpose(()).shape == ()          # the valid permutation of a 0-d


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_of_a_0d_tensor_either_refuses_or_backpropagates(fn):
    # NumPy accepts axis=-1 on a 0-d array, so forward may too; backward must then work as well.
    x = Tensor(2.0, requires_grad=True)
    try:
        y = fn(x)
    except DOCUMENTED as error:
        assert fn.__name__ in str(error)
        return
    y.backward()
    assert x.grad.item() == 0.0                   # softmax of one entry is the constant 1


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_cross_entropy labels",
                                  "softmax_cross_entropy one-hot"])
def test_softmax_family_at_the_largest_finite_logits(name):
    # The row maximum minus the row minimum overflows here, though every logit is finite.
    for dtype, big in ((np.float64, 1.7e308), (np.float32, 3.4e38)):
        x = Tensor(np.array([big, -big], dtype=dtype), requires_grad=True)
        calls = {"softmax": lambda: F.softmax(x), "log_softmax": lambda: F.log_softmax(x),
                 "softmax_cross_entropy labels": lambda: F.softmax_cross_entropy(x, np.array(0)),
                 "softmax_cross_entropy one-hot": lambda: F.softmax_cross_entropy(x, np.array([1.0, 0.0]))}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = calls[name]()
            y.backward(np.ones(y.shape, dtype))
        assert not np.isnan(y.data).any() and np.isfinite(x.grad.data).all(), dtype
        if name != "log_softmax":                 # log p of the small one is -inf: it is below -max
            assert np.isfinite(y.data).all(), dtype


def test_mean_cross_entropy_over_rows_does_not_overflow_when_each_row_is_finite():
    # Two rows of loss 2e38 each: the mean 2e38 fits float32, their sum does not.
    logits = np.array([[-1e38, 1e38, -1e38]] * 2, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.softmax_cross_entropy(logits, np.array([0, 0]))
    assert loss.item() == pytest.approx(2e38, rel=1e-6)


def test_sigmoid_of_unsigned_integers_like_raw_mnist_pixels():
    # load_mnist(normalize=False) gives uint8 pixels; -x must not wrap around to 255.
    pixels = np.array([0, 1, 200, 255], dtype=np.uint8)
    expected = np_sigmoid(pixels.astype(np.float64))
    np.testing.assert_allclose(F.sigmoid(pixels).data, expected, rtol=1e-12)


def test_softmax_cross_entropy_of_an_empty_batch_backpropagates():
    # Like np.mean of nothing, the loss of no rows is NaN; backward still gives a (0, 3) gradient.
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    with quiet():
        loss = F.softmax_cross_entropy(x, np.zeros(0, dtype=np.int64))
        loss.backward()
    assert np.isnan(loss.item())
    assert x.grad.shape == (0, 3)


# --- hostile files: whatever the bytes, the loaders read plain arrays or refuse, and run nothing ---

FILE_ERRORS = (ValueError, UnsafePickleError)   # all that tk.load, load_book_params and read_idx may raise
FILE_FUZZ = settings(max_examples=min(EXAMPLES, 60), deadline=None)
LOADERS = {"tk.load": tk.load, "tk.load_book_params": tk.load_book_params, "read_idx": read_idx}
MAGICS = [b"", b"PK\x03\x04", b"PK\x05\x06", b"\x80\x02}", b"\x80\x04\x95", b"\x1f\x8b\x08", b"\x93NUMPY\x01\x00",
          bytes([0, 0, 8, 1]), bytes([0, 0, 8, 3]), bytes([0, 0, 0x0D, 2])]


@contextlib.contextmanager
def a_file(raw, name="params.pkl"):
    """A fresh folder holding one file of ``raw`` bytes: (its path, the folder)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(raw)
        yield path, folder


def load_or_refuse(loader, path, **kwargs):
    """Call the loader: what it returns must be plain arrays; what it raises must be documented."""
    try:
        result = LOADERS[loader](path, **kwargs)
    except FILE_ERRORS:
        return None
    arrays = [result] if loader == "read_idx" else list(result.values())
    assert loader == "read_idx" or all(isinstance(k, str) for k in result)
    for a in arrays:
        assert type(a) is np.ndarray and a.dtype.kind in "biufc" and a.dtype.isnative
    return result


@FILE_FUZZ
@given(magic=st.sampled_from(MAGICS), tail=st.binary(max_size=300), loader=st.sampled_from(sorted(LOADERS)))
def test_random_bytes_are_refused_with_a_documented_error(magic, tail, loader):
    with a_file(magic + tail) as (path, _):
        load_or_refuse(loader, path)


@st.composite
def saved_arrays(draw):
    """A dict of small arrays of the dtypes tk.save writes."""
    names = draw(st.lists(st.sampled_from(["W1", "b1", "W2", "b2", "gamma1"]), min_size=1, max_size=3, unique=True))
    dtype = st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_])
    return {n: draw(hnp.arrays(draw(dtype), hnp.array_shapes(min_dims=0, max_dims=2, max_side=4))) for n in names}


@FILE_FUZZ
@given(arrays=saved_arrays(), compressed=st.booleans(), book=st.booleans(), data=st.data())
def test_damaged_npz_and_book_files_are_read_as_arrays_or_refused(arrays, compressed, book, data):
    # A valid file, then cut short, with bytes overwritten, or with a 4-byte size field somewhere
    # (zip sizes and offsets, header lengths) claiming up to 4 GiB.
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "params.pkl" if book else "model.npz")
        if book:
            tk.save_book_params(arrays, path)
        elif compressed:
            np.savez_compressed(path, **arrays)
        else:
            tk.save(arrays, path)
        raw = bytearray(open(path, "rb").read())
        damage = data.draw(st.sampled_from(["truncate", "overwrite", "size field"]), label="damage")
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        if damage == "truncate":
            raw = raw[:at]
        elif damage == "overwrite":
            raw[at:at + 8] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
        else:
            raw[at:at + 4] = struct.pack("<I", data.draw(st.sampled_from([2**32 - 1, 2**31, 10**9, 65535, 0])))
        with open(path, "wb") as f:
            f.write(raw)
        tracemalloc.start()
        try:
            for loader in ("tk.load", "tk.load_book_params"):
                load_or_refuse(loader, path, max_bytes=2**20)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8 * 2**20          # a claimed size is checked before anything is allocated


# Globals a hostile pickle names: ones that would run something, and random names.
DANGEROUS = [("builtins", "open"), ("io", "open"), ("os", "system"), ("posix", "system"), ("subprocess", "call"),
             ("subprocess", "Popen"), ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"),
             ("builtins", "__import__"), ("shutil", "rmtree"), ("pathlib", "Path"), ("numpy", "load"),
             ("numpy", "save"), ("numpy.core.multiarray", "_reconstruct"), ("numpy", "dtype"), ("numpy", "ndarray"),
             ("pickle", "loads"), ("codecs", "encode"), ("__main__", "Evil"), ("copyreg", "_reconstructor")]
IDENTIFIER = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}(\.[A-Za-z_][A-Za-z0-9_]{0,6})?\Z")


def _unicode(text, protocol):
    data = text.encode()
    if protocol >= 4 and len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data                 # SHORT_BINUNICODE
    return b"X" + struct.pack("<I", len(data)) + data              # BINUNICODE


@st.composite
def hostile_pickles(draw, marker):
    """A pickle of {"W1": module.name(*args)}: the call, if it ever ran, would create ``marker``."""
    module, name = draw(st.one_of(st.sampled_from(DANGEROUS), st.tuples(IDENTIFIER, IDENTIFIER)))
    protocol = draw(st.sampled_from([2, 3, 4]))
    args = draw(st.sampled_from([(marker, "w"), (f"touch {marker}",), (["touch", marker],), (marker,)]))
    if protocol >= 4:
        find = _unicode(module, 4) + _unicode(name, 4) + b"\x93"   # STACK_GLOBAL
    else:
        find = b"c" + f"{module}\n{name}\n".encode()               # GLOBAL
    call = find + pickle.dumps(args, protocol=protocol)[2:-1] + b"R"  # the args tuple, then REDUCE
    if draw(st.booleans()):
        call += pickle.dumps({"x": 1}, protocol=protocol)[2:-1] + b"b"  # BUILD with a state
    value = b"}" + _unicode("W1", protocol) + call + b"s"          # {"W1": call}
    return bytes([0x80, protocol]) + value + b"."


@FILE_FUZZ
@given(data=st.data())
def test_pickles_with_random_globals_are_refused_and_run_nothing(data):
    with tempfile.TemporaryDirectory() as folder:
        marker = os.path.join(folder, "created")
        raw = data.draw(hostile_pickles(marker), label="pickle")
        with a_file(raw) as (path, _):
            with pytest.raises(FILE_ERRORS):
                tk.load_book_params(path)
            with pytest.raises(FILE_ERRORS):
                tk.load(path)
        assert not os.path.exists(marker), "a global in the pickle was called"


class _ClaimsShape:
    """Pickles as an ndarray whose state claims ``shape`` for the bytes ``raw``."""

    def __init__(self, shape, raw):
        self.shape, self.raw = shape, raw

    def __reduce__(self):
        func, args, (version, _, dtype, fortran, _) = np.zeros(1).__reduce__()
        return func, args, (version, self.shape, dtype, fortran, self.raw)


SIDES = st.one_of(st.integers(0, 8), st.sampled_from([2**16, 2**31 - 1, 2**32 - 1, 10**12]))


@FILE_FUZZ
@given(shape=st.lists(SIDES, min_size=1, max_size=4).map(tuple), stored=st.integers(0, 64))
def test_book_pickles_declaring_sizes_they_do_not_hold_are_refused_before_allocating(shape, stored):
    raw = pickle.dumps({"W1": _ClaimsShape(shape, bytes(stored))}, protocol=3)
    with a_file(raw) as (path, _):
        tracemalloc.start()
        try:
            result = load_or_refuse("tk.load_book_params", path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 2**20
    if result is not None:                  # only when the shape fits the bytes exactly
        assert result["W1"].shape == shape and result["W1"].nbytes == stored


@FILE_FUZZ
@given(code=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07]), dims=st.lists(SIDES, min_size=0, max_size=4),
       stored=st.binary(max_size=64), compress=st.booleans(), ndim=st.sampled_from([None, 1, 3]))
def test_idx_files_declaring_sizes_they_do_not_hold_are_refused_before_allocating(code, dims, stored, compress,
                                                                                    ndim):
    dims = [d % 2**32 for d in dims]
    raw = bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + stored
    if compress:
        raw = gzip.compress(raw, mtime=0)
    with a_file(raw, "data-idx3-ubyte.gz" if compress else "data-idx3-ubyte") as (path, _):
        tracemalloc.start()
        try:
            result = load_or_refuse("read_idx", path, ndim=ndim)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 2**20
    if result is not None:
        assert result.shape == tuple(dims) and (ndim is None or result.ndim == ndim)


def _npz_damaged(how):
    """A one-array .npz file, damaged as the fuzzing above found that the loader once mishandled."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.npz")
        tk.save({"W1": np.array(0.0)}, path)
        raw = bytearray(open(path, "rb").read())
    if how == "first bytes cut":                 # every offset in the zip directory now points 7 bytes late
        raw[0:8] = b"\x00"
    elif how == "unknown zip version":           # "version needed to extract" 25.5: zipfile raised NotImplementedError
        at = raw.index(b"PK\x01\x02")
        raw[at + 6:at + 8] = struct.pack("<H", 255)
    else:                                        # an entry with an empty name: zipfile's is_dir() raised IndexError
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(zipfile.ZipInfo(""), b"abc")
        raw = buffer.getvalue()
    return bytes(raw)


@pytest.mark.parametrize("how, words", [("first bytes cut", "points outside the file"),
                                        ("unknown zip version", "zip file version"),
                                        ("empty name", "entry '' is not an array")])
def test_npz_damage_found_by_fuzzing_is_a_value_error(how, words):
    with a_file(_npz_damaged(how), "m.npz") as (path, _):
        with pytest.raises(ValueError, match=words):
            tk.load(path)
        with pytest.raises(ValueError):       # (it tells zip from pickle by the first bytes)
            tk.load_book_params(path)
