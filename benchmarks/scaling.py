"""Where Python overhead stops mattering: ms/step over batch size (and hidden size) for the book's nets.

    python benchmarks/scaling.py                   # TwoLayerNet: batch 1..1000 (hidden 100), hidden 10..1000
    python benchmarks/scaling.py --conv            # SimpleConvNet and DeepConvNet: batch 1..256, with PyTorch
    python benchmarks/scaling.py --quick           # two points per sweep, a few seconds
    python benchmarks/scaling.py --dtype float32 --plot /tmp/scaling.png

TwoLayerNet 784-hidden-10 (sigmoid, std 0.01, SGD lr 0.1), tinygrad_ko (the
book's loop) against the reference (the book's chapter-5 layers in NumPy),
interleaved round by round at each point, the same weights and batches for
both. The table gives ms/step for each and their ratio (median, min..max over
rounds); the PNG (matplotlib, Agg) plots ms/step and the ratio over both
sweeps. A ratio near 1 means the matrix products dominate and the framework's
fixed cost per step no longer shows.

``--conv``: one training step of the book's SimpleConvNet and DeepConvNet
(as ``benchmarks/conv_step.py`` builds them: tinygrad_ko's nets with the
book's loop, the book's im2col layers, PyTorch's eager mode when installed)
at batch sizes 1, 4, 16, 64, 256; the table gives ms/step, time per sample
and the ratios to the reference; the PNG (``scaling_conv.png``) plots time
per sample against batch size, one panel per net. No speed is asserted.
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
                             warmup=2 if args.quick else 10, seed=args.seed, clock=args.clock)
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


CONV_BATCHES = (1, 4, 16, 64, 256)


def measure_conv(net, images, t_train, batch_size, dtype, torch, args):
    """Interleaved times of the conv contenders at one batch size; {name: summary row}."""
    import conv_step

    init = conv_step.init_params(net, dtype, args.seed)
    cs = conv_step.contenders(net, init, torch)
    batches = bench.draw_batches(images, t_train, batch_size, 2 if args.quick else 4, args.seed)
    calls = {name: bench.cycle_batches(step, [prepare(x, t) for x, t in batches])
             for name, (step, _, prepare) in cs.items()}
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds,
                             warmup=1 if args.quick else 3, seed=args.seed, clock=args.clock)
    return {row["name"]: row for row in bench.summarize(times, conv_step.REFERENCE)}


def plot_conv(points, path):
    """Time per sample against batch size, one panel per net, one line per contender."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    nets = list(dict.fromkeys(p["net"] for p in points))
    fig, axes = plt.subplots(1, len(nets), figsize=(5.5 * len(nets), 4.5), squeeze=False)
    for ax, net in zip(axes[0], nets):
        pts = [p for p in points if p["net"] == net]
        for i, name in enumerate(dict.fromkeys(p["contender"] for p in pts)):
            line = [p for p in pts if p["contender"] == name]
            ax.loglog([p["batch"] for p in line], [p["us_per_sample"] for p in line], "os^v"[i % 4] + "-",
                      label=name)
        ax.set_xticks(sorted({p["batch"] for p in pts}))
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(net)
        ax.set_xlabel("batch size")
        ax.set_ylabel("µs per sample (one training step / batch size)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Training step time per sample: tinygrad_ko, the book's im2col layers, PyTorch (1 thread)")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main_conv(args):
    import conv_step

    batch_sizes = [int(s) for s in args.batch_sizes.split(",")] if args.batch_sizes else \
        ([1, 4] if args.quick else list(CONV_BATCHES))
    info, modules, limiter = _common.setup(args, () if args.no_torch else ("torch",))
    torch = modules.get("torch")
    _common.header("Scaling: the book's conv nets, time per sample over batch size", info)
    dtype = np.dtype(args.dtype).type
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    images = x_train.reshape(-1, 1, 28, 28).astype(dtype)
    points, rows = [], []
    for net in ("simple", "deep"):
        title = conv_step.NETS[net][0]
        for batch_size in batch_sizes:
            result = measure_conv(net, images, t_train, batch_size, dtype, torch, args)
            for name, row in result.items():
                point = {"net": title, "batch": batch_size, "contender": name, "ms_per_step": row["median_s"] * 1e3,
                         "us_per_sample": row["median_s"] * 1e6 / batch_size, "ratio": row["ratio"],
                         "ratio_min": row["ratio_min"], "ratio_max": row["ratio_max"]}
                points.append(point)
                rows.append([title, batch_size, name, f"{point['ms_per_step']:.2f}", f"{point['us_per_sample']:.0f}",
                             bench.ratio_text(row)])
    print(f"## One training step of the conv nets, {args.dtype}, median of {args.rounds} rounds ({args.clock} clock)\n")
    print(bench.markdown_table(["net", "batch", "contender", "ms/step", "µs/sample", "vs reference (min..max)"],
                               rows))
    if not args.no_plot:
        plot_conv(points, args.plot)
        print(f"\nplot: {args.plot}")
    _common.finish(args, {"info": info, "args": vars(args), "points": points}, limiter)
    return 0


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "scaling")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="the nets' dtype")
    p.add_argument("--batch-sizes", default=None, help="comma-separated (default 1,3,10,30,100,300,1000)")
    p.add_argument("--hidden-sizes", default=None, help="comma-separated (default 10,30,100,300,1000)")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    p.add_argument("--plot", default=None,
                   help="where to save the PNG (default: results/scaling.png, with --conv results/scaling_conv.png)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("--conv", action="store_true",
                   help="the conv nets instead: SimpleConvNet and DeepConvNet over batch 1..256, with PyTorch "
                        "(plot: results/scaling_conv.png unless --plot)")
    p.add_argument("--no-torch", action="store_true", help="with --conv: leave PyTorch out even when installed")
    args = p.parse_args(argv)
    if args.conv:
        if args.block_seconds is None:
            args.block_seconds = 0.01 if args.quick else 0.2
        if args.rounds is None:
            args.rounds = 2 if args.quick else 7
        if args.plot is None:
            args.plot = os.path.join(_common.RESULTS, "scaling_conv.png")
        return main_conv(args)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 15
    if args.block_seconds is None:
        args.block_seconds = 0.01 if args.quick else 0.1
    if args.plot is None:
        args.plot = os.path.join(_common.RESULTS, "scaling.png")
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
