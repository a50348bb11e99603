"""One training step (forward + backward + SGD) of the book's nets: tinygrad_ko against NumPy and the peers.

    python benchmarks/step.py                      # the full table (about a minute per case)
    python benchmarks/step.py --quick              # seconds: checks that everything runs
    python benchmarks/step.py --nets two-layer --dtypes float64 --rounds 40
    python benchmarks/step.py --threads 2 --profile
    python benchmarks/step.py --nets two-layer --peers torch --breakdown --clock cpu

Cases: TwoLayerNet 784-100-10 (sigmoid, std 0.01, lr 0.1: the book's ch04/ch05
training) and MultiLayerNet 784-100-100-10 (ReLU, He init, lr 0.01: the
book's ch06), float64 and float32, batch 100 drawn beforehand from
``tk.datasets.load_mnist(sample=True)``, the same batches and initial weights
for every contender. Contenders: tinygrad_ko (the book's loop:
``net.gradient`` + ``tk.optim.SGD.update``), the reference (the book's
chapter-5 layers in NumPy), a hand-tuned NumPy step, the floor (only the
matrix products), and PyTorch, mygrad, DeZero and HIPS autograd when
installed. Before timing, every contender takes two steps and its weights are
compared with the reference's (last column). Then each round runs a block of
steps of every contender in a shuffled order; the table gives medians over
rounds and the per-round ratios to the reference (median, min..max) and to
the floor. No speed is asserted.
"""

import cProfile
import io
import pstats

import numpy as np

import _common
import peers
import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench

CASES = {
    # name: (sizes, activation, weight init, learning rate), as the book trains them
    "two-layer": ((784, 100, 10), "sigmoid", 0.01, 0.1),
    "multi-layer": ((784, 100, 100, 10), "relu", "he", 0.01),
}
REFERENCE = "reference (book's layers)"
FLOOR = "floor (matmuls only)"


def contenders(case, dtype, batch_size, modules, seed=0):
    """{label: Contender} for one case, all from the same initial weights; plus notes on skipped peers."""
    sizes, activation, init_std, lr = CASES[case]
    init = ref.init_params(sizes, init_std, seed=seed, dtype=dtype)
    result = {
        REFERENCE: peers.reference(init, activation, lr),
        "tinygrad_ko": peers.tinygrad_ko(init, activation, lr),
        "hand-tuned NumPy": peers.hand_tuned(init, activation, lr, batch_size),
    }
    floor, count = peers.floor(init, batch_size)
    result[FLOOR.replace("matmuls", f"{count} matmuls")] = floor
    for key, (label, make) in peers.PEERS.items():
        module = modules.get(key)
        if module is not None:
            result[label] = make(module, init, activation, lr)
    return result


def floor_name(names):
    return next(name for name in names if name.startswith("floor"))


def run_case(case, dtype, batches, modules, args):
    """Check, time and summarize one case; returns (rows for the JSON, rows for the table)."""
    cs = contenders(case, dtype, batches[0][0].shape[0], modules, args.seed)
    prepared = {name: [c.prepare(x, t) for x, t in batches] for name, c in cs.items()}
    for name, c in cs.items():  # two steps each, then the same-work check
        for x, t in prepared[name][:2]:
            c.step(x, t)
    ref_params = {k: np.array(v, np.float64) for k, v in cs[REFERENCE].params().items()}
    diffs = {name: bench.max_param_diff(c.params(), ref_params)
             for name, c in cs.items() if c.params is not None and name != REFERENCE}
    calls = {name: bench.cycle_batches(c.step, prepared[name]) for name, c in cs.items()}
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds, warmup=args.warmup,
                             seed=args.seed, clock=args.clock)
    summary = bench.summarize(times, REFERENCE, floor_name(cs))
    label = f"{'-'.join(map(str, CASES[case][0]))} {np.dtype(dtype).name}"
    table, records = [], []
    for row in summary:
        diff = diffs.get(row["name"])
        table.append([label, row["name"], f"{row['median_s'] * 1e3:.3f}", bench.ratio_text(row),
                      f"{row['vs_floor']:.2f}", "" if diff is None else f"{diff:.1e}"])
        records.append(dict(row, case=case, dtype=np.dtype(dtype).name, param_diff=diff,
                            per_round_s=times[row["name"]]))
    return records, table


def profile_tinygrad_ko(case, dtype, batches, steps):
    """cProfile of tinygrad_ko's steps: the top functions by own time."""
    step = peers.tinygrad_ko(ref.init_params(CASES[case][0], CASES[case][2], dtype=dtype), CASES[case][1],
                             CASES[case][3]).step
    call = bench.cycle_batches(step, batches)
    for _ in range(10):
        call()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        call()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    return out.getvalue()


# --- where a step's time goes: NumPy (as tinygrad_ko runs it) against PyTorch, piece by piece ---


