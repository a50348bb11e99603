"""Hypothesis strategies for property-testing gradients, yours and ours.

tinygrad_ko's own tests use these; use them to test your own functions and
Functions the same way. Needs hypothesis: ``pip install "tinygrad-ko[testing]"``.

- ``arrays``: finite float64 arrays of random shape (0-d to 4-d, size-1 axes
  included), optionally kept away from kinks (``away_from=[0.0]``).
- ``broadcastable_shapes``: shapes that broadcast together, and the result's.
- ``untied_arrays``: arrays whose entries differ pairwise by at least a gap
  (for ``max``, whose gradient jumps at ties).
- ``computation_graphs``: random graphs of tinygrad_ko ops with reused nodes,
  diamonds and depth up to 8, to feed to ``gradcheck`` and ``gradgradcheck``.

Example: the gradient of your function, checked on 50 random inputs::

    from hypothesis import given, settings
    import tinygrad_ko as tk
    from tinygrad_ko.testing import arrays

    @settings(max_examples=50, deadline=None)
    @given(arrays(max_dims=2))
    def test_softplus_gradient(x):
        softplus = lambda t: (t.exp() + 1.0).log()
        assert tk.gradcheck(softplus, tk.Tensor(x, requires_grad=True))

and a random graph::

    from tinygrad_ko.testing import computation_graphs

    @given(computation_graphs())
    def test_random_graph(graph):
        assert tk.gradcheck(graph, *graph.inputs())
"""

import numpy as np

from . import functional as F
from .autograd import no_grad
from .tensor import Tensor

try:
    import hypothesis.extra.numpy as hnp
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "tinygrad_ko.testing needs hypothesis; install it with "
        "pip install \"tinygrad-ko[testing]\" (or pip install hypothesis)") from error

__all__ = ["shapes", "arrays", "broadcastable_shapes", "untied_arrays", "GraphOp", "DEFAULT_OPS",
           "ComputationGraph", "computation_graphs"]


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=4):
    """Array shapes, 0-d to ``max_dims``-d, size-1 axes included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def _finite(min_value, max_value, away_from, margin):
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=64)
    if away_from:
        points = tuple(away_from)
        elements = elements.filter(lambda v: all(abs(v - p) > margin for p in points))
    return elements


def arrays(shape=None, dtype=np.float64, min_value=-3.0, max_value=3.0, away_from=(), margin=1e-3,
           **shape_kwargs):
    """Finite arrays of ``shape`` (or of a random shape from ``shapes(**shape_kwargs)``).

    away_from: points (kinks, domain edges) every element stays ``margin`` away from.
    """
    shape = shapes(**shape_kwargs) if shape is None else shape
    return hnp.arrays(dtype, shape, elements=_finite(min_value, max_value, away_from, margin))


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4):
    """``(input_shapes, result_shape)`` for ``num_shapes`` shapes that broadcast together."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                             max_dims=max_dims, max_side=max_side).map(
        lambda s: (s.input_shapes, s.result_shape))


@st.composite
def untied_arrays(draw, shape=None, gap=0.25, **shape_kwargs):
    """Arrays whose entries all differ by more than ``gap``: no ties anywhere."""
    shape = draw(shapes(**shape_kwargs)) if shape is None else shape
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    jitter = draw(hnp.arrays(np.float64, size, elements=st.floats(0, gap / 2)))
    values = (np.asarray(order, dtype=np.float64) * 2 * gap + jitter) - gap * size
    return values.reshape(shape) if size else np.zeros(shape)


# --- random computation graphs ---


class GraphOp:
    """One kind of node for ``computation_graphs``.

    fn(*tensors, **params) -> Tensor computes it. ``params(draw, *arrays)``
    draws its parameters (an axis...) for given input values; ``valid(*arrays,
    **params)`` says whether the inputs are inside its domain and away from its
    kinks (so that central differences are accurate there).
    """

    def __init__(self, name, arity, fn, valid=None, params=None, twice_differentiable=True):
        self.name = name
        self.arity = arity
        self.fn = fn
        self.valid = valid or (lambda *arrays, **params: True)
        self.params = params or (lambda draw, *arrays: {})
        self.twice_differentiable = twice_differentiable

    def __repr__(self):
        return f"GraphOp({self.name!r})"


