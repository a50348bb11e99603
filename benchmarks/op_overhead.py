"""The fixed cost of one recorded op: a chain of elementwise ops on a tiny tensor, forward + backward.

    python benchmarks/op_overhead.py               # chain of 100 x * 1.0001 on a (2, 3) float64 tensor
    python benchmarks/op_overhead.py --chain mul-add --length 1000
    python benchmarks/op_overhead.py --quick
    python benchmarks/op_overhead.py --peers torch --clock cpu --rounds 40

On a (2, 3) tensor the arithmetic is nothing, so the time per op is the
framework's bookkeeping: making the output, recording the op, and in backward
the sort, the dict of gradients and the op's backward. ``--chain mul``: every
op is y = y * 1.0001 (its backward, g * 1.0001, is a real elementwise op);
``mul-add``: alternately y * 1.0001 and y + 0.001. Rows: tinygrad_ko
(forward + backward; forward recording the graph; forward under no_grad),
plain NumPy (the same forward, and forward + the hand-written backward),
and the peers when installed (each forward + backward from an upstream
gradient of ones). Interleaved rounds, medians; time per op = time per chain
/ length; ratios per round against NumPy and against PyTorch. No speed is asserted.
"""

import numpy as np

import _common
import tinygrad_ko as tk
from tinygrad_ko import bench

MUL, ADD = 1.0001, 0.001
NUMPY_BOTH = "NumPy (forward + hand-written backward)"


def chain_ops(kind, length):
    """The chain as a list of ('mul' | 'add', constant)."""
    if kind == "mul":
        return [("mul", MUL)] * length
    return [("mul", MUL) if i % 2 == 0 else ("add", ADD) for i in range(length)]


def apply_chain(y, ops):
    """Run the chain with the operators * and +, so it works on any array-like type."""
    for op, c in ops:
        y = y * c if op == "mul" else y + c
    return y


def contenders(ops, modules, x0):
    """{label: zero-argument callable}, one chain forward (+ backward) per call."""
    ones = np.ones_like(x0)
    x = tk.Tensor(x0.copy(), requires_grad=True)

    def tk_both():
        x.grad = None
        apply_chain(x, ops).backward(ones)

    def tk_forward():
        return apply_chain(x, ops)

    def tk_no_grad():
        with tk.no_grad():
            return apply_chain(x, ops)

    def numpy_forward():
        return apply_chain(x0, ops)

    def numpy_both():
        apply_chain(x0, ops)
        g = ones
        for op, c in reversed(ops):
            if op == "mul":
                g = g * c  # d(y * c)/dy = c; the add's backward passes g on unchanged
        return g

    result = {
        "tinygrad_ko (forward + backward)": tk_both,
        "tinygrad_ko (forward, graph recorded)": tk_forward,
        "tinygrad_ko (forward under no_grad)": tk_no_grad,
        NUMPY_BOTH: numpy_both,
        "NumPy (forward only)": numpy_forward,
    }
    torch = modules.get("torch")
    if torch is not None:
        tx = torch.tensor(x0, requires_grad=True)
        tones = torch.ones_like(tx)

        def torch_both():
            tx.grad = None
            apply_chain(tx, ops).backward(tones)
        result["PyTorch"] = torch_both
    autograd = modules.get("autograd")
    if autograd is not None:
        make_vjp = autograd.make_vjp(lambda a: apply_chain(a, ops))

        def autograd_both():
            vjp, _ = make_vjp(x0)
            return vjp(ones)
        result["HIPS autograd"] = autograd_both
    mygrad = modules.get("mygrad")
    if mygrad is not None:
        mx = mygrad.Tensor(x0.copy())

        def mygrad_off():
            with mygrad.mem_guard_off:
                apply_chain(mx, ops).backward(ones)

        def mygrad_on():
            with mygrad.mem_guard_on:
                apply_chain(mx, ops).backward(ones)
        result["mygrad (memory guard off)"] = mygrad_off
        result["mygrad (memory guard on)"] = mygrad_on
    dezero = modules.get("dezero")
    if dezero is not None:
        dx = dezero.Variable(x0.copy())

        def dezero_both():
            dx.cleargrad()
            apply_chain(dx, ops).backward()  # seeds the gradient with ones
        result["DeZero"] = dezero_both
    return result


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "op_overhead")
    p.add_argument("--chain", choices=["mul", "mul-add"], default="mul", help="which ops make the chain")
    p.add_argument("--length", type=int, default=100, help="ops in the chain")
    p.add_argument("--shape", default="2,3", help="the tensor's shape")
    p.add_argument("--peers", default="torch,mygrad,dezero,autograd",
                   help="comma-separated peers to include when installed ('' for none)")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    args = p.parse_args(argv)
    if args.rounds is None:
        args.rounds = 3 if args.quick else 25
    if args.block_seconds is None:
        args.block_seconds = 0.01 if args.quick else 0.1
    info, modules, limiter = _common.setup(args, [n for n in args.peers.split(",") if n])
    _common.header("Per-op overhead: a chain of elementwise ops, forward + backward", info)
    shape = tuple(int(s) for s in args.shape.split(","))
    x0 = np.random.default_rng(args.seed).standard_normal(shape)
    ops = chain_ops(args.chain, args.length)
    calls = contenders(ops, modules, x0)
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds,
                             warmup=3 if args.quick else 20, seed=args.seed, clock=args.clock)
    summary = bench.summarize(times, NUMPY_BOTH)
    versus_torch = {r["name"]: r for r in bench.summarize(times, "PyTorch")} if "PyTorch" in times else {}
    rows, records = [], []
    for row in summary:
        per_op = row["median_s"] / args.length
        torch_row = versus_torch.get(row["name"])
        rows.append([row["name"], f"{per_op * 1e6:.2f}", bench.ratio_text(row),
                     "" if torch_row is None else bench.ratio_text(torch_row)])
        records.append(dict(row, per_op_s=per_op, per_round_s=times[row["name"]],
                            vs_torch=None if torch_row is None else torch_row["ratio"],
                            vs_torch_min=None if torch_row is None else torch_row["ratio_min"],
                            vs_torch_max=None if torch_row is None else torch_row["ratio_max"]))
    print(f"## µs per op: chain '{args.chain}' of {args.length} ops on a {shape} float64 tensor, "
          f"median of {args.rounds} rounds ({args.clock} clock)\n")
    print(bench.markdown_table(["contender", "µs/op", "vs NumPy forward + backward (min..max)",
                                "vs PyTorch (min..max)"], rows))
    _common.finish(args, {"info": info, "args": vars(args), "results": records}, limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
