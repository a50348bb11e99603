"""The autograd engine: Function (one recorded operation), grad mode, and backprop.

A Function's ``forward`` takes ndarrays and returns an ndarray; its ``backward``
takes the output's gradient as a Tensor and returns one Tensor (or None) per
input, written with Tensor operations so that ``create_graph=True`` can record
the backward pass itself. The engine sorts the graph without recursion and keeps
gradients in a dict, so nothing is written onto intermediate tensors.

Ownership, chosen so that dropping the output frees the graph at once (no
reference cycles, no need for the garbage collector):

    output Tensor --_ctx--> Function --inputs--> input Tensors
    Function --weakref--> output Tensor

A backward pass frees the graph behind it as it goes (each Function drops its
inputs and what it saved), unless ``retain_graph=True``: peak memory falls, and
a second backward through the same graph is an error, not a silent doubling.

In-place changes are tracked by a clock: each change through tinygrad_ko's API
(``x -= ...`` on a Tensor, ``net.params[k] -= ...``, ``load_state_dict``, an
optimizer's ``update``) stamps the tensor with the next tick, and each recorded
Function remembers the tick at which it ran. Backward refuses to use an input
stamped later than its Function. Writes straight into the ndarray
(``t.data[...] = ...``, ``np.subtract(a, b, out=a)``) bypass tinygrad_ko and
cannot be seen, as PyTorch's ``.data``.
"""

import contextlib
import functools
import itertools
import os
import threading
import traceback
import weakref

import numpy as np

from .tensor import Tensor, _number


class _ThreadState(threading.local):
    """Per-thread switches. Class attributes are each new thread's defaults."""

    grad_enabled = True
    anomaly = False        # detect_anomaly() is active
    in_backward = False    # inside a backward pass (anomaly checks the gradients instead)


_state = _ThreadState()


class _ChangeClock:
    """The tick of the latest in-place change; ``mark_changed`` advances it (under a lock)."""

    now = 0
    _ticks = itertools.count(1)
    _lock = threading.Lock()


def mark_changed(tensor, how):
    """Record that ``tensor``'s data was changed in place by ``how`` (e.g. ``"-="``).

    Every in-place change made through tinygrad_ko's API calls this, so that a
    backward pass that would use the old values raises instead (see the module
    docstring). ``how`` names the operation in that error.
    """
    mark_all_changed((tensor,), how)


def mark_all_changed(tensors, how):
    """``mark_changed`` for several tensors changed by one operation (an optimizer's update): one tick."""
    with _ChangeClock._lock:
        tick = next(_ChangeClock._ticks)
        _ChangeClock.now = tick
    for tensor in tensors:
        tensor._version = tick
        tensor._changed_by = how


def is_grad_enabled():
    """True when operations on tensors are recorded for backprop (in this thread).

    >>> import tinygrad_ko as tk
    >>> with tk.no_grad():
    ...     tk.is_grad_enabled()
    False
    """
    return _state.grad_enabled


class _grad_mode:
    """Set this thread's grad mode inside ``with``; restore the previous one on the way out.

    Also a decorator. A small class rather than a generator, as it is cheap to
    enter; the previous modes are a stack, so one object may be entered again
    inside itself, and a decorated function enters a fresh one on each call
    (recursion and threads are safe).
    """

    def __init__(self, enabled):
        self.enabled = enabled
        self._previous = []

    def __enter__(self):
        self._previous.append(_state.grad_enabled)
        _state.grad_enabled = self.enabled

    def __exit__(self, *exc_info):
        _state.grad_enabled = self._previous.pop()

    def __call__(self, func):
        @functools.wraps(func)
        def with_mode(*args, **kwargs):
            with _grad_mode(self.enabled):
                return func(*args, **kwargs)
        return with_mode


def no_grad():
    """Context manager (and decorator) that records nothing, in this thread only.

    It nests: leaving it restores whatever mode was active before.

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor([1.0, 2.0], requires_grad=True)
    >>> with tk.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """
    return _grad_mode(False)


def enable_grad():
    """Context manager that records operations again, e.g. inside ``no_grad``.

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor([1.0], requires_grad=True)
    >>> with tk.no_grad():
    ...     with tk.enable_grad():
    ...         y = x * 2
    >>> y.requires_grad
    True
    """
    return _grad_mode(True)


