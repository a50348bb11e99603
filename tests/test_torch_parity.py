"""Every op of API.md against PyTorch: values, dtypes, shapes and gradients, in float64.

One table, ``CASES``: each case names an op, gives a tinygrad_ko lambda and a
torch lambda of the same arguments, and says how each input is drawn (shape,
range away from kinks, whether it needs a gradient). One parametrized test
draws the inputs once, runs both lambdas on copies of the same arrays,
compares every output, then backpropagates the same random upstream
gradient through both and compares every input's gradient.

The comparisons run where torch is installed and are skipped, with that
reason, elsewhere. ``test_every_api_op_has_a_parity_case`` reads
``../shared/API.md`` (the "Ops breadth" lists, the functional names and the
Chapters 6-8 functions) and fails for a name without a case.

    pytest tests/test_torch_parity.py -q
"""

import re
import zlib
from pathlib import Path

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # torch is an optional oracle: the comparisons skip, the coverage check still runs
    torch = TF = None

API_MD = Path(__file__).resolve().parents[1].parent / "shared" / "API.md"

# --- how inputs are drawn ---


def real(rng, shape):
    return np.asarray(rng.uniform(-2.0, 2.0, shape), dtype=np.float64)


def positive(rng, shape):
    return np.asarray(rng.uniform(0.5, 2.0, shape), dtype=np.float64)


def unit(rng, shape):
    return np.asarray(rng.uniform(0.05, 0.95, shape), dtype=np.float64)


def nonzero(rng, shape):
    """Away from 0 (the kink of abs, relu, sign ...): |x| in [0.2, 2]."""
    return np.asarray(rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape), dtype=np.float64)


def untied(rng, shape):
    """Distinct values at least 0.25 apart (max, min, pooling: no ties for the gradient to split)."""
    size = int(np.prod(shape))
    values = (rng.permutation(size) - size / 2) * 0.3 + rng.uniform(0.0, 0.05, size)
    return values.reshape(shape)


def away_from(*points, margin=0.15):
    """Uniform in [-2, 2] but at least ``margin`` from each point (e.g. clip's bounds)."""
    def draw(rng, shape):
        x = real(rng, shape)
        while True:
            near = np.zeros(x.shape, bool)
            for p in points:
                near |= np.abs(x - p) < margin
            if not near.any():
                return x
            x = np.where(near, real(rng, shape), x)
    return draw


def rows_summing_to_one(axis):
    def draw(rng, shape):
        w = rng.uniform(0.05, 1.0, shape)
        return w / w.sum(axis=axis, keepdims=True)
    return draw


def fixed(value):
    return lambda rng, shape: np.array(value, dtype=np.float64)


class Spec:
    """One input: its shape, how it is drawn, and what each library receives.

    role: "leaf" (a Tensor that requires grad, on both sides), "const" (a
    Tensor without grad), "array" (an ndarray for tinygrad_ko, a tensor for
    torch), "labels" (integer class indices), "mask" (booleans).
    """

    def __init__(self, shape, draw, role, dtype=np.float64):
        self.shape, self.draw, self.role, self.dtype = shape, draw, role, dtype

    def make(self, rng):
        return np.asarray(self.draw(rng, self.shape)).astype(self.dtype)

    def ours(self, a):
        if self.role in ("leaf", "const"):
            return tk.Tensor(a.copy(), requires_grad=self.role == "leaf")
        return a.copy()

    def theirs(self, a):
        return torch.from_numpy(a.copy()).requires_grad_(self.role == "leaf")


def X(*shape, draw=real, dtype=np.float64):
    """A leaf that requires grad."""
    return Spec(shape, draw, "leaf", dtype)


def C(*shape, draw=real):
    """A constant Tensor."""
    return Spec(shape, draw, "const")


def A(*shape, draw=real):
    """A plain ndarray (tinygrad_ko accepts them where NumPy functions would)."""
    return Spec(shape, draw, "array")


def labels(shape, classes):
    return Spec(shape, lambda rng, s: rng.integers(0, classes, s), "labels", np.int64)


def mask(*shape):
    return Spec(shape, lambda rng, s: rng.random(s) < 0.5, "mask", np.bool_)


class Case:
    def __init__(self, name, ours, theirs, inputs, covers, rtol, atol, values):
        self.name, self.ours, self.theirs, self.inputs = name, ours, theirs, inputs
        self.covers, self.rtol, self.atol, self.values = covers, rtol, atol, values

    def __repr__(self):
        return self.name


CASES = []


def case(name, ours, theirs, *inputs, covers=None, rtol=1e-10, atol=1e-12, values=True):
    """Add a case. ``covers``: the API names it exercises (default: the name before any "[")."""
    if covers is None:
        covers = (name.split("[")[0],)
    elif isinstance(covers, str):
        covers = (covers,)
    CASES.append(Case(name, ours, theirs, list(inputs), tuple(covers), rtol, atol, values))


# --- Tensor: operators (with a Tensor, an ndarray or a Python scalar on either side) ---

