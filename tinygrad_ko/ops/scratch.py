"""Reusable memory for the large arrays an op keeps from forward to backward (conv2d's columns).

Why: a training step that keeps tens of MB of columns alive until backward, then
frees them all at once, makes the C library hand that memory back to the
system, and the next step asks for it again page by page. Measured on a
DeepConvNet float32 step (batch 32, 1 BLAS thread, a process of its own):
10,400 page faults and 23 ms of system time per step, a third of the step.
Taking the columns from buffers that stay in this pool removes that: the same
memory is used again by the next step.

A buffer is free again as soon as no array made from it is alive: every array
handed out refers to its buffer (NumPy's ``.base`` chain), so the buffer's
reference count says whether anything still uses it. Nothing has to give a
buffer back, and an array that a user keeps (or a graph kept with
``retain_graph=True``) keeps its buffer taken. Each thread has its own pool.
"""

import sys
import threading

import numpy as np

# Arrays below this size come from np.empty: the C library reuses small blocks well by itself.
MIN_POOLED_BYTES = 1 << 20
# The free buffers kept for later, at most (their sum); beyond it the smallest free ones are dropped.
MAX_FREE_BYTES = 512 * 2 ** 20
# All buffers of a thread's pool, at most; beyond it arrays come from np.empty.
MAX_POOL_BYTES = 2 * 2 ** 30

_local = threading.local()


def _unused_count():
    """sys.getrefcount of a pool's buffer that nothing else refers to (2 on CPython 3.10-3.13).

    Measured, not assumed: a Python whose count differs only changes this number.
    """
    buffers = [np.empty(1, np.uint8)]
    return sys.getrefcount(buffers[0])


_UNUSED = _unused_count()


def _buffers():
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = []
    return buffers


def _is_free(buffers, i):
    # The pool's list and getrefcount's own argument. Any array made from the buffer adds one
    # (directly, or through the view it was made from).
    return sys.getrefcount(buffers[i]) == _UNUSED


def scratch_empty(shape, dtype):
    """An uninitialised C-contiguous array of ``shape`` and ``dtype``; large ones from the pool.

    A pooled array shares no memory with any other live array from the pool; its
    contents are whatever the buffer held before (as ``np.empty``'s).
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < MIN_POOLED_BYTES:
        return np.empty(shape, dtype)
    buffers = _buffers()
    best = None
    for i in range(len(buffers)):
        # best fit among the free buffers, but not one more than twice the size asked for
        size = buffers[i].nbytes
        if nbytes <= size <= 2 * nbytes and _is_free(buffers, i) and (best is None or size < buffers[best].nbytes):
            best = i
    if best is None:
        _drop_free(buffers, MAX_FREE_BYTES - nbytes)
        if sum(b.nbytes for b in buffers) + nbytes > MAX_POOL_BYTES:
            return np.empty(shape, dtype)
        buffers.append(np.empty(nbytes, np.uint8))
        best = len(buffers) - 1
    return buffers[best][:nbytes].view(dtype).reshape(shape)


def _drop_free(buffers, keep_bytes):
    """Drop the smallest free buffers until the free ones take at most ``keep_bytes``."""
    free = sorted((buffers[i].nbytes, i) for i in range(len(buffers)) if _is_free(buffers, i))
    total = sum(size for size, _ in free)
    dropped = set()
    for size, i in free:
        if total <= max(keep_bytes, 0):
            break
        dropped.add(i)
        total -= size
    if dropped:
        buffers[:] = [b for i, b in enumerate(buffers) if i not in dropped]


def pooled_bytes():
    """(bytes in this thread's pool, of which free): for tests and the memory benchmark."""
    buffers = _buffers()
    total = sum(b.nbytes for b in buffers)
    free = sum(buffers[i].nbytes for i in range(len(buffers)) if _is_free(buffers, i))
    return total, free


def release_free():
    """Let go of this thread's free buffers (the memory goes back to the C library)."""
    _drop_free(_buffers(), 0)
