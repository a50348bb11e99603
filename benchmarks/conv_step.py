"""One training step of the book's SimpleConvNet: tinygrad_ko's conv ops against the book's im2col layers.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_step.py
    python benchmarks/conv_step.py --quick          # seconds: checks that everything runs
    python benchmarks/conv_step.py --dtypes float64 --rounds 40 --no-phases
    python benchmarks/conv_step.py --quick --no-phases --memory-steps 500   # memory over 500 steps

The net (the book's ch07 SimpleConvNet shape): batch 100 of 1x28x28 images
from ``tk.datasets.load_mnist(sample=True)``, conv 30 filters 5x5 (stride 1,
pad 0) - relu - max pool 2x2 stride 2 - affine 4320-100 - relu - affine
100-10 - softmax cross-entropy, SGD (lr 0.01), float64 and float32.
Contenders, all from the same initial weights on the same batches:

- the reference: the book's layers (``Convolution`` and ``Pooling`` by
  im2col/col2im, ``Relu``, ``Affine``, ``SoftmaxWithLoss``; written out in
  ``tinygrad_ko/_bench_reference.py``) and the book's SGD;
- tinygrad_ko: ``F.conv2d``, ``F.relu``, ``F.max_pool2d``, ``F.flatten``,
  ``F.linear``, ``F.softmax_cross_entropy``, ``backward()`` and
  ``tk.optim.SGD`` (the default: conv2d rebuilds its columns in backward);
  and the same with ``Conv2d.save_columns = True`` (the columns kept from
  forward to backward: the time/memory trade of ``ops/conv.py``);
- PyTorch (``torch.nn.functional``) when installed, for context.

Before timing, every contender takes two steps and its weights are compared
with the reference's. Then interleaved rounds, as ``benchmarks/step.py``:
medians and per-round ratios to the reference. The phase table times the
pieces of both convolution and pooling implementations alone on the same
arrays; the memory table gives tracemalloc's peak during one step, and
``--memory-steps N`` runs N steps with the garbage collector off and reports
whether traced memory grows and whether any step's graph outlives it. No
speed is asserted anywhere.
"""

import gc
import tracemalloc
import weakref

import numpy as np

import _common
import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench
from tinygrad_ko.ops import conv as conv_ops

REFERENCE = "reference (book's layers)"
OURS = "tinygrad_ko"
SAVED = "tinygrad_ko, columns saved"
LR = 0.01
DEFAULT_SAVE = conv_ops.Conv2d.save_columns


# --- contenders: step(x, t) and params() -------------------------------------


def reference_step(init):
    net = ref.SimpleConvNet(init)
    optimizer = ref.SGD(lr=LR)

    def step(x, t):
        optimizer.update(net.params, net.gradient(x, t))

    return step, lambda: net.params


def tinygrad_ko_step(init, save_columns=DEFAULT_SAVE):
    params = {key: tk.Tensor(value.copy(), requires_grad=True) for key, value in init.items()}
    optimizer = tk.optim.SGD(lr=LR)

    def step(x, t):
        conv_ops.Conv2d.save_columns = save_columns
        p = params
        h = F.max_pool2d(F.relu(F.conv2d(x, p["W1"], p["b1"])), 2, 2, stride=2)
        h = F.relu(F.linear(F.flatten(h), p["W2"], p["b2"]))
        loss = F.softmax_cross_entropy(F.linear(h, p["W3"], p["b3"]), t)
        for tensor in params.values():
            tensor.grad = None
        loss.backward()
        optimizer.update(params, {key: tensor.grad for key, tensor in params.items()})
        conv_ops.Conv2d.save_columns = DEFAULT_SAVE

    return step, lambda: {key: tensor.data for key, tensor in params.items()}


def torch_step(torch, init):
    import torch.nn.functional as TF

    params = {key: torch.tensor(value.copy(), requires_grad=True) for key, value in init.items()}

    def step(x, t):
        p = params
        h = TF.max_pool2d(TF.relu(TF.conv2d(x, p["W1"], p["b1"])), 2, 2)
        h = TF.relu(h.flatten(1) @ p["W2"] + p["b2"])
        loss = TF.cross_entropy(h @ p["W3"] + p["b3"], t)
        loss.backward()
        with torch.no_grad():
            for tensor in params.values():
                tensor.add_(tensor.grad, alpha=-LR)
                tensor.grad = None

    def prepare(x, t):
        return torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))

    return step, lambda: {key: tensor.detach().numpy() for key, tensor in params.items()}, prepare