case("add", lambda x, y: x + y, lambda x, y: x + y, X(3, 1, 4), X(2, 4))
case("add[ndarray right]", lambda x, a: x + a, lambda x, a: x + a, X(3, 4), A(4))
case("add[ndarray left]", lambda a, x: a + x, lambda a, x: a + x, A(3, 4), X(4))
case("add[scalar]", lambda x: x + 2.5, lambda x: x + 2.5, X(3,))
case("add[scalar left]", lambda x: 2.5 + x, lambda x: 2.5 + x, X(2, 3))
case("sub", lambda x, y: x - y, lambda x, y: x - y, X(2, 3), X(3))
case("sub[scalar left]", lambda x: 1.5 - x, lambda x: 1.5 - x, X(4))
case("sub[ndarray left]", lambda a, x: a - x, lambda a, x: a - x, A(2, 1), X(3))
case("mul", lambda x, y: x * y, lambda x, y: x * y, X(4, 1), X(1, 3))
case("mul[scalar]", lambda x: x * -3.0, lambda x: x * -3.0, X(2, 2))
case("mul[same tensor]", lambda x: x * x, lambda x: x * x, X(5))
case("truediv", lambda x, y: x / y, lambda x, y: x / y, X(2, 3), X(2, 3, draw=nonzero))
case("truediv[scalar left]", lambda x: 2.0 / x, lambda x: 2.0 / x, X(3, draw=nonzero))
case("truediv[ndarray right]", lambda x, a: x / a, lambda x, a: x / a, X(3, 2), A(2, draw=nonzero))
case("neg", lambda x: -x, lambda x: -x, X(2, 3))
case("pow", lambda x: x ** 2.5, lambda x: x ** 2.5, X(3, 2, draw=positive))
case("pow[integer]", lambda x: x ** 3, lambda x: x ** 3, X(4))
case("pow[negative]", lambda x: x ** -1.5, lambda x: x ** -1.5, X(4, draw=positive))
case("pow[tensor exponent]", lambda x, y: x ** y, lambda x, y: x ** y, X(2, 3, draw=positive), X(3),
     covers=("pow", "x ** y"))
case("matmul", lambda x, y: x @ y, lambda x, y: x @ y, X(3, 4), X(4, 2))
case("matmul[1d 2d]", lambda x, y: x @ y, lambda x, y: x @ y, X(4), X(4, 2))
case("matmul[2d 1d]", lambda x, y: x @ y, lambda x, y: x @ y, X(3, 4), X(4))
case("matmul[1d 1d]", lambda x, y: x @ y, lambda x, y: x @ y, X(4), X(4))
case("matmul[batched broadcast]", lambda x, y: x @ y, lambda x, y: x @ y, X(2, 1, 3, 4), X(5, 4, 2))
case("matmul[ndarray left]", lambda a, x: a @ x, lambda a, x: a @ x, A(2, 3), X(3, 2))

# --- Tensor: methods ---

case("exp", lambda x: x.exp(), lambda x: torch.exp(x), X(2, 3))
case("log", lambda x: x.log(), lambda x: torch.log(x), X(2, 3, draw=positive))
case("sqrt", lambda x: x.sqrt(), lambda x: torch.sqrt(x), X(2, 3, draw=positive))
case("relu[method]", lambda x: x.relu(), lambda x: torch.relu(x), X(3, 3, draw=nonzero))
case("sigmoid[method]", lambda x: x.sigmoid(), lambda x: torch.sigmoid(x), X(3, 3))
case("tanh[method]", lambda x: x.tanh(), lambda x: torch.tanh(x), X(3, 3))
case("sum", lambda x: x.sum(), lambda x: x.sum(), X(2, 3, 4))
case("sum[axis]", lambda x: x.sum(axis=1), lambda x: x.sum(dim=1), X(2, 3, 4))
case("sum[axes keepdims]", lambda x: x.sum(axis=(0, 2), keepdims=True), lambda x: x.sum(dim=(0, 2), keepdim=True),
     X(2, 3, 4))
case("sum[negative axis]", lambda x: x.sum(axis=-1), lambda x: x.sum(dim=-1), X(2, 3))
case("mean", lambda x: x.mean(), lambda x: x.mean(), X(2, 3, 4))
case("mean[axis keepdims]", lambda x: x.mean(axis=-2, keepdims=True), lambda x: x.mean(dim=-2, keepdim=True),
     X(2, 3, 4))
case("max", lambda x: x.max(), lambda x: x.max(), X(3, 4, draw=untied))
case("max[axis]", lambda x: x.max(axis=1), lambda x: x.amax(dim=1), X(3, 4, 2, draw=untied))
case("max[axes keepdims]", lambda x: x.max(axis=(0, 2), keepdims=True), lambda x: x.amax(dim=(0, 2), keepdim=True),
     X(3, 4, 2, draw=untied))
case("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), X(2, 3, 2))
case("reshape[tuple]", lambda x: x.reshape((3, 4)), lambda x: x.reshape((3, 4)), X(2, 6))
case("transpose", lambda x: x.transpose(), lambda x: x.permute(2, 1, 0), X(2, 3, 4))
case("transpose[axes]", lambda x: x.transpose(1, 0, 2), lambda x: x.permute(1, 0, 2), X(2, 3, 4))
case("transpose[tuple]", lambda x: x.transpose((2, 0, 1)), lambda x: x.permute(2, 0, 1), X(2, 3, 4))
case("T", lambda x: x.T, lambda x: x.T, X(2, 3))
case("T[3d]", lambda x: x.T, lambda x: x.permute(2, 1, 0), X(2, 3, 4))
case("getitem[slices]", lambda x: x[1:, ::2], lambda x: x[1:, ::2], X(3, 5))
case("getitem[int and ellipsis]", lambda x: x[..., 1], lambda x: x[..., 1], X(2, 3, 4))
case("getitem[None]", lambda x: x[None, 0], lambda x: x[None, 0], X(2, 3))
case("getitem[repeated indices]", lambda x: x[np.array([0, 2, 0, 0])],
     lambda x: x[torch.tensor([0, 2, 0, 0])], X(3, 2))
case("getitem[index arrays]", lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 2])],
     lambda x: x[torch.tensor([0, 1, 1]), torch.tensor([2, 0, 2])], X(2, 3))
