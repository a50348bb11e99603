"""The quick benchmark table: tinygrad_ko against hand-written NumPy, measured in one run.

    tinygrad-ko bench                  # about 20 s, BLAS pinned to 1 thread
    tinygrad-ko bench --seconds 60 --threads 2
    python -c "from tinygrad_ko import bench; bench.main(profile=True)"   # and the per-op tables

Two measurements, each a ratio against a reference timed in the same process,
round by round (so a noisy machine slows both sides alike):

1. One training step of the book's TwoLayerNet (784-100-10, sigmoid, batch
   100, float64 and float32): ``net.gradient(x, t)`` + ``SGD.update``, against
   the book's chapter-5 layers in NumPy (the reference), and the floor: the
   five matrix products of a step and nothing else.
2. The cost per elementwise op: a chain of 100 ``x * 1.0001`` on a (2, 3)
   tensor, forward + backward, against the same chain in NumPy.

The full comparisons (PyTorch, HIPS autograd, mygrad, DeZero, MultiLayerNet,
scaling, memory) are the scripts in the repository's ``benchmarks/`` folder;
they use the timing helpers below. Nothing here asserts a speed.

>>> rows = summarize({"ref": [2.0, 2.0, 2.0], "new": [3.0, 2.0, 4.0]}, reference="ref")
>>> [(r["name"], r["ratio"], r["ratio_min"], r["ratio_max"]) for r in rows]
[('ref', 1.0, 1.0, 1.0), ('new', 1.5, 1.0, 2.0)]
"""

import itertools
import json
import os
import platform
import random
import statistics
import sys
import time

import numpy as np

# --- machine and threads ---