def contenders(init, torch):
    """{label: (step, params, prepare)}."""
    def same(x, t):
        return x, t

    result = {REFERENCE: reference_step(init) + (same,),
              OURS: tinygrad_ko_step(init) + (same,),
              SAVED: tinygrad_ko_step(init, save_columns=True) + (same,)}
    if torch is not None:
        result["PyTorch (torch.nn.functional)"] = torch_step(torch, init)
    return result


# --- the step table ------------------------------------------------------------


def run_case(dtype, batches, torch, args):
    init = ref.init_convnet_params(seed=args.seed, dtype=dtype)
    cs = contenders(init, torch)
    prepared = {name: [prepare(x, t) for x, t in batches] for name, (_, _, prepare) in cs.items()}
    for name, (step, _, _) in cs.items():  # two steps each, then the same-work check
        for x, t in prepared[name][:2]:
            step(x, t)
    ref_params = {k: np.array(v, np.float64) for k, v in cs[REFERENCE][1]().items()}
    diffs = {name: bench.max_param_diff(params(), ref_params) for name, (_, params, _) in cs.items()
             if name != REFERENCE}
    calls = {name: bench.cycle_batches(step, prepared[name]) for name, (step, _, _) in cs.items()}
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds, warmup=args.warmup,
                             seed=args.seed)
    rows, records = [], []
    for row in bench.summarize(times, REFERENCE):
        diff = diffs.get(row["name"])
        rows.append([np.dtype(dtype).name, row["name"], f"{row['median_s'] * 1e3:.2f}", bench.ratio_text(row),
                     "" if diff is None else f"{diff:.1e}"])
        records.append(dict(row, dtype=np.dtype(dtype).name, param_diff=diff, per_round_s=times[row["name"]]))
    return rows, records


# --- the phase table ---------------------------------------------------------------


def phase_calls(dtype, x, init):
    """{phase: (book's callable or None, tinygrad_ko's callable or None)} on the step's real shapes."""
    rng = np.random.default_rng(1)
    W1, b1 = init["W1"], init["b1"]
    fn, _, fh, fw = W1.shape
    # the book's pieces
    conv = ref.Convolution(W1, b1)
    y_book = conv.forward(x)
    dout_book = rng.standard_normal(y_book.shape).astype(dtype)
    col, col_W = conv.col, conv.col_W
    rows_book = dout_book.transpose(0, 2, 3, 1).reshape(-1, fn)
    dcol = np.dot(rows_book, col_W.T)
    relu_book = ref.Relu()
    pool = ref.Pooling(2, 2, stride=2)
    h_book = np.maximum(y_book, 0)
    p_book = pool.forward(h_book)
    dpool_book = rng.standard_normal(p_book.shape).astype(dtype)
    # tinygrad_ko's pieces, in the memory order its ops produce
    g = conv_ops.conv_geometry(x.shape, W1.shape, b1.shape, 1, 0)
    cols = conv_ops.columns(x, g)
    Wm = W1.reshape(fn, -1)
    y_ours = tk.ops.Conv2d.forward(tk.ops.Conv2d(), x, W1, b1)
    gy_ours = np.empty_like(y_ours)
    gy_ours[...] = dout_book
    rows = conv_ops._rows(gy_ours)
    h_ours = np.maximum(y_ours, 0)
    max_ctx = tk.ops.MaxPool2d()
    tk.ops.MaxPool2d.forward(max_ctx, h_ours, kernel=2, stride=2)  # fills max_ctx.argmax for the backward
    dpool = np.ascontiguousarray(dpool_book)  # what the Reshape backward of flatten hands back

    def book_relu():
        out = relu_book.forward(y_book)
        relu_book.backward(dout_book.copy())  # the book writes into dout; copied for both sides alike
        return out

    def ours_relu():
        mask = y_ours > 0
        out = np.maximum(y_ours, 0)
        return out, gy_ours.copy() * mask

    def ours_gemm_bias():
        y = conv_ops.dot2(Wm, cols)
        y += b1[:, None]
        return y

    def ours_pool_bwd():
        return tk.ops.MaxPool2dScatter.forward(tk.ops.MaxPool2dScatter(), dpool, argmax=max_ctx.argmax,
                                              geometry=max_ctx.geometry, order=max_ctx.order)

    return {
        "conv fwd: im2col": (lambda: ref.im2col(x, fh, fw), lambda: conv_ops.columns(x, g)),
        "conv fwd: GEMM + bias": (lambda: np.dot(col, col_W) + b1, lambda: ours_gemm_bias()),
        "conv bwd: gy to rows": (lambda: dout_book.transpose(0, 2, 3, 1).reshape(-1, fn),
                                 lambda: conv_ops._rows(gy_ours)),
        "conv bwd: db": (lambda: np.sum(rows_book, axis=0), lambda: np.dot(rows, np.ones(rows.shape[1], dtype))),
        "conv bwd: im2col again (tinygrad_ko rebuilds the columns)": (None, lambda: conv_ops.columns(x, g)),
        "conv bwd: dW GEMM": (lambda: np.dot(col.T, rows_book).transpose(1, 0).reshape(W1.shape),
                              lambda: conv_ops._grad_weight(rows, cols, W1.shape)),
        "conv bwd: dx GEMM (not run by tinygrad_ko: x needs no grad)":
            (lambda: np.dot(rows_book, col_W.T), lambda: conv_ops.dot2(Wm.T, rows)),
        "conv bwd: col2im (not run by tinygrad_ko)":
            (lambda: ref.col2im(dcol, x.shape, fh, fw), lambda: conv_ops.add_columns(dcol.T.copy(), g)),
        "relu fwd + bwd (1.7M elements)": (book_relu, ours_relu),
        "max pool fwd": (lambda: pool.forward(h_book),
                         lambda: tk.ops.MaxPool2d.forward(tk.ops.MaxPool2d(), h_ours, kernel=2, stride=2)),
        "max pool bwd": (lambda: pool.backward(dpool_book), ours_pool_bwd),
    }