case("getitem[list]", lambda x: x[[1, 1]], lambda x: x[[1, 1]], X(3, 2))
for _symbol, _op in [("<", lambda a, b: a < b), (">", lambda a, b: a > b), ("==", lambda a, b: a == b),
                     ("<=", lambda a, b: a <= b), (">=", lambda a, b: a >= b), ("!=", lambda a, b: a != b)]:
    case(f"compare[{_symbol}]", _op, _op, C(3, 4, draw=fixed(np.arange(12.0).reshape(3, 4) % 5)),
         C(4, draw=fixed([1.0, 2.0, 0.0, 3.0])), covers="comparisons")
case("argmax", lambda x: x.argmax(), lambda x: torch.argmax(x), C(3, 4, draw=untied))
case("argmax[axis]", lambda x: x.argmax(axis=1), lambda x: torch.argmax(x, dim=1), C(3, 4, draw=untied))
case("detach", lambda x: x.detach(), lambda x: x.detach(), X(2, 3))
case("clone[method]", lambda x: x.clone() * 2.0, lambda x: x.clone() * 2.0, X(2, 3))

# --- tk.functional: the book's functions ---

case("relu", F.relu, lambda x: torch.relu(x), X(3, 4, draw=nonzero))
case("sigmoid", F.sigmoid, lambda x: torch.sigmoid(x), X(3, 4))
case("sigmoid[extreme]", F.sigmoid, lambda x: torch.sigmoid(x), X(4, draw=fixed([-1000.0, -30.0, 30.0, 1000.0])))
case("tanh", F.tanh, lambda x: torch.tanh(x), X(3, 4))
case("softmax", F.softmax, lambda x: torch.softmax(x, dim=-1), X(3, 4))
case("softmax[axis 0]", lambda x: F.softmax(x, axis=0), lambda x: torch.softmax(x, dim=0), X(3, 4))
case("softmax[1e4]", F.softmax, lambda x: torch.softmax(x, dim=-1),
     X(2, 3, draw=fixed([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]])))
case("log_softmax", F.log_softmax, lambda x: torch.log_softmax(x, dim=-1), X(3, 4))
case("log_softmax[axis 1 of 3]", lambda x: F.log_softmax(x, axis=1), lambda x: torch.log_softmax(x, dim=1),
     X(2, 3, 4))
case("log_softmax[1e4]", F.log_softmax, lambda x: torch.log_softmax(x, dim=-1),
     X(2, 3, draw=fixed([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]])))


def _torch_book_cross_entropy_error(y, t):
    """The book's -sum(log(y[t] + 1e-7)) / N, written in torch."""
    if y.ndim == 1:
        return -torch.log(y[t] + 1e-7)
    return -torch.log(y[torch.arange(y.shape[0]), t] + 1e-7).sum() / y.shape[0]


case("cross_entropy_error", F.cross_entropy_error, _torch_book_cross_entropy_error,
     X(4, 5, draw=rows_summing_to_one(1)), labels((4,), 5))
case("cross_entropy_error[one-hot]", F.cross_entropy_error,
     lambda y, t: _torch_book_cross_entropy_error(y, t.argmax(dim=1)),
     X(3, 4, draw=rows_summing_to_one(1)), A(3, 4, draw=fixed(np.eye(4)[[1, 3, 0]])))
case("cross_entropy_error[one sample]", F.cross_entropy_error,
     lambda y, t: _torch_book_cross_entropy_error(y, t), X(5, draw=rows_summing_to_one(0)), labels((), 5))
case("softmax_cross_entropy", F.softmax_cross_entropy, lambda x, t: TF.cross_entropy(x, t), X(4, 5), labels((4,), 5))
case("softmax_cross_entropy[probabilities]", F.softmax_cross_entropy, lambda x, t: TF.cross_entropy(x, t),
     X(3, 4), X(3, 4, draw=rows_summing_to_one(1)))
case("softmax_cross_entropy[classes last, 3-d]", F.softmax_cross_entropy,
     lambda x, t: TF.cross_entropy(x.permute(0, 2, 1), t), X(2, 3, 4), labels((2, 3), 4))
case("softmax_cross_entropy[1e4]", F.softmax_cross_entropy, lambda x, t: TF.cross_entropy(x, t),
     X(2, 3, draw=fixed([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])), labels((2,), 3))
case("sum_squared_error", F.sum_squared_error, lambda y, t: 0.5 * ((y - t) ** 2).sum(), X(3, 4), X(3, 4))
case("sum_squared_error[labels]", F.sum_squared_error,
     lambda y, t: 0.5 * ((y - TF.one_hot(t, 4)) ** 2).sum(), X(3, 4), labels((3,), 4))
case("mean_squared_error", F.mean_squared_error, lambda y, t: TF.mse_loss(y, t), X(3, 4), X(3, 4))
case("linear[functional, book layout]", F.linear, lambda x, W, b: TF.linear(x, W.T, b), X(5, 3), X(3, 2), X(2),
     covers="linear")

# --- Chapters 6-8 ---

case("im2col", lambda x: F.im2col(x, 3, 3, stride=1, pad=1),
     lambda x: TF.unfold(x, (3, 3), padding=1, stride=1).transpose(1, 2).reshape(-1, 3 * 9), A(2, 3, 5, 4))