def numpy_pieces(init, x, t, lr):
    """{piece: callable}: the array work of one TwoLayerNet step, as tinygrad_ko's ops do it."""
    from tinygrad_ko.ops import Linear, Sigmoid, SigmoidGrad
    from tinygrad_ko.functional.losses import SoftmaxCrossEntropy
    from tinygrad_ko.ops.matmul import dot2, row_indices, sum_rows

    W1, b1, W2, b2 = (init[k].copy() for k in ("W1", "b1", "W2", "b2"))
    n = x.shape[0]
    h = Sigmoid.forward(Sigmoid(), Linear.forward(Linear(), x, W1, b1))
    z = Linear.forward(Linear(), h, W2, b2)
    loss_ctx = SoftmaxCrossEntropy()
    SoftmaxCrossEntropy.forward(loss_ctx, z, t)
    dz = loss_ctx.probs.copy()
    dh = dot2(dz, W2.T)
    grads = {"W1": dot2(x.T, dh), "b1": sum_rows(dh), "W2": dot2(h.T, dz), "b2": sum_rows(dz)}
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}

    def loss_backward():
        g = loss_ctx.probs.copy()
        g[row_indices(n), t] -= 1
        g *= 1.0 / n
        return g

    def sgd():
        for key, p in params.items():
            p -= lr * grads[key]  # tk.optim.SGD's update

    return {
        "affine x @ W1 + b1 (100x784 @ 784x100)": lambda: Linear.forward(Linear(), x, W1, b1),
        "affine h @ W2 + b2 (100x100 @ 100x10)": lambda: Linear.forward(Linear(), h, W2, b2),
        "sigmoid forward (100x100)": lambda: Sigmoid.forward(Sigmoid(), z),
        "softmax cross-entropy forward (100x10)": lambda: SoftmaxCrossEntropy.forward(SoftmaxCrossEntropy(), z, t),
        "softmax cross-entropy backward": loss_backward,
        "gW2 = h.T @ dz (100x100 @ 100x10)": lambda: dot2(h.T, dz),
        "dh = dz @ W2.T (100x10 @ 10x100)": lambda: dot2(dz, W2.T),
        "sigmoid backward (100x100)": lambda: SigmoidGrad.forward(SigmoidGrad(), dh, h),
        "gW1 = x.T @ dh (784x100 @ 100x100)": lambda: dot2(x.T, dh),
        "bias gradients (2 row sums)": lambda: (sum_rows(dh), sum_rows(dz)),
        "SGD update (4 params)": sgd,
    }