class Function:
    """One differentiable operation; an instance is the ``ctx`` of one call.

    Subclasses define two static methods:

    - ``forward(ctx, *arrays, **params)``: ndarrays in, one ndarray out. Store
      on ``ctx`` only what backward needs (a mask, a shape, the parameters).
    - ``backward(ctx, gy)``: ``gy`` is the gradient of the output (a Tensor of
      the output's shape). Return one Tensor or None per input. A gradient may
      have the output's shape: the engine sums it back to each input's shape.

    ``ctx.inputs`` holds the input Tensors, ``ctx.needs_input_grad`` a bool per
    input (skip the work for the others) and ``ctx.output`` the output Tensor.
    ``ctx.needs_input_grad`` is set before forward runs; it is ``()`` when the
    call is not recorded (under ``no_grad``, or no input requires grad), so a
    forward may skip saving what only backward needs (``if ctx.needs_input_grad:``).

    Two class attributes say what backward reads, so that the engine can refuse
    to run it on values changed in place since forward: ``uses_inputs``, the
    indices of the inputs backward reads from ``ctx.inputs`` (None: all of them;
    ``()``: none, e.g. an op that saved a mask), and ``uses_output``, True when
    backward reads ``ctx.output``.

    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> class Cube(tk.Function):  # y = x**3, dy/dx = 3 x**2
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, gy):
    ...         (x,) = ctx.inputs
    ...         return gy * 3.0 * x * x
    >>> x = tk.Tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).backward(np.ones(1))
    >>> x.grad
    Tensor([12.])
    >>> tk.gradgradcheck(Cube.apply, tk.Tensor([0.5, -1.0], requires_grad=True))
    True
    """

    op_name = None  # the name used in error messages; default: the class name in lower case
    uses_inputs = None  # indices of the inputs backward reads (None: all)
    uses_output = False  # whether backward reads ctx.output
    needs_input_grad = ()  # set per call by apply when the call is recorded

    @classmethod
    def apply(cls, *inputs, **params):
        """Run forward on the inputs' data and, when recording, link the result into the graph.

        ``inputs`` must be Tensors; ``params`` (an axis, a shape...) are passed to forward.
        """
        ctx = cls()
        state = _state
        record = False
        count = len(inputs)
        try:
            # One and two inputs (nearly every op) spelled out: this runs for every op of every step.
            # needs_input_grad is set before forward, which may skip what only backward needs.
            if count == 2:
                x, y = inputs
                if state.grad_enabled and (x.requires_grad or y.requires_grad):
                    record = True
                    ctx.needs_input_grad = (x.requires_grad, y.requires_grad)
                data = cls.forward(ctx, x.data, y.data, **params)
            elif count == 1:
                x = inputs[0]
                if state.grad_enabled and x.requires_grad:
                    record = True
                    ctx.needs_input_grad = (True,)
                data = cls.forward(ctx, x.data, **params)
            else:
                if state.grad_enabled:
                    needs = tuple([x.requires_grad for x in inputs])
                    if True in needs:
                        record = True
                        ctx.needs_input_grad = needs
                data = cls.forward(ctx, *[x.data for x in inputs], **params)
        except (ValueError, IndexError, TypeError) as error:
            raise _name_the_op(cls, inputs, error) from None
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # NumPy gives scalars, not 0-d arrays, for 0-d arithmetic
        out = Tensor.__new__(Tensor)
        out.data = data
        out.grad = None
        out.requires_grad = record
        out._version = 0
        if record:
            ctx.inputs = inputs
            ctx._output_ref = weakref.ref(out)
            ctx._tick = _ChangeClock.now
            out._ctx = ctx
        else:
            out._ctx = None
        if state.anomaly:
            _check_forward(ctx, cls, inputs, data)
        return out

    @property
    def output(self):
        """The output Tensor (held by weak reference: the output owns this ctx)."""
        return self._output_ref()

    @classmethod
    def name(cls):
        """The op's name in messages: ``Mul`` -> ``mul``."""
        return cls.op_name or cls.__name__.lower()

    @staticmethod
    def forward(ctx, *arrays, **params):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, gy):
        raise NotImplementedError


def _name_the_op(cls, inputs, error):
    """Prefix a NumPy error from inside forward with the op's name and input shapes."""
    message = str(error)
    prefix = cls.name() + ":"
    if message.startswith(prefix):
        return error
    shapes = " and ".join(str(x.shape) for x in inputs)
    if "broadcast" in message and len(inputs) == 2:
        return ValueError(f"{prefix} shapes {shapes} cannot be broadcast together "
                          f"(from the right, each pair of sizes must be equal or contain a 1)")
    return type(error)(f"{prefix} {message} (input shapes {shapes})")