case("im2col[stride 2, rectangular]", lambda x: F.im2col(x, 2, 3, stride=2, pad=0),
     lambda x: TF.unfold(x, (2, 3), stride=2).transpose(1, 2).reshape(-1, 2 * 6), A(2, 2, 6, 7), covers="im2col")
case("col2im", lambda c: F.col2im(c, (2, 3, 5, 4), 3, 3, stride=1, pad=1),
     lambda c: TF.fold(c.reshape(2, 20, 27).transpose(1, 2), (5, 4), (3, 3), padding=1, stride=1), A(40, 27))
case("col2im[stride 2]", lambda c: F.col2im(c, (1, 2, 5, 5), 3, 3, stride=2, pad=0),
     lambda c: TF.fold(c.reshape(1, 4, 18).transpose(1, 2), (5, 5), (3, 3), stride=2), A(4, 18), covers="col2im")
case("conv2d", lambda x, W, b: F.conv2d(x, W, b, stride=1, pad=1),
     lambda x, W, b: TF.conv2d(x, W, b, stride=1, padding=1), X(2, 3, 6, 5), X(4, 3, 3, 3), X(4))
case("conv2d[no bias, stride 2]", lambda x, W: F.conv2d(x, W, stride=2),
     lambda x, W: TF.conv2d(x, W, stride=2), X(2, 2, 7, 6), X(3, 2, 3, 2))
case("conv2d[pairs]", lambda x, W, b: F.conv2d(x, W, b, stride=(2, 1), pad=(1, 0)),
     lambda x, W, b: TF.conv2d(x, W, b, stride=(2, 1), padding=(1, 0)), X(1, 2, 5, 5), X(2, 2, 3, 2), X(2))