def pin_blas(threads):
    """Limit BLAS to ``threads`` threads with threadpoolctl (if installed).

    Returns ``(limiter, note)``: call ``limiter.restore_original_limits()`` to
    undo (``limiter`` is None when nothing was set), and a line for the report.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None, (f"threadpoolctl is not installed: BLAS threads left as they are "
                      f"(pip install threadpoolctl to pin them to {threads})")
    limiter = threadpool_limits(limits=threads, user_api="blas")
    return limiter, f"BLAS pinned to {threads} thread(s) with threadpoolctl"


def cpu_model():
    """The CPU's model name (Linux: /proc/cpuinfo), else what platform says."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def blas_summary():
    """One line on NumPy's BLAS: library, version, threads (threadpoolctl), else NumPy's build config."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        found = [info for info in threadpool_info() if info.get("user_api") == "blas"]
        if found:
            return "; ".join(f"{info.get('internal_api')} {info.get('version')} "
                             f"({info.get('architecture')}, threads: {info.get('num_threads')})" for info in found)
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (threads: unknown without threadpoolctl)"
    except (AttributeError, KeyError, TypeError):
        return "unknown (install threadpoolctl to see it)"


def machine_info():
    """CPU, cores, Python, NumPy and BLAS, as a dict of strings."""
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_summary(),
        "openblas environment": openblas_environment(),
    }


def openblas_environment():
    """The variables that change OpenBLAS's kernel or blocking, as set in this process ("unset" if not).

    OPENBLAS_CORETYPE=Haswell on a Skylake-X machine, say, picks a slower kernel: the kernel
    in use is the ``architecture`` in the blas line; these say why it may not be the CPU's own.
    """
    return ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))


def format_info(info):
    """The machine info (and any extra entries) as Markdown bullet lines."""
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


# --- timing ---


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def clock_function(name):
    """The timer for ``--clock``: "wall" (perf_counter, what a user waits) or "cpu" (process_time:
    this process's CPU time, all threads, which other processes on a shared machine disturb less)."""
    if name not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, got {name!r}")
    return CLOCKS[name]


def _per_call(fn, n, clock=time.perf_counter):
    start = clock()
    for _ in range(n):
        fn()
    return (clock() - start) / n


def interleave(contenders, rounds=None, seconds=None, block_seconds=0.05, warmup=5, min_rounds=3, seed=0,
               clock="wall"):
    """Time zero-argument callables round by round; returns {name: [seconds per call, one per round]}.

    Each contender first runs ``warmup`` calls (not counted, at least one),
    which also size its block: about ``block_seconds`` of calls. Each round
    then runs every contender's block once, in a freshly shuffled order, and
    records the mean seconds per call of that block. The rounds stop after
    ``rounds`` or once ``seconds`` (wall time) have passed, but never before
    ``min_rounds``. ``clock``: "wall" or "cpu" (see ``clock_function``).
    The garbage collector stays on: its cost is part of what a user pays.
    """
    timer = clock_function(clock)
    if rounds is None and seconds is None:
        raise ValueError("interleave: give rounds=, seconds= or both")
    names = list(contenders)
    blocks = {}
    for name in names:
        estimate = _per_call(contenders[name], max(1, warmup), timer)
        blocks[name] = max(1, int(round(block_seconds / max(estimate, 1e-9))))
    rng = random.Random(seed)
    times = {name: [] for name in names}
    start = time.perf_counter()
    done = 0
    while True:
        if rounds is not None and done >= rounds:
            break
        if seconds is not None and done >= min_rounds and time.perf_counter() - start >= seconds:
            break
        order = names[:]
        rng.shuffle(order)
        for name in order:
            times[name].append(_per_call(contenders[name], blocks[name], timer))
        done += 1
    return times


def summarize(times, reference, floor=None):
    """Median seconds per call and ratios, from ``interleave``'s result.

    ``ratio`` is the median over rounds of (this / reference) measured in the
    same round, with its min and max; ``vs_floor`` the same against ``floor``.
    """
    rows = []
    for name, ts in times.items():
        ratios = [t / r for t, r in zip(ts, times[reference])]
        row = {"name": name, "median_s": statistics.median(ts), "min_s": min(ts), "rounds": len(ts),
               "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios)}
        if floor is not None and floor in times:
            row["vs_floor"] = statistics.median([t / f for t, f in zip(ts, times[floor])])
        rows.append(row)
    return rows


def markdown_table(headers, rows):
    """A Markdown table; ``rows`` are sequences of cells (converted with str)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_text(row):
    """'1.23 (1.10..1.40)': the median ratio with its range over rounds."""
    return f"{row['ratio']:.2f} ({row['ratio_min']:.2f}..{row['ratio_max']:.2f})"


def write_json(path, payload):
    """Write ``payload`` as indented JSON, creating the folder."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2, default=str)
        f.write("\n")


def cycle_batches(step, batches):
    """A zero-argument callable that runs ``step(x, t)`` on the next batch, round and round."""
    it = itertools.cycle(batches)

    def call():
        x, t = next(it)
        step(x, t)
    return call


def draw_batches(x, t, batch_size=100, count=16, seed=0):
    """``count`` random batches (rows without replacement in each), drawn once, the same for everyone."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(count):
        idx = rng.choice(x.shape[0], batch_size, replace=False)
        batches.append((x[idx], t[idx].astype(np.intp)))
    return batches


def max_param_diff(a, b):
    """Largest relative difference between two params dicts (scaled by the largest |value|)."""
    worst = 0.0
    for key in a:
        scale = max(float(np.max(np.abs(b[key]))), 1e-30)
        worst = max(worst, float(np.max(np.abs(np.asarray(a[key], np.float64) - b[key]))) / scale)
    return worst


# --- where the time goes: a per-op profile ---


def _subclasses(cls):
    """cls and every class derived from it, once each."""
    found, stack = [], [cls]
    while stack:
        c = stack.pop()
        if c not in found:
            found.append(c)
            stack.extend(c.__subclasses__())
    return found


class _CallTimer:
    """Wraps methods so that each call adds its own time (its nested wrapped calls excluded) to a table.

    ``table[(label, kind)] = [calls, seconds]``; ``label`` names the class of the call's first
    argument (a Function's ctx, a layer's self). Exclusive times: a backward that runs other ops
    is charged only for what those ops do not account for, so the rows add up to at most the total.
    """

    def __init__(self, label, clock=time.perf_counter):
        self.label = label
        self.clock = clock
        self.table = {}
        self._stack = []
        self._saved = []

    def wrap(self, cls, name, kind, static):
        original = cls.__dict__[name]
        fn = original.__func__ if static else original
        timer = self
        clock = self.clock

        def timed(first, *args, **kwargs):
            timer._stack.append(0.0)
            start = clock()
            try:
                return fn(first, *args, **kwargs)
            finally:
                elapsed = clock() - start
                nested = timer._stack.pop()
                if timer._stack:
                    timer._stack[-1] += elapsed
                entry = timer.table.setdefault((timer.label(type(first)), kind), [0, 0.0])
                entry[0] += 1
                entry[1] += elapsed - nested

        self._saved.append((cls, name, original))
        setattr(cls, name, staticmethod(timed) if static else timed)

    def restore(self):
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self._saved.clear()


def profile_step(step, steps, classes=None, warmup=2, clock="wall"):
    """Where the time of ``step()`` goes, op by op: ``(rows, seconds per step)``.

    Times every call of ``forward`` and ``backward`` of each tinygrad_ko Function
    (or, with ``classes``, of those classes' methods: e.g. the book's layers),
    each call's own time only. ``rows``: dicts with ``op``, ``calls`` per step,
    ``forward_s`` and ``backward_s`` per step, sorted by total time, then a row
    ``"outside the ops"``: the rest of the step (the engine's bookkeeping, making
    tensors, the optimizer, Python glue). The timers add a little to every call,
    so the step is slower than unprofiled; the shares are what to read.
    ``clock``: "wall" or "cpu", as in ``interleave``.
    """
    from .autograd import Function

    clock = clock_function(clock)
    if classes is None:
        timer = _CallTimer(lambda cls: cls.name(), clock)
        for cls in _subclasses(Function):
            for name in ("forward", "backward"):
                if name in cls.__dict__:
                    timer.wrap(cls, name, name, static=True)
    else:
        timer = _CallTimer(lambda cls: cls.__name__, clock)
        for cls in classes:
            for name in ("forward", "backward"):
                if name in cls.__dict__:
                    timer.wrap(cls, name, name, static=False)
    try:
        for _ in range(warmup):
            step()
        timer.table.clear()
        start = clock()
        for _ in range(steps):
            step()
        total = (clock() - start) / steps
    finally:
        timer.restore()
    ops = {}
    for (label, kind), (calls, seconds) in timer.table.items():
        row = ops.setdefault(label, {"op": label, "calls": 0.0, "forward_s": 0.0, "backward_s": 0.0})
        row[f"{kind}_s"] += seconds / steps
        if kind == "forward":
            row["calls"] += calls / steps
    rows = sorted(ops.values(), key=lambda r: -(r["forward_s"] + r["backward_s"]))
    inside = sum(r["forward_s"] + r["backward_s"] for r in rows)
    rows.append({"op": "outside the ops", "calls": None, "forward_s": None, "backward_s": None,
                 "total_s": total - inside})
    for row in rows:
        if "total_s" not in row:
            row["total_s"] = row["forward_s"] + row["backward_s"]
        row["share"] = row["total_s"] / total
    return rows, total


def profile_table(rows, total):
    """``profile_step``'s rows as Markdown: ms per step for forward, backward, both, and the share."""
    def ms(value):
        return "" if value is None else f"{value * 1e3:.3f}"

    lines = [[r["op"], "" if r["calls"] is None else f"{r['calls']:g}", ms(r["forward_s"]), ms(r["backward_s"]),
              ms(r["total_s"]), f"{r['share'] * 100:.1f}%"] for r in rows]
    lines.append(["the whole step", "", "", "", ms(total), "100%"])
    return markdown_table(["op", "calls/step", "forward ms", "backward ms", "total ms", "share"], lines)


# --- the quick bench ---

LR = 0.1                   # the book's learning rate for TwoLayerNet (ch05 train_neuralnet.py)
SIZES = (784, 100, 10)     # the book's TwoLayerNet on MNIST
BATCH = 100
CHAIN = 100                # ops in the op-overhead chain
CONSTANT = 1.0001          # x * CONSTANT: its backward is a real elementwise op


def tinygrad_ko_step(init, activation="sigmoid", lr=LR):
    """The book's loop on tinygrad_ko from the weights ``init`` (W1 b1 ... Wn bn): (step(x, t), params()).

    A step is ``grads = net.gradient(x, t)`` and ``SGD(lr).update(net.params, grads)``.
    """
    import tinygrad_ko as tk

    count = len(init) // 2
    sizes = [init["W1"].shape[0]] + [init[f"W{i}"].shape[1] for i in range(1, count + 1)]
    dtype = init["W1"].dtype
    if count == 2:
        net = tk.TwoLayerNet(*sizes, activation=activation, dtype=dtype)
    else:
        net = tk.MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation, dtype=dtype)
    for key, value in init.items():
        net.params[key] = value
    optimizer = tk.optim.SGD(lr=lr)

    def step(x, t):
        grads = net.gradient(x, t)
        optimizer.update(net.params, grads)

    return step, lambda: dict(net.params)


def two_layer_contenders(dtype, batches, lr=LR, sizes=SIZES):
    """{name: (step(x, t), params())} for tinygrad_ko, the reference and the floor, from the same weights."""
    from . import _bench_reference as ref

    init = ref.init_params(sizes, 0.01, seed=0, dtype=dtype)
    book = ref.TwoLayerNet(*sizes, params=init)
    book_sgd = ref.SGD(lr=lr)

    def book_step(x, t):
        grads = book.gradient(x, t)
        book_sgd.update(book.params, grads)

    floor = ref.MatmulFloor(init, batches[0][0].shape[0])
    return {
        "tinygrad_ko": tinygrad_ko_step(init, lr=lr),
        "reference (book's layers)": (book_step, lambda: book.params),
        "floor (5 matmuls)": (floor.step, None),
    }


def check_same_step(contenders, batches, reference):
    """Run two steps of every contender that exposes params; the largest relative difference to reference."""
    for step, _ in contenders.values():
        for x, t in batches[:2]:
            step(x, t)
    ref_params = {k: np.array(v, np.float64) for k, v in contenders[reference][1]().items()}
    return {name: max_param_diff(params(), ref_params)
            for name, (_, params) in contenders.items() if params is not None and name != reference}


def _quick_step(dtype, seconds, batches):
    contenders = two_layer_contenders(dtype, batches)
    diffs = check_same_step(contenders, batches, "reference (book's layers)")
    calls = {name: cycle_batches(step, batches) for name, (step, _) in contenders.items()}
    times = interleave(calls, seconds=seconds, block_seconds=min(0.05, seconds / 30), warmup=3)
    return summarize(times, "reference (book's layers)", "floor (5 matmuls)"), diffs


def op_chain_contenders(n=CHAIN, c=CONSTANT):
    """{name: callable}: n ops of y = y * c on a (2, 3) float64 array, forward (+ backward)."""
    import tinygrad_ko as tk

    x0 = np.random.default_rng(0).standard_normal((2, 3))
    ones = np.ones((2, 3))
    x = tk.Tensor(x0.copy(), requires_grad=True)

    def tk_forward_backward():
        x.grad = None
        y = x
        for _ in range(n):
            y = y * c
        y.backward(ones)

    def numpy_forward():
        y = x0
        for _ in range(n):
            y = y * c
        return y

    def numpy_forward_backward():
        numpy_forward()
        g = ones
        for _ in range(n):
            g = g * c  # d(y * c)/dy = c: the hand-written backward of each op
        return g

    return {"tinygrad_ko (forward + backward)": tk_forward_backward,
            "NumPy (forward + hand-written backward)": numpy_forward_backward,
            "NumPy (forward only)": numpy_forward}


def profile_nets(steps=5, clock="wall"):
    """Markdown: where a training step's time goes, op by op (``profile_step``), for the book's
    TwoLayerNet (784-100-10, batch 100, float32), SimpleConvNet (batch 100) and DeepConvNet
    (batch 32, float64), each with the book's loop (``net.gradient`` + ``SGD.update``)."""
    import tinygrad_ko as tk

    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    cases = [("TwoLayerNet 784-100-10 float32, batch 100", tk.TwoLayerNet(784, 100, 10, dtype=np.float32),
              x_train.astype(np.float32), 100, LR),
             ("SimpleConvNet float64, batch 100", tk.SimpleConvNet(), x_train.reshape(-1, 1, 28, 28), 100, 0.01),
             ("DeepConvNet float64, batch 32", tk.DeepConvNet(), x_train.reshape(-1, 1, 28, 28), 32, 0.01)]
    parts = []
    for title, net, x, batch, lr in cases:
        optimizer = tk.optim.SGD(lr=lr)
        step = cycle_batches(lambda xb, tb: optimizer.update(net.params, net.gradient(xb, tb)),
                             draw_batches(x, t_train, batch, count=4))
        rows, total = profile_step(step, steps, clock=clock)
        parts.append(f"### {title}: time per op ({clock} clock, {steps} steps)\n\n" + profile_table(rows, total))
    return "\n\n".join(parts)


def main(seconds=20.0, threads=1, profile=False):
    """Run the quick bench in about ``seconds`` and print Markdown tables; returns 0.

    ``profile``: also print where a step's time goes, op by op, for the book's nets (``profile_nets``).
    """
    import tinygrad_ko as tk

    seconds = max(float(seconds), 0.5)
    limiter, note = pin_blas(threads)
    try:
        info = machine_info()
        info["tinygrad_ko"] = tk.__version__
        info["threads"] = note
        print(f"# tinygrad_ko quick bench ({seconds:g} s budget)\n")
        print(format_info(info) + "\n")
        (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
        rows = []
        for dtype in (np.float64, np.float32):
            batches = draw_batches(x_train.astype(dtype), t_train, BATCH, count=8)
            summary, diffs = _quick_step(dtype, 0.35 * seconds, batches)
            for row in summary:
                diff = diffs.get(row["name"])
                rows.append([f"TwoLayerNet {'-'.join(map(str, SIZES))} {np.dtype(dtype).name}", row["name"],
                             f"{row['median_s'] * 1e3:.3f}", ratio_text(row), f"{row['vs_floor']:.2f}",
                             "" if diff is None else f"{diff:.1e}"])
        print(f"## One training step (batch {BATCH}, SGD lr {LR}), medians over rounds\n")
        print(markdown_table(["case", "contender", "ms/step", "vs reference (min..max)", "vs floor",
                              "param diff after 2 steps"], rows))
        calls = op_chain_contenders()
        times = interleave(calls, seconds=0.3 * seconds, block_seconds=min(0.05, seconds / 30), warmup=3)
        summary = summarize(times, "NumPy (forward + hand-written backward)")
        op_rows = [[row["name"], f"{row['median_s'] / CHAIN * 1e6:.2f}", ratio_text(row)] for row in summary]
        print(f"\n## Per elementwise op: a chain of {CHAIN} x * {CONSTANT} on a (2, 3) float64 tensor\n")
        print(markdown_table(["contender", "µs/op", "vs NumPy forward + backward (min..max)"], op_rows))
        print("\nRatios: median over rounds of (time / reference time in the same round). "
              "Full comparisons with PyTorch and others: benchmarks/ in the repository.")
        if profile:
            print("\n## Where the time goes: each op's forward and backward, and the rest of the step\n")
            print(profile_nets())
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    return 0


if __name__ == "__main__":
    sys.exit(main())