# --- anomaly detection --------------------------------------------------------


@contextlib.contextmanager
def detect_anomaly():
    """Raise at the first op whose forward or backward produces NaN or Inf (this thread).

    The error names the op, its input shapes, the pass (forward or backward)
    and the line of user code that created the op. The line is captured only
    while detection is on, so normal runs pay nothing.

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor([0.0, 1.0], requires_grad=True)
    >>> with tk.detect_anomaly():
    ...     y = x.log()
    Traceback (most recent call last):
    ...
    FloatingPointError: log produced -inf in forward ...
    """
    previous = _state.anomaly
    _state.anomaly = True
    try:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            yield
    finally:
        _state.anomaly = previous


# Constants from finite Python numbers that became inf when cast to a tensor's dtype (float32 + 1e300):
# the op that used them counts as the one that made the inf.
overflowed_numbers = weakref.WeakSet()


def _user_line():
    """'file:line: code' of the innermost frame outside this package."""
    package_dir = os.path.dirname(os.path.abspath(__file__)) + os.sep
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not frame.filename.startswith(package_dir):
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown>"


def _bad_value(array):
    """'nan', 'inf' or '-inf' if the array holds one, else None."""
    if array.dtype.kind not in "fc" or np.isfinite(array).all():
        return None
    if np.isnan(array).any():
        return "nan"
    return "inf" if np.isposinf(array).any() else "-inf"


def _check_forward(ctx, cls, inputs, data):
    if _state.in_backward:
        return  # ops run by a backward are checked as that op's gradients
    ctx._created_at = _user_line()
    bad = _bad_value(data)
    if bad is not None and all(_bad_value(x.data) is None or x in overflowed_numbers for x in inputs):
        shapes = ", ".join(str(x.shape) for x in inputs)
        raise FloatingPointError(
            f"{cls.name()} produced {bad} in forward (input shapes {shapes}); "
            f"created at {ctx._created_at}")


def _check_backward(ctx, gy, grads):
    if _bad_value(gy.data) is not None or any(_bad_value(x.data) is not None for x in ctx.inputs):
        return  # the bad value was there before this op; whoever made it was named
    for i, gx in enumerate(grads):
        bad = None if gx is None else _bad_value(gx.data)
        if bad is not None:
            shapes = ", ".join(str(x.shape) for x in ctx.inputs)
            created = getattr(ctx, "_created_at", "<created before detect_anomaly>")
            raise FloatingPointError(
                f"{type(ctx).name()} produced {bad} in backward, in the gradient of input {i} "
                f"(input shapes {shapes}); created at {created}")


# --- backprop -----------------------------------------------------------------


class _FreedInputs:
    """Stands in for ``ctx.inputs`` once a backward pass has freed the Function."""

    def _refuse(self, *args):
        raise _GraphFreed

    __iter__ = __len__ = __getitem__ = __reversed__ = _refuse


class _GraphFreed(RuntimeError):
    pass


FREED = _FreedInputs()


def graph_freed_error(ctx, where="backward"):
    """The RuntimeError for a second pass through a Function that an earlier backward freed."""
    return RuntimeError(
        f"{where}: trying to backward through the graph a second time: <{type(ctx).__name__}> was "
        f"freed by an earlier backward pass, which drops the arrays the graph saved; pass "
        f"retain_graph=True to the first backward() (or tk.grad) to go through the same graph twice, "
        f"or recompute the forward pass")


def toposort(roots):
    """Tensors that lead to the roots, each after all its inputs. Iterative: deep graphs are fine.

    A depth-first search with an explicit stack of (tensor, iterator over its
    inputs): a tensor is placed once its iterator is exhausted, i.e. once all
    its inputs have been placed (a leaf at once: it has none). Raises
    RuntimeError (before any gradient is computed) on reaching a Function that
    an earlier backward pass freed.
    """
    return _sort(roots)[0]


def _sort(roots):
    """(toposort's order, the leaves in it): one walk for both."""
    order, leaves, seen = [], [], set()
    x = None
    try:
        for x in roots:
            if id(x) in seen:
                continue
            seen.add(id(x))
            if x._ctx is None:
                order.append(x)
                leaves.append(x)
                continue
            stack = [(x, iter(x._ctx.inputs))]
            while stack:
                t, inputs = stack[-1]
                for x in inputs:
                    if x.requires_grad and id(x) not in seen:
                        seen.add(id(x))
                        if x._ctx is None:  # a leaf: nothing to place before it
                            order.append(x)
                            leaves.append(x)
                            continue
                        stack.append((x, iter(x._ctx.inputs)))
                        break
                else:
                    stack.pop()
                    order.append(t)
    except _GraphFreed:
        raise graph_freed_error(x._ctx) from None
    return order, leaves