case("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), X(2, 3, 4, 6, draw=untied))
case("max_pool2d[overlapping]", lambda x: F.max_pool2d(x, 3, stride=1), lambda x: TF.max_pool2d(x, 3, stride=1),
     X(1, 2, 5, 5, draw=untied))
case("max_pool2d[padding never wins]", lambda x: F.max_pool2d(x, 3, stride=2, pad=1),
     lambda x: TF.max_pool2d(x, 3, stride=2, padding=1), X(2, 1, 5, 6, draw=lambda r, s: untied(r, s) - 10.0))  # all negative
case("max_pool2d[rectangular]", lambda x: F.max_pool2d(x, 2, 3), lambda x: TF.max_pool2d(x, (2, 3)),
     X(1, 2, 4, 6, draw=untied))
case("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), X(2, 3, 4, 6))
case("avg_pool2d[padded, counts the padding]", lambda x: F.avg_pool2d(x, 3, stride=2, pad=1),
     lambda x: TF.avg_pool2d(x, 3, stride=2, padding=1), X(2, 2, 5, 6))


def _ours_batch_norm(training, shape_c, momentum=0.1):
    def run(x, gamma, beta, mean, var):
        mean, var = mean.copy(), var.copy()
        y = F.batch_norm(x, gamma, beta, mean, var, training=training, momentum=momentum, eps=1e-5)
        return y, tk.Tensor(mean), tk.Tensor(var)  # the running statistics, updated in place in training
    return run


def _theirs_batch_norm(training, shape_c, momentum=0.1):
    def run(x, gamma, beta, mean, var):
        mean, var = mean.clone(), var.clone()
        y = TF.batch_norm(x, mean, var, gamma, beta, training=training, momentum=momentum, eps=1e-5)
        return y, mean, var
    return run


case("batch_norm[train, (N, D)]", _ours_batch_norm(True, 3), _theirs_batch_norm(True, 3),
     X(5, 3), X(3), X(3), A(3), A(3, draw=positive), rtol=1e-9)
case("batch_norm[train, (N, C, H, W)]", _ours_batch_norm(True, 3, 0.3), _theirs_batch_norm(True, 3, 0.3),
     X(4, 3, 2, 3), X(3), X(3), A(3), A(3, draw=positive), rtol=1e-9)
case("batch_norm[eval, (N, D)]", _ours_batch_norm(False, 4), _theirs_batch_norm(False, 4),
     X(5, 4), X(4), X(4), A(4), A(4, draw=positive))
case("batch_norm[eval, (N, C, H, W)]", _ours_batch_norm(False, 2), _theirs_batch_norm(False, 2),
     X(3, 2, 2, 2), X(2), X(2), A(2), A(2, draw=positive))
case("batch_norm[no running statistics]", lambda x: F.batch_norm(x, None, None),
     lambda x: TF.batch_norm(x, None, None, training=True), X(6, 2), rtol=1e-9)
case("dropout[eval]", lambda x: F.dropout(x, 0.3, training=False), lambda x: TF.dropout(x, 0.3, training=False),
     X(3, 4))
_kept = {}


def _ours_dropout(x):
    np.random.seed(0)
    y = F.dropout(x, p=0.4)
    _kept["mask"] = y.data != 0  # x is nonzero: the kept elements are the nonzero outputs
    return y


case("dropout[fixed mask]", _ours_dropout, lambda x: x * torch.from_numpy(_kept["mask"]) / 0.6,
     X(4, 5, draw=nonzero))
case("flatten", F.flatten, lambda x: torch.flatten(x, 1), X(2, 3, 2, 2))
case("flatten[start and end]", lambda x: F.flatten(x, 1, 2), lambda x: torch.flatten(x, 1, 2), X(2, 3, 2, 2))
case("flatten[method, from axis 0]", lambda x: x.flatten(), lambda x: torch.flatten(x), X(2, 3, 2))
case("flatten[method, start_dim]", lambda x: x.flatten(1), lambda x: torch.flatten(x, 1), X(2, 3, 2))
case("pad", lambda x: F.pad(x, ((0, 0), (1, 2), (2, 0)), value=0.5),
     lambda x: TF.pad(x, (2, 0, 1, 2, 0, 0), value=0.5), X(2, 3, 2))
case("pad[int]", lambda x: F.pad(x, 1), lambda x: TF.pad(x, (1, 1, 1, 1)), X(2, 3))

# --- Ops breadth: elementwise ---

case("abs", F.abs, lambda x: torch.abs(x), X(3, 4, draw=nonzero))
case("abs[method]", lambda x: x.abs(), lambda x: x.abs(), X(3, 4, draw=nonzero))
case("sign", F.sign, lambda x: torch.sign(x), X(3, 4, draw=nonzero))
case("clip", lambda x: F.clip(x, -1.0, 1.0), lambda x: torch.clip(x, -1.0, 1.0), X(4, 5, draw=away_from(-1.0, 1.0)))
case("clip[min only, top level]", lambda x: tk.clip(x, min=-0.5), lambda x: torch.clip(x, min=-0.5),
     X(4, 5, draw=away_from(-0.5)))
case("clip[method, max only]", lambda x: x.clip(max=0.3), lambda x: x.clip(max=0.3), X(4, 5, draw=away_from(0.3)))
case("maximum", F.maximum, lambda x, y: torch.maximum(x, y), X(3, 4), X(4))
case("maximum[method, top level]", lambda x, y: tk.maximum(x, y) + x.maximum(y),
     lambda x, y: torch.maximum(x, y) + x.maximum(y), X(3, 4), X(3, 4))
case("minimum", F.minimum, lambda x, y: torch.minimum(x, y), X(2, 1, 3), X(4, 3))
case("minimum[method, top level]", lambda x, y: tk.minimum(x, y) + x.minimum(y),
     lambda x, y: torch.minimum(x, y) + x.minimum(y), X(3, 4), X(3, 4))
case("where", F.where, lambda m, x, y: torch.where(m, x, y), mask(3, 4), X(3, 4), X(4))
case("where[method, top level]", lambda m, x, y: tk.where(m, x, y) + x.where(m, y),
     lambda m, x, y: torch.where(m, x, y) + x.where(m, y), mask(3, 4), X(3, 4), X(3, 4))
case("leaky_relu", F.leaky_relu, lambda x: TF.leaky_relu(x), X(3, 4, draw=nonzero))
case("leaky_relu[slope]", lambda x: x.leaky_relu(0.2), lambda x: TF.leaky_relu(x, 0.2), X(3, 4, draw=nonzero))
case("elu", F.elu, lambda x: TF.elu(x), X(3, 4, draw=nonzero))
case("elu[alpha]", lambda x: x.elu(alpha=0.5), lambda x: TF.elu(x, alpha=0.5), X(3, 4, draw=nonzero))
case("gelu", F.gelu, lambda x: TF.gelu(x), X(3, 4, draw=lambda r, s: r.uniform(-4, 4, s)))
case("gelu[tanh]", lambda x: x.gelu(approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"),
     X(3, 4, draw=lambda r, s: r.uniform(-4, 4, s)))
case("softplus", F.softplus, lambda x: TF.softplus(x), X(3, 4, draw=lambda r, s: r.uniform(-6, 6, s)))
case("softplus[beta]", lambda x: x.softplus(beta=2.0), lambda x: TF.softplus(x, beta=2.0), X(3, 4))
case("sin", F.sin, lambda x: torch.sin(x), X(3, 4))
case("cos", lambda x: x.cos(), lambda x: torch.cos(x), X(3, 4))
case("log1p", F.log1p, lambda x: torch.log1p(x), X(3, 4, draw=lambda r, s: r.uniform(-0.5, 2, s)))
case("expm1", F.expm1, lambda x: torch.expm1(x), X(3, 4))
case("square", F.square, lambda x: torch.square(x), X(3, 4))
case("reciprocal", lambda x: x.reciprocal(), lambda x: torch.reciprocal(x), X(3, 4, draw=nonzero))

# --- Ops breadth: reductions and scans ---

case("logsumexp", lambda x: F.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, dim=1), X(3, 4))
case("logsumexp[all, keepdims]", lambda x: x.logsumexp(keepdims=True),
     lambda x: torch.logsumexp(x, dim=(0, 1), keepdim=True), X(3, 4))
case("logsumexp[1e4]", lambda x: F.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, dim=-1),
     X(2, 3, draw=fixed([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]])))
case("var", lambda x: F.var(x, axis=1), lambda x: torch.var(x, dim=1, correction=0), X(3, 4))
case("var[all, ddof 1]", lambda x: x.var(ddof=1), lambda x: torch.var(x, correction=1), X(3, 4))
case("std", lambda x: F.std(x, axis=0, keepdims=True), lambda x: torch.std(x, dim=0, correction=0, keepdim=True),
     X(3, 4))
case("std[all, ddof 1]", lambda x: x.std(ddof=1), lambda x: torch.std(x, correction=1), X(3, 4))
case("prod", lambda x: F.prod(x, axis=1), lambda x: torch.prod(x, dim=1), X(3, 4, draw=nonzero))
case("prod[all]", lambda x: x.prod(), lambda x: torch.prod(x), X(2, 3, draw=nonzero))
case("prod[with zeros]", lambda x: F.prod(x, axis=1, keepdims=True), lambda x: torch.prod(x, dim=1, keepdim=True),
     X(3, 3, draw=fixed([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [1.0, -2.0, 0.5]])))
