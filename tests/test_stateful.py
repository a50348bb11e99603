"""A state machine against tinygrad_ko's engine: long random sessions, checked after every step.

Hypothesis drives a session the way a learner does: make leaves, apply ops
(some under ``no_grad``), call ``backward()`` on ``.sum()`` of any tensor, again
and again, ``zero_grad()``, and drop tensors. Beside every tensor the machine
keeps a node of a naive reference graph that knows nothing of tinygrad_ko: its
values are computed in plain NumPy, and its gradients by a chain rule written
here (recursion-free only because the graphs are small). After every step:

- every leaf's accumulated ``.grad`` equals the reference's (None where no
  backward has reached it since its last zero_grad);
- no tensor's ``.data`` has changed since it was made;
- tensors made under ``no_grad`` (or from tensors that do not require grad)
  never require grad and are leaves; intermediate tensors never get a ``.grad``;
- a dropped tensor that no live tensor's graph leads to is freed at once, with
  the garbage collector disabled (so no reference cycle can hide).

One rule changes a tensor in place between forward and backward, through the
public API a learner uses (``-=`` and friends under ``no_grad``, an optimizer's
``update``, ``load_state_dict``): when backward needs the old values (``x * w``
reads w) it must raise RuntimeError saying the tensor was "modified in place"
and by which operation, and change no gradient; when it does not (``x + w``, or
a tensor no graph used) it must succeed with the gradient of the new state.
"""

import contextlib
import gc
import os
import weakref

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import tinygrad_ko as tk
from tinygrad_ko import Tensor

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
EXAMPLES, STEPS = {"dev": (10, 20), "ci": (100, 40), "intense": (1000, 80)}.get(PROFILE, (100, 40))

# Small, often repeated values: ties in max and exact zeros at relu's kink come up all the time.
FEW = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0])
VALUES = st.one_of(FEW, FEW, FEW, st.floats(-2, 2))
SHAPES = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)
OFTEN = st.integers(0, 3).map(lambda i: i != 0)          # True three times in four
SOMETIMES = st.integers(0, 4).map(lambda i: i == 0)      # True one time in five (no_grad)


# --- the reference: plain NumPy values and a naive chain rule ---


def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def reduced_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(a % ndim for a in axes)


def vjp(node, g):
    """The gradient of each input of ``node``, given the gradient g of its value."""
    xs = [p.value for p in node.inputs]
    op, params = node.op, node.params
    if op == "add":
        return [unbroadcast(g, xs[0].shape), unbroadcast(g, xs[1].shape)]
    if op == "sub":
        return [unbroadcast(g, xs[0].shape), unbroadcast(-g, xs[1].shape)]
    if op == "mul":
        return [unbroadcast(g * xs[1], xs[0].shape), unbroadcast(g * xs[0], xs[1].shape)]
    if op == "div":
        return [unbroadcast(g / xs[1], xs[0].shape), unbroadcast(-g * xs[0] / xs[1] ** 2, xs[1].shape)]
    if op == "matmul":
        a, b = xs
        a2, b2 = a.reshape(1, -1) if a.ndim == 1 else a, b.reshape(-1, 1) if b.ndim == 1 else b
        g2 = g.reshape(a2.shape[0], b2.shape[1])
        return [(g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)]
    (x,) = xs
    if op == "neg":
        return [-g]
    if op == "exp":
        return [g * np.exp(x)]
    if op == "tanh":
        return [g * (1 - np.tanh(x) ** 2)]
    if op == "sigmoid":
        s = 1 / (1 + np.exp(-x))
        return [g * s * (1 - s)]
    if op == "square":
        return [g * 2 * x]
    if op == "relu":
        return [g * (x > 0)]                       # 0 at the kink, as documented
    if op == "scale":
        return [g * params]
    if op == "shift":
        return [g]
    if op in ("sum", "mean", "max"):
        axis, keepdims = params
        axes = reduced_axes(axis, x.ndim)
        kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        g = np.broadcast_to(g.reshape(kept), x.shape)
        if op == "sum":
            return [g]
        if op == "mean":
            return [g / np.prod([x.shape[a] for a in axes])]
        is_max = x == np.max(x, axis=axes, keepdims=True)
        return [g * is_max / is_max.sum(axis=axes, keepdims=True)]   # ties share evenly
    if op == "reshape":
        return [g.reshape(x.shape)]
    if op == "transpose":
        return [g.T]
    if op == "index":
        gx = np.zeros_like(x)
        np.add.at(gx, params, g)                     # repeated picks add up
        return [gx]
    raise AssertionError(op)


