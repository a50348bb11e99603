"""Movement: shape changes, broadcasting, copies and indexing (no arithmetic)."""

import numpy as np

from .._checks import is_int, one_axis, whole_int
from ..autograd import Function


def sum_to_shape(x, shape):
    """Sum the ndarray ``x`` over the axes that broadcasting added or stretched, down to ``shape``."""
    lead = x.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


class SumTo(Function):
    """y = x summed down to ``shape`` (undoes broadcasting).  Backward broadcasts gy back.

    Saves x's shape.
    """

    op_name = "sum_to"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return sum_to_shape(x, shape)

    @staticmethod
    def backward(ctx, gy):
        return BroadcastTo.apply(gy, shape=ctx.in_shape)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (a read-only view).  Backward: the engine sums gy back to x's shape."""

    op_name = "broadcast_to"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except (TypeError, ValueError):
            _check_shape(shape, x.shape, "broadcast_to", unknown_ok=False)
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)} (from the right, "
                             f"each size of {x.shape} must equal the target's or be 1)") from None

    @staticmethod
    def backward(ctx, gy):
        return gy


class Reshape(Function):
    """y = x.reshape(shape).  Backward reshapes gy to x's shape.  Saves x's shape."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except (TypeError, ValueError):
            _check_shape(shape, x.shape, "reshape", unknown_ok=True)
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into "
                             f"shape {tuple(shape)}; the new sizes must multiply to {x.size} (one of them "
                             f"may be -1, worked out from the others)") from None

    @staticmethod
    def backward(ctx, gy):
        return gy.reshape(ctx.in_shape)


class Transpose(Function):
    """y = x.transpose(axes) (None reverses the axes).  Backward applies the inverse permutation."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, axes):
        try:
            y = np.transpose(x, axes)  # NumPy checks the permutation
        except TypeError:  # an axis that is not an int: say so in our words
            fixed = [a if is_int(a) else whole_int(a) for a in axes]
            hint = f"use {tuple(fixed)}" if None not in fixed else f"pass a permutation of {tuple(range(x.ndim))}"
            raise TypeError(f"transpose: axes must be ints, got {tuple(axes)} for a tensor of shape {x.shape}; "
                            f"{hint}") from None
        ctx.axes = None if axes is None else tuple(int(a) % x.ndim for a in axes)
        return y

    @staticmethod
    def backward(ctx, gy):
        if ctx.axes is None:
            return gy.transpose()
        return gy.transpose(tuple(np.argsort(ctx.axes)))


class Copy(Function):
    """y = a copy of x as ``dtype`` (clone and astype).  Backward: the engine casts gy back to x's dtype."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, gy):
        return gy


def _is_basic(index):
    """True when ``x[index]`` cannot name an element twice (slices, ints, None, ..., boolean masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, np.ndarray) and part.dtype != bool:
            return False
        if isinstance(part, (list, tuple)):
            return False
    return True


class GetItem(Function):
    """y = x[index] (basic slicing, boolean masks, integer-array indexing).

    Backward scatters gy into zeros of x's shape; where integer arrays repeat
    an index, the gradients add up (``np.add.at``). Saves the index and x's shape.
    """

    op_name = "getitem"
    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, index):
        ctx.index = index
        ctx.in_shape = x.shape
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, gy):
        return ScatterAdd.apply(gy, index=ctx.index, shape=ctx.in_shape)


