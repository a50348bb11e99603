"""How many threads NumPy's BLAS gets for a training run: one choice, used by the CLI, Trainer and examples.

    from tinygrad_ko.threads import set_blas_threads
    set_blas_threads(network, batch_size=100)        # the one line an example adds

NumPy's BLAS starts one thread per core. For the book's nets that is a loss:
their matrix products are small (a batch of 100 rows times a 784 x 100 weight
is 16 million multiply-adds, under a millisecond on one core), so handing
each one to a second thread costs more than it saves, and when another
program keeps a core busy the hand-off stalls for milliseconds. Measured on a
busy 2-core machine: 1,000 TwoLayerNet steps took 31 s with two BLAS threads
and 2.7 s with one; a 100 x 784 @ 784 x 100 product took 6.8 ms with two
threads and 0.52 ms with one, and even 1000 x 1000 @ 1000 x 1000 was faster
on one thread there.

So the choice is one thread unless the largest matrix product of a training
step is big (``MANY_THREADS_FLOPS``), where the work per thread outweighs the
hand-off. It depends only on the net, the batch and the core count, never on
the machine's momentary load: the number of threads can change the last bits
of a product (a sum over the batch split between threads adds in another
order), and a seed must give the same numbers run after run.

>>> import tinygrad_ko as tk
>>> choose_blas_threads(tk.TwoLayerNet(784, 100, 10), batch_size=100)
1
"""

import contextlib
import os

import numpy as np

# Above this many floating-point operations in one matrix product, use every core.
MANY_THREADS_FLOPS = 1e9


def usable_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def _weights(net):
    """The net's weight arrays (book interface: ``params``; else a Module's parameters)."""
    params = getattr(net, "params", None)
    if params is not None:
        return [np.asarray(getattr(v, "data", v)) for v in params.values()]
    if hasattr(net, "parameters"):
        return [p.data for p in net.parameters()]
    return []


def largest_matmul_flops(net, batch_size, sample_shape=None):
    """About the operations (2 per multiply-add) of the largest matrix product in one step.

    A 2-D weight (in, out) meets ``batch_size`` rows; a 4-D filter (FN, C, FH, FW)
    meets ``batch_size * H * W`` rows (im2col; ``sample_shape`` is one input's
    (C, H, W), taken as 28 x 28 when not given).
    """
    if sample_shape is not None and len(sample_shape) == 3:
        positions = int(sample_shape[1]) * int(sample_shape[2])
    else:
        positions = 28 * 28
    # The book's conv nets know each convolution's output size (deeper ones work on pooled, smaller maps).
    conv_sizes = list(getattr(net, "conv_output_sizes", []))
    largest = 0
    filters = [w for w in _weights(net) if w.ndim == 4]
    for w in _weights(net):
        if w.ndim == 2:
            largest = max(largest, 2 * batch_size * w.size)
    for i, w in enumerate(filters):
        out_positions = conv_sizes[i][0] * conv_sizes[i][1] if i < len(conv_sizes) else positions
        largest = max(largest, 2 * batch_size * out_positions * w.size)
    return largest


def choose_blas_threads(net=None, batch_size=100, sample_shape=None):
    """BLAS threads for training ``net`` on batches of ``batch_size``: 1, or every usable core.

    Every core only when one step's largest matrix product reaches
    ``MANY_THREADS_FLOPS``; see the module docstring for why.
    """
    cores = usable_cores()
    if net is None or cores == 1:
        return 1
    if largest_matmul_flops(net, batch_size, sample_shape) < MANY_THREADS_FLOPS:
        return 1
    return cores


def limit_blas_threads(threads):
    """A context manager that limits NumPy's BLAS to ``threads`` threads inside its block.

    Uses threadpoolctl; without it the block runs with BLAS as it is.

    >>> with limit_blas_threads(1):
    ...     pass
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(threads), user_api="blas")


def set_blas_threads(net=None, batch_size=100, sample_shape=None, threads=None):
    """Limit NumPy's BLAS for the rest of the program; return the thread count chosen.

    ``threads=None`` chooses with ``choose_blas_threads(net, batch_size,
    sample_shape)``. Returns None (and changes nothing) without threadpoolctl.

    >>> import tinygrad_ko as tk
    >>> with limit_blas_threads(2):          # restore afterwards, for the other examples
    ...     set_blas_threads(tk.TwoLayerNet(784, 50, 10), batch_size=100)
    1
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    if threads is None:
        threads = choose_blas_threads(net, batch_size, sample_shape)
    threadpool_limits(limits=int(threads), user_api="blas")  # stays in force: no `with`
    return int(threads)