case("cumsum", lambda x: F.cumsum(x, axis=1), lambda x: torch.cumsum(x, dim=1), X(3, 4))
case("cumsum[flattened]", lambda x: x.cumsum(), lambda x: torch.cumsum(x.flatten(), dim=0), X(3, 4))
case("min", F.min, lambda x: torch.min(x), X(3, 4, draw=untied))
case("min[axis]", lambda x: x.min(axis=0), lambda x: torch.amin(x, dim=0), X(3, 4, draw=untied))
case("argmin", lambda x: F.argmin(x, axis=1), lambda x: torch.argmin(x, dim=1), C(3, 4, draw=untied))
case("argmin[flat, method]", lambda x: x.argmin(), lambda x: torch.argmin(x), C(3, 4, draw=untied))

# --- Ops breadth: shapes ---

case("squeeze", F.squeeze, lambda x: torch.squeeze(x), X(3, 1, 4, 1))
case("squeeze[axis]", lambda x: x.squeeze(1), lambda x: torch.squeeze(x, 1), X(3, 1, 4, 1))
case("unsqueeze", lambda x: F.unsqueeze(x, 1), lambda x: torch.unsqueeze(x, 1), X(3, 4))
case("unsqueeze[negative]", lambda x: x.unsqueeze(-1), lambda x: torch.unsqueeze(x, -1), X(3, 4))
case("expand_dims", lambda x: F.expand_dims(x, 0), lambda x: torch.unsqueeze(x, 0), X(3, 4))
case("broadcast_to", lambda x: F.broadcast_to(x, (2, 3, 4)), lambda x: torch.broadcast_to(x, (2, 3, 4)), X(3, 1))
case("broadcast_to[method]", lambda x: x.broadcast_to(2, 3, 4), lambda x: x.expand(2, 3, 4), X(4))
case("sum_to", lambda x: F.sum_to(x, (3, 1)), lambda x: x.sum_to_size((3, 1)), X(2, 3, 4))
case("sum_to[method]", lambda x: x.sum_to(1, 4), lambda x: x.sum_to_size(1, 4), X(3, 4))
case("swapaxes", lambda x: F.swapaxes(x, 0, 2), lambda x: torch.swapaxes(x, 0, 2), X(2, 3, 4))
case("swapaxes[method]", lambda x: x.swapaxes(-1, 1), lambda x: x.swapaxes(-1, 1), X(2, 3, 4))
case("permute", lambda x: F.permute(x, 2, 0, 1), lambda x: x.permute(2, 0, 1), X(2, 3, 4))
case("permute[method]", lambda x: x.permute(1, 2, 0), lambda x: x.permute(1, 2, 0), X(2, 3, 4))
case("repeat", lambda x: F.repeat(x, 2, 1, 3), lambda x: x.repeat(2, 1, 3), X(2, 3))
case("repeat[method]", lambda x: x.repeat(3, 2), lambda x: x.repeat(3, 2), X(2, 3))
case("tile", lambda x: F.tile(x, (2, 1)), lambda x: torch.tile(x, (2, 1)), X(2, 3))
case("tile[fewer reps, method]", lambda x: x.tile(2), lambda x: x.tile((2,)), X(2, 3))
case("clone", lambda x: F.clone(x) * 3.0, lambda x: x.clone() * 3.0, X(2, 3))
case("copy", lambda x: F.copy(x) * 3.0, lambda x: x.clone() * 3.0, X(2, 3))
case("copy[method]", lambda x: x.copy() * 3.0, lambda x: x.clone() * 3.0, X(2, 3))
case("float", lambda x: x.float(), lambda x: x.float(), X(2, 3), rtol=1e-7)
case("double", lambda x: x.double(), lambda x: x.double(), X(2, 3, dtype=np.float32))
case("concatenate", lambda x, y: tk.concatenate([x, y], axis=1), lambda x, y: torch.cat([x, y], dim=1),
     X(2, 3), X(2, 4))
case("concatenate[functional]", lambda x, y: F.concatenate([x, y]), lambda x, y: torch.cat([x, y]),
     X(2, 3), X(1, 3))
case("stack", lambda x, y: tk.stack([x, y], axis=1), lambda x, y: torch.stack([x, y], dim=1), X(2, 3), X(2, 3))
case("split", lambda x: tk.split(x, 3), lambda x: torch.split(x, 3), X(7, 2))
case("split[sizes, axis]", lambda x: F.split(x, [1, 3], axis=1), lambda x: torch.split(x, [1, 3], dim=1), X(2, 4))

# --- Ops breadth: factories (float64 unless dtype= says otherwise) ---

case("zeros", lambda: tk.zeros(2, 3), lambda: torch.zeros(2, 3, dtype=torch.float64))
case("zeros[tuple, float32]", lambda: tk.zeros((2, 3), dtype=np.float32), lambda: torch.zeros((2, 3)))
case("ones", lambda: tk.ones(3), lambda: torch.ones(3, dtype=torch.float64))
case("full", lambda: tk.full((2, 2), 1.5), lambda: torch.full((2, 2), 1.5, dtype=torch.float64))
case("zeros_like", lambda x: tk.zeros_like(x), lambda x: torch.zeros_like(x), C(2, 3))
case("ones_like", lambda x: tk.ones_like(x), lambda x: torch.ones_like(x), C(2, 3))
case("arange", lambda: tk.arange(5), lambda: torch.arange(5, dtype=torch.float64))
case("arange[start stop step]", lambda: tk.arange(1, 2, 0.25), lambda: torch.arange(1, 2, 0.25, dtype=torch.float64))
case("eye", lambda: tk.eye(3), lambda: torch.eye(3, dtype=torch.float64))
case("eye[rectangular]", lambda: tk.eye(2, 4), lambda: torch.eye(2, 4, dtype=torch.float64))
case("randn", lambda: tk.randn(2, 3), lambda: torch.randn(2, 3, dtype=torch.float64), values=False)
case("rand", lambda: tk.rand(4), lambda: torch.rand(4, dtype=torch.float64), values=False)