class ScatterAdd(Function):
    """y = zeros(shape) with x added at ``index`` (the gradient of GetItem).  Backward: gy[index]."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, index, shape):
        ctx.index = index
        y = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            y[index] = x
        else:
            np.add.at(y, index, x)
        return y

    @staticmethod
    def backward(ctx, gy):
        return gy[ctx.index]


class Tile(Function):
    """y = np.tile(x, reps): x repeated reps[i] times along axis i (PyTorch's ``Tensor.repeat``).

    Backward views gy as (r0, n0, r1, n1, ...) and sums over the repeats.
    Saves x's shape (padded with leading 1s, as np.tile pads it) and the reps.
    """

    uses_inputs = ()

    @staticmethod
    def forward(ctx, x, reps):
        ndim = max(len(reps), x.ndim)
        ctx.reps = (1,) * (ndim - len(reps)) + tuple(reps)
        ctx.padded_shape = (1,) * (ndim - x.ndim) + x.shape
        ctx.in_shape = x.shape
        return np.tile(x, reps)

    @staticmethod
    def backward(ctx, gy):
        interleaved = []
        for r, n in zip(ctx.reps, ctx.padded_shape):
            interleaved += [r, n]
        repeats = tuple(range(0, 2 * len(ctx.reps), 2))
        return gy.reshape(interleaved).sum(axis=repeats).reshape(ctx.in_shape)


class Concatenate(Function):
    """y = np.concatenate(xs, axis).  Backward hands each input its slice of gy.  Saves the sizes."""

    uses_inputs = ()

    @staticmethod
    def forward(ctx, *xs, axis):
        if type(axis) is not int or not -xs[0].ndim <= axis < xs[0].ndim:
            axis = one_axis(axis, xs[0].ndim, "concatenate", xs[0].shape)
        y = np.concatenate(xs, axis=axis)  # NumPy checks the shapes
        ctx.axis = axis % y.ndim
        ctx.sizes = [x.shape[ctx.axis] for x in xs]
        return y

    @staticmethod
    def backward(ctx, gy):
        grads, start = [], 0
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            index = (slice(None),) * ctx.axis + (slice(start, start + size),)
            grads.append(gy[index] if needed else None)
            start += size
        return tuple(grads)


# --- shape helpers built on the Functions above (Tensor methods and tk.functional call these) ---


def _check_shape(shape, in_shape, op, unknown_ok):
    """A TypeError or ValueError unless ``shape`` is a tuple of non-negative ints (and one -1 if ``unknown_ok``)."""
    if not all(is_int(n) for n in shape):
        fixed = [n if is_int(n) else whole_int(n) for n in shape]
        hint = f"use {tuple(fixed)}" if None not in fixed else "pass ints"
        raise TypeError(f"{op}: a shape holds ints, got {tuple(shape)} for a tensor of shape {in_shape}; {hint}")
    least = -1 if unknown_ok else 0
    if any(n < least for n in shape) or (unknown_ok and list(shape).count(-1) > 1):
        allowed = "non-negative ints, and at most one -1 (a size worked out from the others)" if unknown_ok \
            else "non-negative ints"
        raise ValueError(f"{op}: a shape holds {allowed}, got {tuple(shape)} for a tensor of shape {in_shape}")


def _axis(axis, ndim, op, shape):
    """One axis in range(ndim), negatives counted from the end, or an error naming the op and the shape."""
    return one_axis(axis, ndim, op, shape)


def squeeze(x, axis=None):
    """x without the size-1 axes named by ``axis`` (None: all of them), as ``np.squeeze``."""
    if axis is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        axes = [_axis(a, x.ndim, "squeeze", x.shape) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))]
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1; "
                             f"only size-1 axes can be removed")
    return Reshape.apply(x, shape=tuple(n for i, n in enumerate(x.shape) if i not in axes))


def expand_dims(x, axis, op="expand_dims"):
    """x with a new size-1 axis at each position in ``axis`` (of the result), as ``np.expand_dims``."""
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = x.ndim + len(axes)
    positions = {_axis(a, ndim, op, x.shape) for a in axes}
    if len(positions) != len(axes):
        raise ValueError(f"{op}: axis {axis} repeats a position")
    sizes = iter(x.shape)
    return Reshape.apply(x, shape=tuple(1 if i in positions else next(sizes) for i in range(ndim)))


def flatten(x, start_dim=0, end_dim=-1):
    """x with the axes start_dim..end_dim (both included) merged into one, as ``torch.flatten``."""
    if x.ndim == 0:
        return Reshape.apply(x, shape=(1,))
    start, end = _axis(start_dim, x.ndim, "flatten", x.shape), _axis(end_dim, x.ndim, "flatten", x.shape)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {x.shape}")
    merged = int(np.prod(x.shape[start:end + 1]))
    return Reshape.apply(x, shape=x.shape[:start] + (merged,) + x.shape[end + 1:])


def swapaxes(x, axis0, axis1):
    """x with two axes exchanged, as ``np.swapaxes`` and ``torch.swapaxes``."""
    order = list(range(x.ndim))
    a, b = _axis(axis0, x.ndim, "swapaxes", x.shape), _axis(axis1, x.ndim, "swapaxes", x.shape)
    order[a], order[b] = order[b], order[a]
    return Transpose.apply(x, axes=tuple(order))


def sum_to(x, shape):
    """x summed down to ``shape``, the shape it was broadcast from (the book's vol. 3 ``sum_to``)."""
    shape = tuple(shape)
    try:
        fits = np.broadcast_shapes(shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"sum_to: cannot sum shape {x.shape} down to {shape}; {shape} must broadcast "
                         f"to {x.shape} (from the right, each size equal or 1)")
    return SumTo.apply(x, shape=shape)


def tile(x, reps, op="tile"):
    """np.tile(x, reps): x repeated along each axis (reps shorter than x.ndim is padded with 1s)."""
    reps = (reps,) if is_int(reps) else tuple(reps)
    if any(not is_int(r) or r < 0 for r in reps):
        raise ValueError(f"{op}: repeats must be non-negative ints (how many copies along each axis), got "
                         f"{reps} for a tensor of shape {x.shape}")
    return Tile.apply(x, reps=tuple(int(r) for r in reps))


def repeat(x, sizes):
    """PyTorch's ``Tensor.repeat(*sizes)``: np.tile, with at least one size per axis of x."""
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: got {len(sizes)} sizes for a tensor of shape {x.shape}; give one per "
                         f"axis (as torch's Tensor.repeat), or use tile, which pads with 1s")
    return tile(x, sizes, "repeat")


def concatenate(tensors, axis=0):
    """np.concatenate of Tensors (axis None: of the flattened tensors)."""
    if len(tensors) == 0:
        raise ValueError("concatenate: needs at least one tensor")
    if axis is None:
        return Concatenate.apply(*[Reshape.apply(t, shape=(-1,)) for t in tensors], axis=0)
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """The tensors, all of one shape, joined along a new axis, as ``np.stack``."""
    if len(tensors) == 0:
        raise ValueError("stack: needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have the same shape, got "
                         f"{', '.join(str(t.shape) for t in tensors)}")
    return Concatenate.apply(*[expand_dims(t, axis, "stack") for t in tensors], axis=axis)


def split(x, size_or_sizes, axis=0):
    """Pieces of x along ``axis``, as ``torch.split``: an int is each piece's size (the last may be
    smaller), a list gives the size of every piece (they must add up to the axis). A tuple of views."""
    axis = _axis(axis, x.ndim, "split", x.shape)
    n = x.shape[axis]
    if not is_int(size_or_sizes) and not (isinstance(size_or_sizes, (list, tuple))
                                          and all(is_int(s) for s in size_or_sizes)):
        raise TypeError(f"split: size_or_sizes must be an int (the size of each piece) or a list of ints (the "
                        f"size of every piece), got {size_or_sizes!r} for axis {axis} of shape {x.shape}")
    if is_int(size_or_sizes):
        if size_or_sizes <= 0:
            raise ValueError(f"split: the piece size must be positive, got {size_or_sizes}")
        sizes = [min(size_or_sizes, n - start) for start in range(0, n, size_or_sizes)] or [0]
    else:
        sizes = [int(s) for s in size_or_sizes]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, "
                             f"the size of axis {axis} of shape {x.shape}")
    pieces, start = [], 0
    for size in sizes:
        pieces.append(GetItem.apply(x, index=(slice(None),) * axis + (slice(start, start + size),)))
        start += size
    return tuple(pieces)
