"""Why backprop: one numerical gradient timed next to one backprop gradient, and extrapolated to 784-100-10.

    python benchmarks/numerical_vs_backprop.py                 # small net 784-10-10 (~16,000 forward passes)
    python benchmarks/numerical_vs_backprop.py --quick         # small net 64-5-10, a second or two
    python benchmarks/numerical_vs_backprop.py --input 196 --hidden 10 --repeats 3

A TwoLayerNet's numerical gradient (the book's chapter 4) costs two forward
passes per parameter: 2 x 7,960 for a 784-10-10 net, 2 x 79,510 for the
book's 784-100-10. This script times, for tinygrad_ko and for the reference
(the book's NumPy layers and its ``numerical_gradient``):

1. one full numerical gradient of the small net (median of --repeats), next
   to one backprop gradient (``net.gradient``) of the same net, with the
   largest difference between the two (the book's gradient_check.py);
2. the forward pass (``loss``) and the backprop gradient of 784-100-10
   (interleaved rounds), and from them the extrapolated cost of one
   numerical gradient of 784-100-10 = 2 x 79,510 forward passes: seconds,
   and how many backprop gradients fit in that time.

The small net's measured numerical time against 2 x params x its forward
time shows the extrapolation is sound. Batch 100, float64. No speed is asserted.
"""

import statistics
import time

import numpy as np

import _common
import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench


def nets(sizes, seed):
    """(tinygrad_ko TwoLayerNet, reference TwoLayerNet) with the same weights."""
    init = ref.init_params(sizes, 0.01, seed=seed)
    mine = tk.TwoLayerNet(*sizes)
    for key, value in init.items():
        mine.params[key] = value
    return mine, ref.TwoLayerNet(*sizes, params=init)


def param_count(sizes):
    return sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))


def forward_and_gradient_times(mine, book, x, t, args):
    """Interleaved medians (s) of loss and gradient for both nets."""
    def tk_loss():
        with tk.no_grad():  # as tinygrad_ko's numerical_gradient runs it
            mine.loss(x, t).item()

    calls = {"tinygrad_ko loss": tk_loss, "reference loss": lambda: book.loss(x, t),
             "tinygrad_ko gradient": lambda: mine.gradient(x, t), "reference gradient": lambda: book.gradient(x, t)}
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds,
                             warmup=2 if args.quick else 10, seed=args.seed, clock=args.clock)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "numerical_vs_backprop")
    p.add_argument("--input", type=int, default=None, help="small net's input size (default 784; quick 64)")
    p.add_argument("--hidden", type=int, default=None, help="small net's hidden size (default 10; quick 5)")
    p.add_argument("--repeats", type=int, default=None, help="numerical gradients timed per library")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    args = p.parse_args(argv)
    args.input = args.input or (64 if args.quick else 784)
    args.hidden = args.hidden or (5 if args.quick else 10)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.rounds = args.rounds or (3 if args.quick else 15)
    args.block_seconds = args.block_seconds or (0.01 if args.quick else 0.1)
    info, _, limiter = _common.setup(args)
    _common.header("Numerical gradient vs backprop", info)
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    x_train = x_train.astype(np.float64)
    (x, t), = bench.draw_batches(x_train, t_train, 100, 1, args.seed)
    columns = np.linspace(0, 783, args.input).round().astype(int)  # the small net sees a subsample of pixels
    small, big = (args.input, args.hidden, 10), (784, 100, 10)
    small_x = np.ascontiguousarray(x[:, columns])

    mine, book = nets(small, args.seed)
    numerical = {"tinygrad_ko": [], "reference": []}
    for _ in range(args.repeats):  # alternate the two, each call is long
        start = time.perf_counter()
        tk_num = mine.numerical_gradient(small_x, t)
        numerical["tinygrad_ko"].append(time.perf_counter() - start)
        start = time.perf_counter()
        book_num = book.numerical_gradient(small_x, t)
        numerical["reference"].append(time.perf_counter() - start)
    tk_bp, book_bp = mine.gradient(small_x, t), book.gradient(small_x, t)
    diff = {"tinygrad_ko": max(float(np.max(np.abs(tk_num[k] - tk_bp[k]))) for k in tk_bp),
            "reference": max(float(np.max(np.abs(book_num[k] - book_bp[k]))) for k in book_bp)}
    fast_small = forward_and_gradient_times(mine, book, small_x, t, args)
    mine_big, book_big = nets(big, args.seed)
    fast_big = forward_and_gradient_times(mine_big, book_big, x, t, args)

    n_small, n_big = param_count(small), param_count(big)
    rows, records = [], {}
    for lib in ("tinygrad_ko", "reference"):
        num_s = statistics.median(numerical[lib])
        bp_s = fast_small[f"{lib} gradient"]
        predicted = 2 * n_small * fast_small[f"{lib} loss"]
        big_num = 2 * n_big * fast_big[f"{lib} loss"]
        big_bp = fast_big[f"{lib} gradient"]
        rows.append([lib, f"{num_s:.2f}", f"{predicted:.2f}", f"{bp_s * 1e3:.3f}", f"{num_s / bp_s:,.0f}",
                     f"{diff[lib]:.1e}", f"{fast_big[f'{lib} loss'] * 1e3:.3f}", f"{big_num:.0f}",
                     f"{big_bp * 1e3:.3f}", f"{big_num / big_bp:,.0f}"])
        records[lib] = {"small_numerical_s": numerical[lib], "small_predicted_s": predicted,
                        "small_backprop_s": bp_s, "small_max_abs_diff": diff[lib],
                        "big_forward_s": fast_big[f"{lib} loss"], "big_numerical_extrapolated_s": big_num,
                        "big_backprop_s": big_bp, "big_numerical_in_backprop_steps": big_num / big_bp}
    s, b = "-".join(map(str, small)), "-".join(map(str, big))
    print(f"## Batch 100, float64; small net {s} ({n_small:,} params), big net {b} ({n_big:,} params)\n")
    print(bench.markdown_table(
        ["library", f"{s} numerical s", "predicted s (2 x params x forward)", f"{s} backprop ms",
         "numerical / backprop", "max abs diff numerical vs backprop", f"{b} forward ms",
         f"{b} numerical s (extrapolated)", f"{b} backprop ms", "numerical in backprop steps"], rows))
    _common.finish(args, {"info": info, "args": vars(args), "small": small, "big": big, "results": records},
                   limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