def torch_pieces(torch, init, x, t, lr):
    """The same pieces with PyTorch's kernels (what its autograd runs for F.linear, sigmoid, cross_entropy)."""
    import torch.nn.functional as F

    W1, b1, W2, b2 = (torch.tensor(init[k].copy()) for k in ("W1", "b1", "W2", "b2"))
    x, t = torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))
    n = x.shape[0]
    h = torch.sigmoid(torch.addmm(b1, x, W1))
    z = torch.addmm(b2, h, W2)
    dz = torch.softmax(z, 1)
    dh = dz @ W2.T
    grads = {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    log_p = torch.log_softmax(z, 1)
    one, count = torch.ones((), dtype=z.dtype), torch.tensor(float(n), dtype=z.dtype)

    def loss_backward():  # what cross_entropy's backward runs: nll_loss_backward, then log_softmax's
        g = torch.ops.aten.nll_loss_backward(one, log_p, t, None, 1, -100, count)
        return torch.ops.aten._log_softmax_backward_data(g, log_p, 1, log_p.dtype)

    def sgd():
        for key, p in params.items():
            p.add_(grads[key], alpha=-lr)

    return {
        "affine x @ W1 + b1 (100x784 @ 784x100)": lambda: torch.addmm(b1, x, W1),
        "affine h @ W2 + b2 (100x100 @ 100x10)": lambda: torch.addmm(b2, h, W2),
        "sigmoid forward (100x100)": lambda: torch.sigmoid(z),
        "softmax cross-entropy forward (100x10)": lambda: F.cross_entropy(z, t),
        "softmax cross-entropy backward": loss_backward,
        "gW2 = h.T @ dz (100x100 @ 100x10)": lambda: h.T @ dz,
        "dh = dz @ W2.T (100x10 @ 10x100)": lambda: dz @ W2.T,
        "sigmoid backward (100x100)": lambda: torch.ops.aten.sigmoid_backward(dh, h),
        "gW1 = x.T @ dh (784x100 @ 100x100)": lambda: x.T @ dh,
        "bias gradients (2 row sums)": lambda: (dh.sum(0), dz.sum(0)),
        "SGD update (4 params)": sgd,
    }


def breakdown(dtype, batches, modules, args):
    """Markdown: each piece of a TwoLayerNet step timed alone, NumPy against PyTorch, and the whole steps."""
    torch = modules.get("torch")
    sizes, activation, init_std, lr = CASES["two-layer"]
    init = ref.init_params(sizes, init_std, seed=args.seed, dtype=dtype)
    x, t = batches[0]
    ours = numpy_pieces(init, x, t, lr)
    theirs = torch_pieces(torch, init, x, t, lr) if torch is not None else {}
    calls = {f"numpy|{k}": f for k, f in ours.items()}
    calls.update({f"torch|{k}": f for k, f in theirs.items()})
    whole = {"numpy|the whole step": peers.tinygrad_ko(init, activation, lr)}
    if torch is not None:
        whole["torch|the whole step"] = peers.torch_peer(torch, init, activation, lr)
    for name, c in whole.items():
        calls[name] = bench.cycle_batches(c.step, [c.prepare(xb, tb) for xb, tb in batches])
    times = bench.interleave(calls, rounds=max(3, args.rounds // 2), block_seconds=args.block_seconds / 2,
                             warmup=args.warmup, seed=args.seed, clock=args.clock)
    med = {name: float(np.median(ts)) * 1e6 for name, ts in times.items()}
    rows, sums = [], {"numpy": 0.0, "torch": 0.0}
    for piece in ours:
        a, b = med[f"numpy|{piece}"], med.get(f"torch|{piece}")
        sums["numpy"] += a
        sums["torch"] += b or 0.0
        rows.append([piece, f"{a:.1f}", "" if b is None else f"{b:.1f}", "" if b is None else f"{b / a:.2f}"])

    def row(label, a, b):
        return [label, f"{a:.1f}", "" if b is None else f"{b:.1f}", "" if b is None else f"{b / a:.2f}"]

    has_torch = torch is not None
    rows.append(row("**sum of the pieces**", sums["numpy"], sums["torch"] if has_torch else None))
    step_np, step_torch = med["numpy|the whole step"], med.get("torch|the whole step")
    rows.append(row("**the whole step** (tinygrad_ko; PyTorch's eager step)", step_np, step_torch))
    rows.append(row("**outside the pieces**: the framework's own work", step_np - sums["numpy"],
                    step_torch - sums["torch"] if has_torch else None))
    title = (f"### TwoLayerNet 784-100-10 {np.dtype(dtype).name}: each piece of a step alone, µs "
             f"(median of {max(3, args.rounds // 2)} rounds, {args.clock} clock)\n\n")
    return title + bench.markdown_table(["piece", "NumPy (as tinygrad_ko runs it)", "PyTorch", "PyTorch / NumPy"],
                                        rows), med


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "step")
    p.add_argument("--nets", default="two-layer,multi-layer", help="comma-separated: two-layer, multi-layer")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated: float64, float32")
    p.add_argument("--peers", default="torch,mygrad,dezero,autograd",
                   help="comma-separated peers to include when installed ('' for none)")
    p.add_argument("--batch-size", type=int, default=100, help="rows per step")
    p.add_argument("--batches", type=int, default=16, help="distinct batches drawn beforehand, used in turn")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps per contender, not timed")
    p.add_argument("--profile", action="store_true", help="also print a cProfile of tinygrad_ko's steps")
    p.add_argument("--breakdown", action="store_true",
                   help="also time each piece of a TwoLayerNet step alone, NumPy against PyTorch")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 20
    if args.block_seconds is None:
        args.block_seconds = 0.01 if args.quick else 0.1
    if args.warmup is None:
        args.warmup = 2 if args.quick else 20
    names = [n for n in args.peers.split(",") if n]
    info, modules, limiter = _common.setup(args, names)
    _common.header("One training step: tinygrad_ko vs the book's NumPy layers and peers", info)
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    records, rows = [], []
    for case in args.nets.split(","):
        for dtype_name in args.dtypes.split(","):
            dtype = np.dtype(dtype_name).type
            batches = bench.draw_batches(x_train.astype(dtype), t_train, args.batch_size,
                                         2 if args.quick else args.batches, args.seed)
            rec, table = run_case(case, dtype, batches, modules, args)
            records += rec
            rows += table
    print(f"## ms per step (batch {args.batch_size}), median of {args.rounds} rounds\n")
    print(bench.markdown_table(["net dtype", "contender", "ms/step", "vs reference (min..max)", "vs floor",
                                "param diff after 2 steps"], rows))
    print("\nvs reference / vs floor: median over rounds of the ratio of times measured in the same round. "
          "param diff: max |w - w_ref| / max |w_ref| after two steps from the same weights.")
    breakdowns = {}
    if args.breakdown:
        print("\n## Where the time goes: each piece of a TwoLayerNet step alone\n")
        for dtype_name in args.dtypes.split(","):
            dtype = np.dtype(dtype_name).type
            batches = bench.draw_batches(x_train.astype(dtype), t_train, args.batch_size, 4, args.seed)
            text, breakdowns[dtype_name] = breakdown(dtype, batches, modules, args)
            print(text + "\n")
        print("Each piece runs alone on the step's real arrays; \"outside the pieces\" is the whole step "
              "minus their sum: the framework's bookkeeping (graph, gradients dict, Python calls).")
    if args.profile:
        case = args.nets.split(",")[0]
        dtype = np.dtype(args.dtypes.split(",")[0]).type
        batches = bench.draw_batches(x_train.astype(dtype), t_train, args.batch_size, 4, args.seed)
        print(f"\n## cProfile of 200 tinygrad_ko steps ({case}, {np.dtype(dtype).name})\n")
        print("```\n" + profile_tinygrad_ko(case, dtype, batches, 200).strip() + "\n```")
    _common.finish(args, {"info": info, "args": vars(args), "results": records, "breakdown_us": breakdowns},
                   limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