# --- Ops breadth: losses (PyTorch's: classes on axis 1) ---

for _reduction in ["mean", "sum", "none"]:
    case(f"cross_entropy[{_reduction}]", lambda x, t, r=_reduction: F.cross_entropy(x, t, reduction=r),
         lambda x, t, r=_reduction: TF.cross_entropy(x, t, reduction=r), X(4, 5), labels((4,), 5))
    case(f"nll_loss[{_reduction}]", lambda x, t, r=_reduction: F.nll_loss(x, t, reduction=r),
         lambda x, t, r=_reduction: TF.nll_loss(x, t, reduction=r), X(4, 3, 2), labels((4, 2), 3))
    case(f"binary_cross_entropy[{_reduction}]",
         lambda p, t, r=_reduction: F.binary_cross_entropy(p, t, reduction=r),
         lambda p, t, r=_reduction: TF.binary_cross_entropy(p, t, reduction=r), X(3, 4, draw=unit), X(3, 4, draw=unit))
    case(f"l1_loss[{_reduction}]", lambda x, t, r=_reduction: F.l1_loss(x, t, reduction=r),
         lambda x, t, r=_reduction: TF.l1_loss(x, t, reduction=r), X(3, 4, draw=nonzero), C(3, 4, draw=lambda r, s: np.zeros(s)))
    case(f"huber_loss[{_reduction}]", lambda x, t, r=_reduction: F.huber_loss(x, t, reduction=r, delta=0.8),
         lambda x, t, r=_reduction: TF.huber_loss(x, t, reduction=r, delta=0.8),
         X(3, 4, draw=away_from(-0.8, 0.8, margin=0.05)), C(3, 4, draw=lambda r, s: np.zeros(s)))
case("cross_entropy[label smoothing]", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
     lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.2), X(4, 5), labels((4,), 5))
case("cross_entropy[probabilities, smoothing]", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1), X(3, 4), X(3, 4, draw=rows_summing_to_one(1)))
case("cross_entropy[(N, C, d1, d2), smoothing, none]",
     lambda x, t: F.cross_entropy(x, t, reduction="none", label_smoothing=0.3),
     lambda x, t: TF.cross_entropy(x, t, reduction="none", label_smoothing=0.3), X(2, 3, 2, 2), labels((2, 2, 2), 3))
case("cross_entropy[(N, C, d), probabilities]", F.cross_entropy, lambda x, t: TF.cross_entropy(x, t),
     X(2, 4, 3), X(2, 4, 3, draw=rows_summing_to_one(1)))
case("cross_entropy[one sample]", F.cross_entropy, lambda x, t: TF.cross_entropy(x, t), X(5), labels((), 5))
case("cross_entropy[1e4]", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
     lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1),
     X(2, 3, draw=fixed([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]])), labels((2,), 3))
case("cross_entropy[float32]", F.cross_entropy, lambda x, t: TF.cross_entropy(x, t),
     X(4, 3, dtype=np.float32), labels((4,), 3), rtol=1e-5, atol=1e-6)
case("binary_cross_entropy[edges]", lambda p, t: F.binary_cross_entropy(p, t, reduction="sum"),
     lambda p, t: TF.binary_cross_entropy(p, t, reduction="sum"),
     X(4, draw=fixed([0.0, 1.0, 1e-30, 0.5])), C(4, draw=fixed([1.0, 0.0, 0.3, 0.5])))
case("l1_loss[target grad]", F.l1_loss, lambda x, t: TF.l1_loss(x, t), X(3, 4), X(3, 4))
case("huber_loss[target grad, default delta]", F.huber_loss, lambda x, t: TF.huber_loss(x, t),
     X(3, 4, draw=lambda r, s: r.uniform(-3, 3, s)), X(3, 4, draw=lambda r, s: r.uniform(-0.05, 0.05, s)))


def _ours_clip(g):
    p = tk.Tensor(np.zeros(g.shape), requires_grad=True)
    p.grad = tk.Tensor(g.copy())
    total = tk.nn.utils.clip_grad_norm_([p], 0.5)
    return total, p.grad


def _theirs_clip(g):
    p = torch.zeros(g.shape, dtype=torch.float64, requires_grad=True)
    p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_([p], 0.5)
    return total, p.grad


case("clip_grad_norm_", _ours_clip, _theirs_clip, A(3, 4))