def _axis_params(draw, x):
    axis = None if x.ndim == 0 else draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    return {"axis": axis, "keepdims": draw(st.booleans())}


def _untied(x, axis=None, keepdims=False, gap=1e-3):
    """True when the largest entry of each slice beats the second by more than ``gap``."""
    if x.size == 0:
        return False
    rows = x.reshape(1, -1) if axis is None else np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
    if rows.shape[1] < 2:
        return True
    top2 = np.sort(rows, axis=1)[:, -2:]
    return bool(np.all(top2[:, 1] - top2[:, 0] > gap))


def _getitem_params(draw, x):
    if x.ndim == 0:
        return {"index": ()}
    n = x.shape[0]
    kind = draw(st.sampled_from(["reverse", "repeat"]))
    if kind == "reverse":
        return {"index": slice(None, None, -1)}
    picks = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    return {"index": np.array(picks)}  # repeated rows accumulate


def _labels_params(draw, x):
    classes = x.shape[-1]
    labels = draw(hnp.arrays(np.int64, x.shape[:-1], elements=st.integers(0, classes - 1)))
    return {"labels": labels}


def _matmul_ok(x, y):
    try:
        np.matmul(np.zeros(x.shape), np.zeros(y.shape))
    except ValueError:
        return False
    return x.ndim > 0 and y.ndim > 0


DEFAULT_OPS = (
    GraphOp("neg", 1, lambda x: -x),
    GraphOp("exp", 1, lambda x: x.exp(), valid=lambda x: np.all(np.abs(x) < 5)),
    GraphOp("log", 1, lambda x: x.log(), valid=lambda x: np.all(x > 0.1)),
    GraphOp("sqrt", 1, lambda x: x.sqrt(), valid=lambda x: np.all(x > 0.1)),
    GraphOp("tanh", 1, lambda x: x.tanh()),
    GraphOp("sigmoid", 1, lambda x: x.sigmoid()),
    GraphOp("relu", 1, lambda x: x.relu(), valid=lambda x: np.all(np.abs(x) > 1e-3)),
    GraphOp("square", 1, lambda x: x ** 2),
    GraphOp("cube", 1, lambda x: x ** 3),
    GraphOp("reciprocal", 1, lambda x: x ** -1, valid=lambda x: np.all(np.abs(x) > 0.2)),
    GraphOp("scale", 1, lambda x: 0.5 * x - 1.5),
    GraphOp("sum", 1, lambda x, axis, keepdims: x.sum(axis, keepdims), params=_axis_params),
    GraphOp("mean", 1, lambda x, axis, keepdims: x.mean(axis, keepdims), params=_axis_params),
    GraphOp("max", 1, lambda x, axis, keepdims: x.max(axis, keepdims), params=_axis_params,
            valid=lambda x, axis, keepdims: _untied(x, axis)),
    GraphOp("reshape", 1, lambda x: x.reshape(-1)),
    GraphOp("transpose", 1, lambda x: x.T),
    GraphOp("getitem", 1, lambda x, index: x[index], params=_getitem_params),
    GraphOp("softmax", 1, lambda x: F.softmax(x), valid=lambda x: x.ndim > 0),
    GraphOp("log_softmax", 1, lambda x: F.log_softmax(x), valid=lambda x: x.ndim > 0),
    GraphOp("softmax_cross_entropy", 1, lambda x, labels: F.softmax_cross_entropy(x, labels),
            params=lambda draw, x: _labels_params(draw, x) if x.ndim > 0 else {"labels": None},
            valid=lambda x, labels: x.ndim > 0),
    GraphOp("add", 2, lambda x, y: x + y),
    GraphOp("sub", 2, lambda x, y: x - y),
    GraphOp("mul", 2, lambda x, y: x * y),
    GraphOp("div", 2, lambda x, y: x / y, valid=lambda x, y: np.all(np.abs(y) > 0.2)),
    GraphOp("matmul", 2, lambda x, y: x @ y, valid=_matmul_ok),
    GraphOp("mean_squared_error", 2, lambda x, y: F.mean_squared_error(x, y),
            valid=lambda x, y: x.shape == y.shape),
)