def forward(op, xs, params):
    """The op's value in plain NumPy."""
    if op == "add":
        return xs[0] + xs[1]
    if op == "sub":
        return xs[0] - xs[1]
    if op == "mul":
        return xs[0] * xs[1]
    if op == "div":
        return xs[0] / xs[1]
    if op == "matmul":
        return np.matmul(xs[0], xs[1])
    (x,) = xs
    simple = {"neg": lambda: -x, "exp": lambda: np.exp(x), "tanh": lambda: np.tanh(x),
              "sigmoid": lambda: 1 / (1 + np.exp(-x)), "square": lambda: x * x,
              "relu": lambda: np.where(x > 0, x, 0.0), "scale": lambda: x * params, "shift": lambda: x + params,
              "reshape": lambda: x.reshape(params), "transpose": lambda: x.T, "index": lambda: x[params]}
    if op in simple:
        return np.asarray(simple[op]())
    axis, keepdims = params
    return np.asarray(getattr(np, op)(x, axis=axis, keepdims=keepdims))


class Node:
    """One tensor of the reference graph: a value, how it was made, and (for leaves) the expected grad."""

    count = 0

    def __init__(self, value, op="leaf", inputs=(), params=None, requires_grad=False):
        Node.count += 1
        self.id = Node.count                          # creation order: a valid topological order
        self.value = value
        self.op = op
        self.inputs = list(inputs)
        self.params = params
        self.requires_grad = requires_grad
        self.expected_grad = None

    @property
    def is_leaf(self):
        return self.op == "leaf"


def reference_backward(root):
    """Add d(sum(root))/d(leaf) into every reachable leaf's expected_grad."""
    reachable, stack = {}, [root]
    while stack:
        node = stack.pop()
        if node.id in reachable or not node.requires_grad:
            continue
        reachable[node.id] = node
        stack.extend(node.inputs)
    grads = {root.id: np.ones_like(root.value)}
    for node in sorted(reachable.values(), key=lambda n: -n.id):
        g = grads.pop(node.id, None)
        if g is None:
            continue
        if node.is_leaf:
            node.expected_grad = g if node.expected_grad is None else node.expected_grad + g
            continue
        for parent, gp in zip(node.inputs, vjp(node, g)):
            if parent.requires_grad:
                grads[parent.id] = gp if parent.id not in grads else grads[parent.id] + gp


# --- changing a tensor in place, as a learner does between forward and backward ---


class _Holder(tk.nn.Module):
    """A module owning one tensor, for load_state_dict."""

    def __init__(self, w):
        super().__init__()
        self.w = w


def _in_place(how, w, c):
    """Change w's data in place through tinygrad_ko's API; return the name the engine gives the change."""
    with tk.no_grad():
        if how == "+=":
            w += c
        elif how == "-=":
            w -= c
        elif how == "*=":
            w *= c
        elif how == "/=":
            w /= c
        elif how == "SGD.update":
            tk.optim.SGD(lr=1.0).update({"w": w}, {"w": np.full(w.shape, -c)})   # w -= 1.0 * (-c)
        else:
            _Holder(w).load_state_dict({"w": w.data + c})
    return how


def _changed_value(how, value, c):
    return {"+=": value + c, "-=": value - c, "*=": value * c, "/=": value / c}.get(how, value + c)


IN_PLACE = ["+=", "-=", "*=", "/=", "SGD.update", "load_state_dict"]


# --- the machine ---


class Record:
    """A live tensor, its node, and a copy of its data at creation."""

    def __init__(self, tensor, node, under_no_grad):
        self.tensor = tensor
        self.node = node
        self.copy = tensor.data.copy()
        self.under_no_grad = under_no_grad