def backprop(roots, root_grads, targets, create_graph=False, retain_graph=None):
    """The chain rule from ``roots`` back to ``targets``.

    Returns a list with the gradient Tensor of each target (None where no path
    leads to it). Intermediate gradients are dropped as soon as they are used.
    """
    grads = {}
    for root, g in zip(roots, root_grads):
        previous = grads.get(id(root))
        grads[id(root)] = g if previous is None else previous + g
    retain = create_graph if retain_graph is None else retain_graph
    _run_backward(toposort(roots), grads, {id(t) for t in targets}, create_graph, retain)
    return [grads.get(id(t)) for t in targets]


def _run_backward(order, grads, keep, create_graph, retain_graph):
    """Walk ``order`` (from toposort) backwards, turning each output gradient in ``grads`` into
    its inputs' gradients. Gradients of tensors not in ``keep`` are dropped once used.

    Unless ``retain_graph``, each Function is freed once its backward has run, and
    ``order`` lets go of each tensor, so intermediate arrays are released during the pass.
    This loop runs for every op of every training step, so the work per op is written
    out here rather than called.
    """
    state = _state
    saved = state.grad_enabled, state.in_backward
    state.grad_enabled, state.in_backward = create_graph, True  # record only for create_graph
    anomaly = state.anomaly
    clock = _ChangeClock
    try:
        for i in range(len(order) - 1, -1, -1):
            t = order[i]
            ctx = t._ctx
            if ctx is None:
                continue
            if not retain_graph:
                order[i] = None
            key = id(t)
            g = grads.get(key) if key in keep else grads.pop(key, None)
            if g is not None:
                if ctx._tick != clock.now:  # something changed in place since this op ran
                    _check_versions(ctx)
                gxs = type(ctx).backward(ctx, g)
                if type(gxs) is not tuple:
                    gxs = (gxs,)
                if anomaly:
                    _check_backward(ctx, g, gxs)
                for x, gx, needed in zip(ctx.inputs, gxs, ctx.needs_input_grad):
                    if gx is None or not needed:
                        continue
                    # in x's shape and dtype, then added to what x has (never +=: gx may be shared)
                    data, x_data = gx.data, x.data
                    if data.shape != x_data.shape:
                        gx = _unbroadcast(ctx, x, gx)
                    if data.dtype is not x_data.dtype and data.dtype != x_data.dtype:
                        gx = gx.astype(x_data.dtype)
                    x_key = id(x)
                    previous = grads.get(x_key)
                    grads[x_key] = gx if previous is None else previous + gx
            if not retain_graph:  # drop what the Function held (inputs, saved arrays); keep its class
                ctx.__dict__.clear()
                ctx.inputs = FREED
    finally:
        state.grad_enabled, state.in_backward = saved


def _check_versions(ctx):
    """Raise if an input or output that ctx's backward reads was changed in place after forward."""
    cls = type(ctx)
    used = range(len(ctx.inputs)) if cls.uses_inputs is None else cls.uses_inputs
    for i in used:
        x = ctx.inputs[i]
        if x._version > ctx._tick:
            raise _changed_error(ctx, f"input {i}", x)
    if cls.uses_output:
        out = ctx.output
        if out is not None and out._version > ctx._tick:
            raise _changed_error(ctx, "output", out)


def _changed_error(ctx, which, t):
    how = getattr(t, "_changed_by", "an in-place operation")
    return RuntimeError(
        f"backward of {type(ctx).name()} (grad_fn=<{type(ctx).__name__}>) needs its {which} of shape "
        f"{t.shape}, but that tensor was modified in place (by {how}) after it was used in the forward "
        f"pass, so the gradient would be wrong; recompute the forward pass after the change, or change "
        f"a copy (.clone()) instead")


def _unbroadcast(ctx, x, gx):
    """Sum a gradient of the broadcast shape back to its input's shape: one place for all ops."""
    try:
        broadcast = np.broadcast_shapes(gx.shape, x.shape) == gx.shape
    except ValueError:
        broadcast = False
    if not broadcast:
        i = next(i for i, y in enumerate(ctx.inputs) if y is x)
        raise RuntimeError(
            f"{type(ctx).name()}.backward returned a gradient of shape {gx.shape} for input {i} of "
            f"shape {x.shape}; a gradient must have its input's shape or one that broadcasts from it")
    return ops.SumTo.apply(gx, shape=x.shape)