class ComputationGraph:
    """A random graph: call it with Tensors for its leaves; ``inputs()`` gives fresh leaves.

    ``nodes`` lists ``(op, input node numbers, params)``; node numbers count
    the leaves first. Its repr is the program, so a failing example reads
    like code.
    """

    def __init__(self, leaves, nodes):
        self.leaves = leaves
        self.nodes = nodes

    @property
    def twice_differentiable(self):
        return all(op.twice_differentiable for op, _, _ in self.nodes)

    def inputs(self, requires_grad=True):
        """Fresh float64 leaf Tensors holding copies of the drawn values."""
        return [Tensor(leaf.copy(), requires_grad=requires_grad) for leaf in self.leaves]

    def __call__(self, *tensors):
        values = list(tensors)
        for op, args, params in self.nodes:
            values.append(op.fn(*[values[i] for i in args], **params))
        return values[-1]

    def __repr__(self):
        lines = [f"v{i} = leaf of shape {leaf.shape}" for i, leaf in enumerate(self.leaves)]
        for number, (op, args, params) in enumerate(self.nodes, start=len(self.leaves)):
            inside = ", ".join([f"v{i}" for i in args] + [f"{k}={v!r}" for k, v in params.items()])
            lines.append(f"v{number} = {op.name}({inside})")
        return "ComputationGraph:\n  " + "\n  ".join(lines)


@st.composite
def computation_graphs(draw, ops=DEFAULT_OPS, max_leaves=3, max_nodes=10, max_depth=8,
                       max_dims=3, max_side=3, max_magnitude=1e4):
    """Random graphs built from ``ops``: 1 to ``max_leaves`` leaves of broadcastable shapes, then
    up to ``max_nodes`` ops, each on earlier nodes picked at random (so nodes are reused and
    diamonds form), no path deeper than ``max_depth``. Each op's inputs satisfy its ``valid``;
    every value stays finite and below ``max_magnitude``. The last node is the output.
    """
    num_leaves = draw(st.integers(1, max_leaves))
    input_shapes, _ = draw(broadcastable_shapes(num_leaves, max_dims=max_dims, max_side=max_side))
    leaves = [draw(arrays(shape, min_value=-2.0, max_value=2.0)) for shape in input_shapes]
    values = list(leaves)
    depths = [0] * num_leaves
    nodes = []
    wanted = draw(st.integers(1, max_nodes))
    for _ in range(4 * max_nodes):  # rejected draws are retried, up to a limit
        if len(nodes) == wanted:
            break
        op = draw(st.sampled_from(ops))
        args = [draw(st.integers(0, len(values) - 1)) for _ in range(op.arity)]
        depth = 1 + max(depths[i] for i in args)
        arrays_in = [values[i] for i in args]
        if depth > max_depth or any(a.size == 0 for a in arrays_in):
            continue
        if op.arity == 2 and op.name != "matmul" and not _broadcasts(*arrays_in):
            continue
        params = op.params(draw, *arrays_in)
        if not op.valid(*arrays_in, **params):
            continue
        with no_grad():
            with np.errstate(all="ignore"):
                result = op.fn(*[Tensor(a) for a in arrays_in], **params).data
        if not np.all(np.isfinite(result)) or np.any(np.abs(result) > max_magnitude):
            continue
        nodes.append((op, tuple(args), params))
        values.append(result)
        depths.append(depth)
    if not nodes:  # every draw was rejected: fall back to the first op on the first leaf
        nodes.append((ops[0], (0,) * ops[0].arity, {}))
    return ComputationGraph(leaves, nodes)


def _broadcasts(x, y):
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        return False
    return True