class AutogradSession(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.records = []

    # --- making tensors ---

    def pick(self, data, label, where=None, graph=False):
        """A record (satisfying ``where``), mostly one in the graph (that requires grad) if there is one.

        graph=True: mostly a tensor an op made, so that backward has a graph to walk.
        """
        # Draw a position, not the record: Hypothesis may keep what it draws, and a kept
        # tensor could not be freed when the drop rule checks it.
        candidates = [i for i, r in enumerate(self.records) if where is None or where(r)]
        if not candidates:
            return None
        preferred = [i for i in candidates if self.records[i].node.requires_grad
                     and not (graph and self.records[i].node.is_leaf)]
        if preferred and data.draw(OFTEN, label=f"{label} from the graph"):
            candidates = preferred
        return self.records[data.draw(st.sampled_from(candidates), label=label)]

    def record(self, data, make, op, inputs, params, no_grad):
        """Run ``make()`` (the tinygrad_ko call) and add it with its reference node.

        Half the time, backward runs from the new tensor at once, so that every op is
        backpropagated through often (the backward rule picks any tensor, later).
        """
        mode = tk.no_grad() if no_grad else contextlib.nullcontext()
        with mode:
            tensor = make()
        recorded = not no_grad and any(r.node.requires_grad for r in inputs)
        value = forward(op, [r.node.value for r in inputs], params)
        node = Node(value, op if recorded else "leaf", [r.node for r in inputs] if recorded else (),
                    params, requires_grad=recorded)
        np.testing.assert_allclose(tensor.data, value, rtol=1e-12, atol=1e-300)
        assert tensor.shape == value.shape and tensor.dtype == np.float64
        self.records.append(Record(tensor, node, no_grad))
        if recorded and data.draw(st.booleans(), label="backward at once"):
            tensor.sum().backward(retain_graph=True)
            reference_backward(node)

    @initialize(data=st.data(), shapes=st.lists(SHAPES, min_size=2, max_size=2))
    def first_leaves(self, data, shapes):
        for shape in shapes:
            self.new_leaf(data, shape, True)

    @rule(data=st.data(), shape=SHAPES, requires_grad=OFTEN)
    def new_leaf(self, data, shape, requires_grad):
        value = data.draw(hnp.arrays(np.float64, shape, elements=VALUES), label="leaf")
        tensor = Tensor(value.copy(), requires_grad=requires_grad)
        self.records.append(Record(tensor, Node(value, requires_grad=requires_grad), False))

    @precondition(lambda self: self.records)
    @rule(data=st.data(), op=st.sampled_from(["neg", "exp", "tanh", "sigmoid", "square", "relu", "scale", "shift"]),
          c=st.sampled_from([-1.5, 0.0, 0.5, 2.0]), no_grad=SOMETIMES)
    def unary(self, data, op, c, no_grad):
        small = 3.0 if op == "exp" else 100.0              # keep every value far from overflow
        x = self.pick(data, "x", lambda r: np.abs(r.node.value).max(initial=0) <= small)
        if x is None:
            return
        t = x.tensor
        calls = {"neg": lambda: -t, "exp": t.exp, "tanh": t.tanh, "sigmoid": t.sigmoid, "square": lambda: t ** 2,
                 "relu": t.relu, "scale": lambda: t * c, "shift": lambda: c + t}
        self.record(data, calls[op], op, [x], c if op in ("scale", "shift") else None, no_grad)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), op=st.sampled_from(["add", "sub", "mul", "div"]), no_grad=SOMETIMES)
    def binary(self, data, op, no_grad):
        x = self.pick(data, "x", lambda r: np.abs(r.node.value).max(initial=0) <= 100)
        if x is None:
            return

        def fits(r):
            try:
                np.broadcast_shapes(x.tensor.shape, r.tensor.shape)
            except ValueError:
                return False
            if op == "div":
                return np.abs(r.node.value).min(initial=1) >= 0.25
            return np.abs(r.node.value).max(initial=0) <= 100

        y = self.pick(data, "y", fits)
        if y is None:
            return
        a, b = x.tensor, y.tensor
        calls = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b}
        self.record(data, calls[op], op, [x, y], None, no_grad)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), no_grad=SOMETIMES)
    def matmul(self, data, no_grad):
        x = self.pick(data, "x", lambda r: 1 <= r.tensor.ndim <= 2 and np.abs(r.node.value).max() <= 100)
        if x is None:
            return
        k = x.tensor.shape[-1]
        y = self.pick(data, "y", lambda r: 1 <= r.tensor.ndim <= 2 and r.tensor.shape[0] == k
                      and np.abs(r.node.value).max() <= 100)
        if y is None:
            return
        a, b = x.tensor, y.tensor
        self.record(data, lambda: a @ b, "matmul", [x, y], None, no_grad)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), op=st.sampled_from(["sum", "mean", "max"]), keepdims=st.booleans(), no_grad=SOMETIMES)
    def reduce(self, data, op, keepdims, no_grad):
        x = self.pick(data, "x")
        ndim = x.tensor.ndim
        axes = st.one_of(st.none(), st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1))
        axis = data.draw(axes if ndim else st.none(), label="axis")
        t = x.tensor
        self.record(data, lambda: getattr(t, op)(axis=axis, keepdims=keepdims), op, [x], (axis, keepdims), no_grad)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), kind=st.sampled_from(["flat", "column", "row", "transpose"]), no_grad=SOMETIMES)
    def move(self, data, kind, no_grad):
        x = self.pick(data, "x")
        t = x.tensor
        if kind == "transpose":
            self.record(data, lambda: t.T, "transpose", [x], None, no_grad)
            return
        shape = {"flat": (-1,), "column": (t.size, 1), "row": (1, -1)}[kind]
        self.record(data, lambda: t.reshape(shape), "reshape", [x], shape, no_grad)

    @precondition(lambda self: self.records)
    @rule(data=st.data(), no_grad=SOMETIMES)
    def index(self, data, no_grad):
        x = self.pick(data, "x", lambda r: r.tensor.ndim >= 1)
        if x is None:
            return
        n = x.tensor.shape[0]
        picks = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=4), label="picks"))
        t = x.tensor
        self.record(data, lambda: t[picks], "index", [x], picks, no_grad)

    # --- in-place changes between forward and backward ---

    @precondition(lambda self: self.records)
    @rule(data=st.data(), how=st.sampled_from(IN_PLACE), c=st.sampled_from([0.5, 2.0]),
          reads=st.booleans(), used=OFTEN)
    def change_in_place(self, data, how, c, reads, used):
        """y = x * w (Mul reads w in backward) or x + w (Add reads nothing); then change w, or
        an unused tensor u, in place and backpropagate from y."""
        x = self.pick(data, "x", lambda r: np.abs(r.node.value).max(initial=0) <= 100)
        if x is None:
            return
        w_value = data.draw(hnp.arrays(np.float64, x.tensor.shape, elements=VALUES), label="w")
        w = Record(Tensor(w_value.copy(), requires_grad=True), Node(w_value, requires_grad=True), False)
        self.records.append(w)
        a, b = x.tensor, w.tensor
        self.record(data, (lambda: a * b) if reads else (lambda: a + b), "mul" if reads else "add", [x, w], None,
                    False)
        y = self.records[-1]
        if not used:                       # a fresh tensor no graph has used: changing it is harmless
            u = Tensor(np.ones(2), requires_grad=True)
            _in_place(how, u, c)
            y.tensor.sum().backward(retain_graph=True)
            reference_backward(y.node)
            return
        name = _in_place(how, w.tensor, c)
        w.node.value = _changed_value(how, w_value, c)
        np.testing.assert_allclose(w.tensor.data, w.node.value, rtol=1e-12)
        w.copy = w.tensor.data.copy()      # its data changed on purpose: the invariant now holds the new one
        if reads:
            # Mul needs w as it was in the forward pass: backward refuses and no gradient changes.
            try:
                y.tensor.sum().backward(retain_graph=True)
            except RuntimeError as error:  # (no pytest.raises: its record of the error would keep the graph)
                message = str(error)
            else:
                raise AssertionError(f"backward used w after {name} changed it in place, and did not raise")
            for word in ("modified in place", name, "Mul", str(w.tensor.shape)):
                assert word in message, message
            # y's graph can never be backpropagated again: it leaves the session.
            self.records.remove(y)
        else:
            # Add reads neither input: the gradient is exact whatever w holds now.
            y.tensor.sum().backward(retain_graph=True)
            reference_backward(y.node)

    # --- backward, zero_grad, drop ---

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def backward(self, data):
        x = self.pick(data, "backward from", graph=True)
        if not x.node.requires_grad:
            raised = False
            try:
                x.tensor.sum().backward()
            except RuntimeError:
                raised = True
            assert raised, "backward() on a tensor that does not require grad must raise RuntimeError"
            return
        x.tensor.sum().backward(retain_graph=True)  # sessions go through one graph many times
        reference_backward(x.node)

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def zero_grad(self, data):
        x = self.pick(data, "zero_grad of")
        x.tensor.zero_grad()
        x.node.expected_grad = None

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def drop(self, data):
        position = data.draw(st.integers(0, len(self.records) - 1), label="drop")
        gc.disable()
        try:
            dropped = self.records.pop(position)
            ref, node = weakref.ref(dropped.tensor), dropped.node
            del dropped
            if not self.leads_to(node):
                assert ref() is None, (
                    f"a dropped tensor ({node.op}) that no live tensor depends on is still alive")
        finally:
            gc.enable()

    def leads_to(self, target):
        """Whether some live tensor's recorded graph reaches ``target`` (all inputs count)."""
        seen, stack = set(), [r.node for r in self.records]
        while stack:
            node = stack.pop()
            if node is target:
                return True
            if node.id not in seen:
                seen.add(node.id)
                stack.extend(node.inputs)
        return False

    # --- invariants ---

    @invariant()
    def data_never_changes(self):
        for r in self.records:
            np.testing.assert_array_equal(r.tensor.data, r.copy)

    @invariant()
    def graph_state_matches_the_model(self):
        for r in self.records:
            t, node = r.tensor, r.node
            assert t.requires_grad == node.requires_grad, node.op
            assert t.is_leaf == node.is_leaf, node.op
            if r.under_no_grad:
                assert not t.requires_grad and t.is_leaf

    @invariant()
    def grads_equal_the_naive_reference(self):
        for r in self.records:
            t, node = r.tensor, r.node
            if not node.is_leaf:
                assert t.grad is None, "an intermediate tensor got a .grad"
                continue
            if node.expected_grad is None:
                assert t.grad is None
                continue
            assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == t.dtype
            np.testing.assert_allclose(t.grad.data, node.expected_grad, rtol=1e-9, atol=1e-12)