def run_phases(dtype, x, init, args):
    calls = {}
    phases = phase_calls(dtype, x, init)
    for phase, pair in phases.items():
        for side, call in zip(("book", "ours"), pair):
            if call is not None:
                calls[f"{phase}|{side}"] = call
    times = bench.interleave(calls, rounds=max(3, args.rounds // 2), block_seconds=args.block_seconds / 4,
                             warmup=3, seed=args.seed)
    medians = {name: float(np.median(ts)) * 1e3 for name, ts in times.items()}
    rows = []
    for phase in phases:
        book, ours = medians.get(f"{phase}|book"), medians.get(f"{phase}|ours")
        ratio = f"{ours / book:.2f}" if book and ours is not None else ""
        rows.append([np.dtype(dtype).name, phase, "" if book is None else f"{book:.2f}",
                     "" if ours is None else f"{ours:.2f}", ratio])
    return rows, medians


# --- memory -------------------------------------------------------------------------


def step_peak_mb(step, x, t):
    """tracemalloc's peak during one step, above what was traced before it (MB)."""
    step(x, t)  # warm: caches and the optimizer's state exist before measuring
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    step(x, t)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - before) / 2 ** 20


def many_steps_memory(init, batches, steps):
    """tinygrad_ko's step ``steps`` times with gc off: traced memory after each step, and what survives a step.

    Returns a dict: the traced size after the first, middle and last step, the slope over the second
    half (bytes per step), the step's tensors and Functions still alive after it (weak references),
    what ``gc.collect()`` then finds, and the peak RSS (VmHWM) before and after, where /proc exists.
    """
    params = {key: tk.Tensor(value.copy(), requires_grad=True) for key, value in init.items()}
    optimizer = tk.optim.SGD(lr=LR)

    def step(x, t):
        conv = F.conv2d(x, params["W1"], params["b1"])
        pooled = F.max_pool2d(F.relu(conv), 2, 2, stride=2)
        h = F.relu(F.linear(F.flatten(pooled), params["W2"], params["b2"]))
        loss = F.softmax_cross_entropy(F.linear(h, params["W3"], params["b3"]), t)
        refs = [weakref.ref(a) for a in (conv, pooled, loss, conv.grad_fn, pooled.grad_fn, loss.grad_fn)]
        for tensor in params.values():
            tensor.grad = None
        loss.backward()
        optimizer.update(params, {key: tensor.grad for key, tensor in params.items()})
        return refs

    was_enabled = gc.isenabled()
    gc.collect()  # start clean: what the last collect finds was made by these steps
    gc.disable()
    try:
        for i in range(3):
            step(*batches[i % len(batches)])
        hwm_before = _peak_rss_kb()
        tracemalloc.start()
        sizes, alive = [], 0
        for i in range(steps):
            refs = step(*batches[i % len(batches)])
            alive += sum(ref() is not None for ref in refs)
            sizes.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        found = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    half = sizes[len(sizes) // 2:]
    slope = float(np.polyfit(np.arange(len(half)), half, 1)[0]) if len(half) > 1 else 0.0
    return {"steps": steps, "traced_first": sizes[0], "traced_middle": sizes[len(sizes) // 2],
            "traced_last": sizes[-1], "slope_bytes_per_step": slope, "alive_after_step": alive,
            "gc_collect_found": found, "peak_rss_kb_before": hwm_before, "peak_rss_kb_after": _peak_rss_kb()}


def _peak_rss_kb():
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return None


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "conv_step")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated: float64, float32")
    p.add_argument("--batch-size", type=int, default=100, help="images per step")
    p.add_argument("--batches", type=int, default=8, help="distinct batches drawn beforehand, used in turn")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps per contender, not timed")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    p.add_argument("--no-phases", action="store_true", help="skip the per-phase table")
    p.add_argument("--memory-steps", type=int, default=None,
                   help="also run this many tinygrad_ko steps (float64, gc off) and report traced memory")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 20
    if args.block_seconds is None:
        args.block_seconds = 0.05 if args.quick else 0.4
    if args.warmup is None:
        args.warmup = 1 if args.quick else 5
    info, modules, limiter = _common.setup(args, () if args.no_torch else ("torch",))
    torch = modules.get("torch")
    _common.header("SimpleConvNet training step: tinygrad_ko's conv ops vs the book's im2col layers", info)
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    images = x_train.reshape(-1, 1, 28, 28)
    step_rows, phase_rows, memory_rows, records, phases = [], [], [], [], {}
    for dtype_name in args.dtypes.split(","):
        dtype = np.dtype(dtype_name).type
        batches = bench.draw_batches(images.astype(dtype), t_train, args.batch_size,
                                     2 if args.quick else args.batches, args.seed)
        rows, recs = run_case(dtype, batches, torch, args)
        step_rows += rows
        records += recs
        init = ref.init_convnet_params(seed=args.seed, dtype=dtype)
        if not args.no_phases:
            rows, medians = run_phases(dtype, batches[0][0], init, args)
            phase_rows += rows
            phases[dtype_name] = medians
        for name, (step, _, prepare) in contenders(init, None).items():
            memory_rows.append([dtype_name, name, f"{step_peak_mb(step, *prepare(*batches[0])):.1f}"])
    print(f"## ms per step (batch {args.batch_size}), median of {args.rounds} rounds\n")
    print(bench.markdown_table(["dtype", "contender", "ms/step", "vs reference (min..max)",
                                "param diff after 2 steps"], step_rows))
    print("\nvs reference: median over rounds of the ratio of times measured in the same round. "
          "param diff: max |w - w_ref| / max |w_ref| after two steps from the same weights.")
    if phase_rows:
        print("\n## Where the time goes: each piece alone on the step's arrays, ms (median)\n")
        print(bench.markdown_table(["dtype", "phase", "book", "tinygrad_ko", "ratio"], phase_rows))
    print("\n## Memory: tracemalloc peak during one step, above the memory held before it (MB)\n")
    print(bench.markdown_table(["dtype", "contender", "peak MB"], memory_rows))
    many = None
    if args.memory_steps:
        batches = bench.draw_batches(images.astype(np.float64), t_train, args.batch_size, 8, args.seed)
        many = many_steps_memory(ref.init_convnet_params(seed=args.seed), batches, args.memory_steps)
        print(f"\n## {many['steps']} tinygrad_ko steps (float64), gc off\n")
        print(f"- traced memory after step 1 / the middle step / the last: {many['traced_first']:,} / "
              f"{many['traced_middle']:,} / {many['traced_last']:,} bytes; slope over the second half "
              f"{many['slope_bytes_per_step']:.0f} bytes per step")
        print(f"- the step's tensors and Functions alive after it: {many['alive_after_step']}; "
              f"gc.collect() afterwards found {many['gc_collect_found']} objects")
        print(f"- peak RSS (VmHWM): {many['peak_rss_kb_before']} kB before, {many['peak_rss_kb_after']} kB after")
    _common.finish(args, {"info": info, "args": vars(args), "results": records, "phases_ms": phases,
                          "memory": memory_rows, "many_steps": many}, limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
