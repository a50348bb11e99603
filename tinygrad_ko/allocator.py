"""Let a training run keep the memory it frees, for the next step (Linux with glibc; elsewhere nothing).

A training step of a convolution net makes arrays of several MB (a conv
layer's output, its gradient) and frees them all at its end. By default the
GNU C library gives such memory back to the system once a few tens of MB are
free, and the next step asks for it again: the system then hands it out page
by page, zeroing each one, and that is paid in system time on every step.
Measured (AMD EPYC, 1 BLAS thread, each net in a process of its own, 20
steps after 3): SimpleConvNet float64 at batch 100 took 54 ms per step, 20 of
them system time and 6,640 page faults; with the memory kept, 35 ms and none.
PyTorch's eager CPU mode pays the same cost (its own process: 22 ms of system
time per step on that net).

``keep_freed_memory()`` raises glibc's two thresholds for the rest of the
process (``mallopt``): blocks up to ``MMAP_THRESHOLD_BYTES`` come from the heap
and free memory up to ``TRIM_THRESHOLD_BYTES`` stays in the process. The
price: the process's resident memory stays near its peak after a run instead
of shrinking. ``tk.training.train`` (and so ``tinygrad-ko train`` and
``tk.Trainer``) calls it once when it starts, and so does the first
``gradient`` (or ``loss_and_gradient``) of one of the book's nets, which the
book's own loop calls every step (a DeepConvNet float32 step, batch 32, in a
process of its own on an AMD EPYC with AVX-512: 64 ms with 5,200 page faults
and 12 ms of system time per step, 47 ms and none with the memory kept).
The environment variable ``TINYGRAD_KO_KEEP_FREED_MEMORY=0`` turns it off.
"""

import ctypes
import ctypes.util
import os
import sys
import threading

# glibc's mallopt parameter numbers (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD_BYTES = 64 * 2 ** 20
TRIM_THRESHOLD_BYTES = 1024 * 2 ** 20
ENVIRONMENT = "TINYGRAD_KO_KEEP_FREED_MEMORY"

_lock = threading.Lock()
_done = None  # None: not tried yet; then True (applied) or False (not possible here, or turned off)


def keep_freed_memory():
    """Keep freed memory in the process (glibc only), once per process; True if it is in force.

    >>> keep_freed_memory() in (True, False)
    True
    """
    global _done
    if _done is None:  # every training step asks: only the first one takes the lock
        with _lock:
            if _done is None:
                _done = _apply()
    return _done


def _apply():
    if os.environ.get(ENVIRONMENT, "1").strip() == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # The mmap threshold first: setting either one also stops glibc from adjusting the other.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD,
                                                                                 TRIM_THRESHOLD_BYTES))