AutogradSession.TestCase.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None)
test_autograd_session = AutogradSession.TestCase


def reference_graph(av, bv):
    """mean(sum(tanh(a * b), axis=1, keepdims=True) / a, axis=0) as reference nodes: (a, b, root)."""
    a, b = Node(av, requires_grad=True), Node(bv, requires_grad=True)
    node = a
    for op, inputs, params in [("mul", [a, b], None), ("tanh", None, None), ("sum", None, (1, True)),
                               ("div", "with a", None), ("mean", None, (0, False))]:
        inputs = [node, a] if inputs == "with a" else inputs or [node]
        node = Node(forward(op, [n.value for n in inputs], params), op, inputs, params, requires_grad=True)
    return a, b, node


def test_the_reference_chain_rule_agrees_with_central_differences():
    # The naive reference is tested too: on a smooth graph it matches central differences.
    rng = np.random.default_rng(0)
    av, bv = rng.uniform(0.5, 1.5, (2, 3)), rng.uniform(-1, 1, (3,))
    a, b, root = reference_graph(av, bv)
    reference_backward(root)
    h = 1e-6
    for which, leaf in ((0, a), (1, b)):
        numeric = np.zeros_like(leaf.value)
        for i in np.ndindex(leaf.value.shape):
            values = [[av.copy(), bv.copy()], [av.copy(), bv.copy()]]
            values[0][which][i] += h
            values[1][which][i] -= h
            up, down = (reference_graph(*v)[2].value.sum() for v in values)
            numeric[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(leaf.expected_grad, numeric, rtol=1e-6, atol=1e-9)


def test_the_reference_splits_ties_evenly():
    x = Node(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    y = Node(forward("max", [x.value], (1, False)), "max", [x], (1, False), requires_grad=True)
    reference_backward(y)
    np.testing.assert_allclose(x.expected_grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
