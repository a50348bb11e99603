"""Where Python overhead stops mattering: TwoLayerNet ms/step over batch size and hidden size.

    python benchmarks/scaling.py                   # batch 1..1000 (hidden 100), hidden 10..1000 (batch 100)
    python benchmarks/scaling.py --quick           # two points per sweep, a few seconds
    python benchmarks/scaling.py --dtype float32 --plot /tmp/scaling.png

TwoLayerNet 784-hidden-10 (sigmoid, std 0.01, SGD lr 0.1), tinygrad_ko (the
book's loop) against the reference (the book's chapter-5 layers in NumPy),
interleaved round by round at each point, the same weights and batches for
both. The table gives ms/step for each and their ratio (median, min..max over
rounds); the PNG (matplotlib, Agg) plots ms/step and the ratio over both
sweeps. A ratio near 1 means the matrix products dominate and the framework's
fixed cost per step no longer shows. No speed is asserted.
"""

import os

import numpy as np

import _common
import peers
import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench

REFERENCE = "reference"
BATCHES = (1, 3, 10, 30, 100, 300, 1000)
HIDDENS = (10, 30, 100, 300, 1000)


def measure(x_train, t_train, batch_size, hidden, dtype, args):
    """Interleaved times of tinygrad_ko and the reference at one point; returns the summary rows."""
    init = ref.init_params((784, hidden, 10), 0.01, seed=args.seed, dtype=dtype)
    contenders = {REFERENCE: peers.reference(init, "sigmoid", 0.1),
                  "tinygrad_ko": peers.tinygrad_ko(init, "sigmoid", 0.1)}
    batches = bench.draw_batches(x_train, t_train, batch_size, 2 if args.quick else 8, args.seed)
    calls = {name: bench.cycle_batches(c.step, batches) for name, c in contenders.items()}
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds,
                             warmup=2 if args.quick else 10, seed=args.seed)
    return {row["name"]: row for row in bench.summarize(times, REFERENCE)}


def plot(points, path):
    """ms/step and the ratio over both sweeps, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex="col")
    for col, (sweep, xlabel) in enumerate((("batch", "batch size (hidden 100)"),
                                           ("hidden", "hidden size (batch 100)"))):
        pts = [p for p in points if p["sweep"] == sweep]
        xs = [p[sweep] for p in pts]
        top, bottom = axes[0][col], axes[1][col]
        top.loglog(xs, [p["reference_ms"] for p in pts], "o-", label="reference (book's NumPy layers)")
        top.loglog(xs, [p["tinygrad_ko_ms"] for p in pts], "s-", label="tinygrad_ko")
        top.set_ylabel("ms per step")
        top.grid(True, which="both", alpha=0.3)
        top.legend()
        bottom.semilogx(xs, [p["ratio"] for p in pts], "s-", color="C1")
        bottom.fill_between(xs, [p["ratio_min"] for p in pts], [p["ratio_max"] for p in pts],
                            color="C1", alpha=0.2, label="min..max over rounds")
        bottom.axhline(1.0, color="gray", lw=1)
        bottom.set_ylabel("tinygrad_ko / reference")
        bottom.set_xlabel(xlabel)
        bottom.grid(True, which="both", alpha=0.3)
        bottom.legend()
    fig.suptitle("TwoLayerNet training step: tinygrad_ko vs the book's NumPy layers")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "scaling")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="the nets' dtype")
    p.add_argument("--batch-sizes", default=None, help="comma-separated (default 1,3,10,30,100,300,1000)")
    p.add_argument("--hidden-sizes", default=None, help="comma-separated (default 10,30,100,300,1000)")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    p.add_argument("--plot", default=os.path.join(_common.RESULTS, "scaling.png"), help="where to save the PNG")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 15
    if args.block_seconds is None:
        args.block_seconds = 0.01 if args.quick else 0.1
    batch_sizes = [int(s) for s in args.batch_sizes.split(",")] if args.batch_sizes else \
        ([1, 100] if args.quick else list(BATCHES))
    hidden_sizes = [int(s) for s in args.hidden_sizes.split(",")] if args.hidden_sizes else \
        ([10, 100] if args.quick else list(HIDDENS))
    info, _, limiter = _common.setup(args)
    _common.header("Scaling: TwoLayerNet ms/step over batch and hidden size", info)
    dtype = np.dtype(args.dtype).type
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    x_train = x_train.astype(dtype)
    points, rows = [], []
    grid = [("batch", b, 100) for b in batch_sizes] + [("hidden", 100, h) for h in hidden_sizes]
    for sweep, batch_size, hidden in grid:
        result = measure(x_train, t_train, batch_size, hidden, dtype, args)
        tg, rf = result["tinygrad_ko"], result[REFERENCE]
        point = {"sweep": sweep, "batch": batch_size, "hidden": hidden,
                 "reference_ms": rf["median_s"] * 1e3, "tinygrad_ko_ms": tg["median_s"] * 1e3,
                 "ratio": tg["ratio"], "ratio_min": tg["ratio_min"], "ratio_max": tg["ratio_max"]}
        points.append(point)
        rows.append([sweep, batch_size, hidden, f"{point['reference_ms']:.3f}", f"{point['tinygrad_ko_ms']:.3f}",
                     bench.ratio_text(tg), f"{(tg['median_s'] - rf['median_s']) * 1e6:+.0f}"])
    print(f"## TwoLayerNet 784-hidden-10 {args.dtype}, median of {args.rounds} rounds\n")
    print(bench.markdown_table(["sweep", "batch", "hidden", "reference ms/step", "tinygrad_ko ms/step",
                                "tinygrad_ko / reference (min..max)", "difference µs/step"], rows))
    if not args.no_plot:
        plot(points, args.plot)
        print(f"\nplot: {args.plot}")
    _common.finish(args, {"info": info, "args": vars(args), "points": points}, limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