# --- the comparison ---


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _numpy(value):
    if torch is not None and isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value.data if isinstance(value, tk.Tensor) else value)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_values_and_gradients_match_torch(case):
    if torch is None:
        pytest.skip("torch is not installed; the parity tests compare with it (pip install torch)")
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    arrays = [spec.make(rng) for spec in case.inputs]
    ours_args = [spec.ours(a) for spec, a in zip(case.inputs, arrays)]
    theirs_args = [spec.theirs(a) for spec, a in zip(case.inputs, arrays)]
    ours, theirs = _as_tuple(case.ours(*ours_args)), _as_tuple(case.theirs(*theirs_args))
    assert len(ours) == len(theirs), f"{len(ours)} outputs, torch gives {len(theirs)}"
    for i, (o, t) in enumerate(zip(ours, theirs)):
        o_value, t_value = _numpy(o), _numpy(t)
        assert o_value.shape == t_value.shape, f"output {i}: shape {o_value.shape}, torch's {t_value.shape}"
        assert o_value.dtype == t_value.dtype, f"output {i}: dtype {o_value.dtype}, torch's {t_value.dtype}"
        if case.values:
            np.testing.assert_allclose(o_value, t_value, rtol=case.rtol, atol=case.atol, err_msg=f"output {i}")
        ours_differentiable = isinstance(o, tk.Tensor) and o.requires_grad
        assert ours_differentiable == (isinstance(t, torch.Tensor) and t.requires_grad), \
            f"output {i}: requires_grad differs from torch's"

    leaves = [(o, t) for spec, o, t in zip(case.inputs, ours_args, theirs_args) if spec.role == "leaf"]
    outputs = [(o, t) for o, t in zip(ours, theirs) if isinstance(o, tk.Tensor) and o.requires_grad]
    if not leaves or not outputs:
        return
    upstream = [rng.standard_normal(o.shape).astype(o.dtype) for o, _ in outputs]  # the same random gy
    ours_grads = tk.grad([o for o, _ in outputs], [o for o, _ in leaves], grad_outputs=upstream,
                         allow_unused=True)
    theirs_grads = torch.autograd.grad([t for _, t in outputs], [t for _, t in leaves],
                                       grad_outputs=[torch.from_numpy(w) for w in upstream], allow_unused=True)
    for i, ((leaf, _), g_ours, g_theirs) in enumerate(zip(leaves, ours_grads, theirs_grads)):
        g_ours = np.zeros(leaf.shape, leaf.dtype) if g_ours is None else _numpy(g_ours)
        g_theirs = np.zeros(leaf.shape, leaf.dtype) if g_theirs is None else _numpy(g_theirs)
        assert g_ours.shape == leaf.shape and g_ours.dtype == g_theirs.dtype == leaf.dtype, f"grad of input {i}"
        np.testing.assert_allclose(g_ours, g_theirs, rtol=case.rtol, atol=case.atol, err_msg=f"grad of input {i}")


def test_random_factories_draw_from_the_right_distributions():
    np.random.seed(0)
    normal, uniform = tk.randn(2000).numpy(), tk.rand(2000).numpy()
    assert abs(normal.mean()) < 0.1 and abs(normal.std() - 1) < 0.1
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.05


# --- every op of API.md has a case ---


def _section(text, heading):
    start = text.find(heading)
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(heading))
    return text[start:] if end < 0 else text[start:end]


def _spans(text):
    """The `backticked` spans of text, with parenthesised argument lists removed."""
    return [re.sub(r"\([^()]*\)", "", span) for span in re.findall(r"`([^`]+)`", text)]


def _identifier_list(span, separators=r"\s+"):
    """The names of a span listing two or more names (``abs sign clip``, ``tk.zeros tk.ones``), else []."""
    tokens = [t for t in re.split(separators, span.strip()) if t]
    if len(tokens) >= 2 and all(re.fullmatch(r"[A-Za-z_][\w.]*", t) for t in tokens):
        return [t.split(".")[-1] for t in tokens]
    return []


def api_op_names(text):
    """The op names API.md asks for: the Ops breadth lists, the functional names and the Chapters 6-8 functions."""
    names = set()
    breadth = _section(text, "## Ops breadth")
    for span in _spans(breadth):
        names.update(_identifier_list(span))
        if re.fullmatch(r"tk\.(nn\.utils|functional)\.\w+", span.strip()):
            names.add(span.strip().split(".")[-1])
        if re.fullmatch(r"\w+ \*\* \w+", span.strip()):
            names.add("x ** y")
    for span in _spans(_section(text, "## Functions")):
        names.update(_identifier_list(span, separators=r"[,\s]+"))
    chapters = _section(text, "## Chapters 6-8").split("`tk.nn`:")[0]
    for span in re.findall(r"`(\w+)\(", chapters):
        names.add(span)
    return names


def test_api_md_parser_finds_the_known_lists():
    text = ("## Functions\n`relu, softmax(x, axis=-1),\nmean_squared_error(y, t)`.\n\n"
            "## Chapters 6-8\n- `conv2d(x, W)`: x, `pad(x, 1)`.\n`tk.nn`: `Conv2d(a, b)`\n\n"
            "## Ops breadth\nMethods: `abs sign\nclip`; `x ** y`. Module: `tk.zeros tk.eye`. Losses:\n"
            "`cross_entropy(logits, t,\nreduction=\"mean\") nll_loss`; `tk.nn.utils.clip_grad_norm_`; "
            "`weight_decay=`; `StepLR(optimizer, step_size)` (`.step()`, `lr`); `ddof=0`; `Tensor.repeat`.\n")
    assert api_op_names(text) == {"relu", "softmax", "mean_squared_error", "conv2d", "pad", "abs", "sign", "clip",
                                  "x ** y", "zeros", "eye", "cross_entropy", "nll_loss", "clip_grad_norm_"}


def test_every_api_op_has_a_parity_case():
    if not API_MD.exists():
        pytest.skip(f"{API_MD} is missing: the list of ops to cover is read from it")
    required = api_op_names(API_MD.read_text(encoding="utf-8"))
    assert len(required) > 60, f"only {len(required)} names found in API.md: has its layout changed?"
    covered = {name for c in CASES for name in c.covers}
    missing = sorted(required - covered)
    assert not missing, f"ops of API.md without a case in test_torch_parity.py: {missing}"