def _as_grad(grad, like, where):
    """Check and convert a user-given output gradient to a Tensor of ``like``'s shape and dtype."""
    g = grad if isinstance(grad, Tensor) else Tensor(np.asarray(grad))
    if g.shape != like.shape:
        raise ValueError(
            f"{where}: grad has shape {g.shape} but the tensor has shape {like.shape}; "
            f"pass a gradient of shape {like.shape}")
    if g.dtype != like.dtype:
        g = g.astype(like.dtype)
    return g


def _implicit_grad(t, where):
    if t.size != 1:
        raise ValueError(
            f"{where}: grad can be created implicitly only for a one-element tensor, "
            f"but this tensor has shape {t.shape}; pass grad= of shape {t.shape} "
            f"(or reduce it first, e.g. .sum())")
    if t.ndim == 0 and t.dtype.kind == "f":  # a loss: the shared read-only constant 1 (nothing writes a gradient)
        return _number(1.0, t.dtype)
    return Tensor(np.ones(t.shape, t.dtype))


def _check_requires_grad(t, where):
    if not t.requires_grad:
        raise RuntimeError(
            f"{where}: the tensor does not require grad and has no grad_fn; "
            f"create its leaves with requires_grad=True (and not under no_grad())")


_leaf_grad_lock = threading.Lock()  # two threads adding into one leaf's .grad must not lose a term


def tensor_backward(t, grad=None, retain_graph=None, create_graph=False):
    """Implementation of ``Tensor.backward``: accumulate into the leaves' ``.grad``."""
    _check_requires_grad(t, "backward")
    g = _implicit_grad(t, "backward") if grad is None else _as_grad(grad, t, "backward")
    handed_out = {id(g.data)}  # the user's own gradient array never becomes a .grad
    order, leaves = _sort([t])
    grads = {id(t): g}
    retain = create_graph if retain_graph is None else retain_graph
    _run_backward(order, grads, {id(x) for x in leaves}, create_graph, retain)
    with _leaf_grad_lock:
        for leaf in leaves:
            lg = grads.get(id(leaf))
            if lg is None:
                continue
            if leaf.grad is not None:
                leaf.grad = leaf.grad + lg
                continue
            data = lg.data
            # Two leaves' .grad must never share memory (y = a + b hands both the same array),
            # and a .grad must be writable (a broadcast view is not).
            if data.base is not None or id(data) in handed_out or not data.flags.writeable:
                lg = lg.clone()
            handed_out.add(id(lg.data))
            leaf.grad = lg  # without create_graph it was computed under no_grad: a plain leaf


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned; no ``.grad`` is touched.

    outputs: a Tensor or a sequence of Tensors; grad_outputs: matching
    gradients (Tensors or ndarrays), needed for outputs with more than one
    element. inputs: a Tensor or a sequence of Tensors that require grad.
    Returns a tuple with one gradient Tensor per input (shape of that input).
    An input that the outputs do not depend on raises ``ValueError`` unless
    ``allow_unused=True``, which gives None for it. The graph is freed unless
    ``retain_graph=True`` (default: ``create_graph``), as in ``Tensor.backward``.

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor(3.0, requires_grad=True)
    >>> (gx,) = tk.grad(x ** 2, x, create_graph=True)
    >>> gx
    Tensor(6., grad_fn=<Mul>)
    >>> tk.grad(gx, x)
    (Tensor(2.),)
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, x in enumerate(inputs):
        _check_requires_grad(x, f"grad (input {i})")
    for out in outputs:
        _check_requires_grad(out, "grad (output)")
    root_grads = [_implicit_grad(o, "grad") if g is None else _as_grad(g, o, "grad")
                  for o, g in zip(outputs, grad_outputs)]
    results = backprop(outputs, root_grads, inputs, create_graph, retain_graph)
    for i, g in enumerate(results):
        if g is None and not allow_unused:
            raise ValueError(
                f"grad: input {i} (shape {inputs[i].shape}) is not used to compute the outputs; "
                f"pass allow_unused=True to get None for it")
    if not create_graph:
        results = [None if g is None else g.detach() for g in results]
    return tuple(results)


from . import ops  # noqa: E402  (ops.py builds on Function, defined above)
