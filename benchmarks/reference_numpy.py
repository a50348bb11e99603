"""The NumPy baselines every ratio is measured against, checked against tinygrad_ko and timed.

    python benchmarks/reference_numpy.py           # check, then time the three NumPy variants
    python benchmarks/reference_numpy.py --quick

The implementation lives in ``tinygrad_ko/_bench_reference.py`` (so the
installed ``tinygrad-ko bench`` has it too); this module re-exports it:

- the reference: the book's chapter-5 layers ``Affine``, ``Sigmoid``,
  ``Relu``, ``SoftmaxWithLoss`` and the nets ``TwoLayerNet`` and
  ``MultiLayerNet`` built from them, with ``gradient()`` and the book's
  ``SGD`` (``Affine.backward`` computes dx of the input batch, as the book's);
- ``HandTunedNet``: preallocated buffers, in place, no gradient for the input;
- ``MatmulFloor``: only the matrix products of a step (5 for a TwoLayerNet).

Run as a script it checks, for TwoLayerNet 784-100-10 and MultiLayerNet
784-100-100-10 (float64), that the reference's loss and gradients match
tinygrad_ko's and that one hand-tuned step matches one reference step, then
times reference, hand-tuned and floor in interleaved rounds. No speed is
asserted.
"""

import numpy as np

import _common
import tinygrad_ko as tk
from tinygrad_ko import bench
from tinygrad_ko._bench_reference import (  # noqa: F401  (re-exported for the other scripts and users)
    SGD, Affine, HandTunedNet, MatmulFloor, MultiLayerNet, Relu, Sigmoid, SoftmaxWithLoss, TwoLayerNet,
    cross_entropy_error, init_params, numerical_gradient, sigmoid, softmax)

CASES = {
    "784-100-10 sigmoid": ((784, 100, 10), "sigmoid", 0.01, 0.1),
    "784-100-100-10 relu": ((784, 100, 100, 10), "relu", "he", 0.01),
}


def build(sizes, activation, init):
    """(reference net, tinygrad_ko net) with the same weights."""
    if len(sizes) == 3:
        book = TwoLayerNet(*sizes, activation=activation, params=init)
        mine = tk.TwoLayerNet(*sizes, activation=activation)
    else:
        book = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation, params=init)
        mine = tk.MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation)
    for key, value in init.items():
        mine.params[key] = value
    return book, mine


def check(sizes, activation, init_std, lr, x, t):
    """Largest differences: loss and gradients (reference vs tinygrad_ko), one step (hand-tuned vs reference)."""
    init = init_params(sizes, init_std)
    book, mine = build(sizes, activation, init)
    loss_diff = abs(float(book.loss(x, t)) - mine.loss(x, t).item())
    g_book, g_mine = book.gradient(x, t), mine.gradient(x, t)
    grad_diff = max(float(np.max(np.abs(g_book[k] - g_mine[k]))) for k in g_book)
    tuned = HandTunedNet(init, x.shape[0], activation=activation, lr=lr)
    tuned.step(x, t)
    SGD(lr).update(book.params, g_book)
    step_diff = bench.max_param_diff(tuned.params, book.params)
    return loss_diff, grad_diff, step_diff


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "reference_numpy")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (3 if args.quick else 20)
    args.block_seconds = args.block_seconds or (0.01 if args.quick else 0.1)
    info, _, limiter = _common.setup(args)
    _common.header("The NumPy baselines: the book's layers, hand-tuned, matmul floor", info)
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    batches = bench.draw_batches(x_train.astype(np.float64), t_train, 100, 2 if args.quick else 16, args.seed)
    x, t = batches[0]
    check_rows, time_rows, records = [], [], []
    for label, (sizes, activation, init_std, lr) in CASES.items():
        loss_diff, grad_diff, step_diff = check(sizes, activation, init_std, lr, x, t)
        check_rows.append([label, f"{loss_diff:.1e}", f"{grad_diff:.1e}", f"{step_diff:.1e}"])
        init = init_params(sizes, init_std, seed=args.seed)
        book = TwoLayerNet(*sizes, activation=activation, params=init) if len(sizes) == 3 else \
            MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation, params=init)
        sgd = SGD(lr)

        def book_step(x, t, book=book, sgd=sgd):
            sgd.update(book.params, book.gradient(x, t))

        tuned = HandTunedNet(init, 100, activation=activation, lr=lr)
        floor = MatmulFloor(init, 100)
        calls = {"reference (book's layers)": bench.cycle_batches(book_step, batches),
                 "hand-tuned": bench.cycle_batches(tuned.step, batches),
                 f"floor ({floor.matmul_count} matmuls)": bench.cycle_batches(floor.step, batches)}
        times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds,
                                 warmup=2 if args.quick else 20, seed=args.seed, clock=args.clock)
        floor_name = f"floor ({floor.matmul_count} matmuls)"
        for row in bench.summarize(times, "reference (book's layers)", floor_name):
            time_rows.append([label, row["name"], f"{row['median_s'] * 1e3:.3f}", bench.ratio_text(row),
                              f"{row['vs_floor']:.2f}"])
            records.append(dict(row, case=label, per_round_s=times[row["name"]]))
        records.append({"case": label, "loss_diff": loss_diff, "grad_diff": grad_diff, "step_diff": step_diff})
    print("## Same numbers (float64, batch 100)\n")
    print(bench.markdown_table(["net", "loss: reference - tinygrad_ko", "gradients: max abs diff",
                                "one step: hand-tuned vs reference (relative)"], check_rows))
    print("\nThe loss differs by about 1e-7 / p: the book's cross_entropy_error adds 1e-7 inside the log; "
          "tinygrad_ko's fused softmax_cross_entropy does not (the gradients are the same).\n")
    print(f"## ms per step (batch 100, float64), median of {args.rounds} rounds\n")
    print(bench.markdown_table(["net", "variant", "ms/step", "vs reference (min..max)", "vs floor"], time_rows))
    _common.finish(args, {"info": info, "args": vars(args), "results": records}, limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
