"""Memory over many training steps: peak RSS, traced memory per step, and the graph freed after each step.

    python benchmarks/memory.py                    # TwoLayerNet, 500 steps each for tinygrad_ko and the reference
    python benchmarks/memory.py --net simple-conv  # the book's SimpleConvNet, 500 steps each
    python benchmarks/memory.py --quick            # 30 steps each, a couple of seconds
    python benchmarks/memory.py --steps 2000 --contenders tinygrad_ko,reference,hand-tuned

Each contender runs in its own subprocess (so peaks don't mix), float64,
``--net two-layer``: TwoLayerNet 784-100-10, batch 100, SGD lr 0.1;
``--net simple-conv``: SimpleConvNet (conv 30 5x5 - relu - pool - 4320-100 -
10), batch 100 of 1x28x28, SGD lr 0.01. tinygrad_ko runs the book's loop
(``net.gradient`` + ``tk.optim.SGD.update``), the reference the book's layers.
Three phases:

1. RSS: VmHWM/VmRSS from /proc/self/status (ru_maxrss where there is no
   /proc) after the imports, the data and one warm-up step (the baseline),
   and after --steps steps. The growth of the high-water mark is what the
   steps themselves cost; the table also gives tinygrad_ko's peak over the
   reference's.
2. tracemalloc, with the garbage collector off: the traced size after each of
   --steps steps (with the previous step's graph and gradients dropped); flat
   means nothing piles up, even without the collector. Reported: first,
   median, max, last, and the slope over the second half.
3. The graph: with ``gc.disable()``, each step takes weak references to every
   tensor and Function the loss's graph holds (tinygrad_ko only; the
   reference has no graph) and counts those still alive once the step is
   over; afterwards ``gc.collect()`` counts what only the cycle collector
   could have freed. Both should be 0.
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tracemalloc
import weakref

import numpy as np

try:
    import resource  # Unix only
except ImportError:
    resource = None

import _common
import peers
import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench

SIZES = (784, 100, 10)
NETS = ("two-layer", "simple-conv")


def memory_status():
    """{'VmHWM': MiB, 'VmRSS': MiB} from /proc; else the peak from getrusage (Linux KiB, macOS bytes)."""
    try:
        status = {}
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    status[key] = int(value.split()[0]) / 1024
        if status:
            return status
    except OSError:
        pass
    if resource is None:
        return {"VmHWM": float("nan"), "VmRSS": float("nan")}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"VmHWM": peak / (2 ** 20 if sys.platform == "darwin" else 1024), "VmRSS": float("nan")}


def graph_refs(loss):
    """Weak references to every non-leaf tensor of the loss's graph and to the Function that made it."""
    refs, seen, stack = [], set(), [loss]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen or tensor._ctx is None:
            continue  # leaves (the parameters, the batch) live on
        seen.add(id(tensor))
        refs += [weakref.ref(tensor), weakref.ref(tensor._ctx)]
        stack.extend(tensor._ctx.inputs)
    return refs


def tinygrad_ko_step_with_refs(net, optimizer, x, t):
    """The steps of ``net.gradient`` + ``update``, written out to take weakrefs to the graph."""
    net.zero_grad()
    loss = net.loss(x, t)
    refs = graph_refs(loss)
    loss.backward()
    optimizer.update(net.params, {name: p.grad.data for name, p in net.named_parameters()})
    return refs  # loss goes out of scope here


def make_net(net, init):
    """tinygrad_ko's net for ``--net`` with the weights ``init`` and its learning rate."""
    if net == "two-layer":
        model, lr = tk.TwoLayerNet(*SIZES), 0.1
    else:
        model, lr = tk.SimpleConvNet(), 0.01
    for key, value in init.items():
        model.params[key] = value
    return model, lr


def contender_step(name, net, init):
    """step(x, t) of one contender for ``--net``."""
    if net == "two-layer":
        if name == "tinygrad_ko":
            return peers.tinygrad_ko(init, "sigmoid", 0.1).step
        if name == "reference":
            return peers.reference(init, "sigmoid", 0.1).step
        return peers.hand_tuned(init, "sigmoid", 0.1, 100).step
    if name == "tinygrad_ko":
        model, lr = make_net(net, init)
        optimizer = tk.optim.SGD(lr=lr)
        return lambda x, t: optimizer.update(model.params, model.gradient(x, t))
    if name == "reference":
        book, optimizer = ref.SimpleConvNet(init), ref.SGD(lr=0.01)
        return lambda x, t: optimizer.update(book.params, book.gradient(x, t))
    raise ValueError(f"--net {net}: no contender {name!r} (tinygrad_ko, reference)")


def child(name, steps, seed, net="two-layer"):
    """One contender's three phases; prints one JSON line."""
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    if net == "two-layer":
        init = ref.init_params(SIZES, 0.01, seed=seed)
    else:
        x_train = x_train.reshape(-1, 1, 28, 28)
        init = ref.init_convnet_params(seed=seed)
    batches = bench.draw_batches(x_train.astype(np.float64), t_train, 100, 8, seed)
    call = bench.cycle_batches(contender_step(name, net, init), batches)
    call()
    base = memory_status()
    for _ in range(steps):
        call()
    after = memory_status()

    gc.collect()
    gc.disable()  # nothing may pile up even without the cycle collector
    try:
        tracemalloc.start()
        traced = []
        for _ in range(steps):
            call()
            traced.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
    finally:
        gc.enable()
    half = traced[len(traced) // 2:]
    slope = float(np.polyfit(np.arange(len(half)), half, 1)[0]) if len(half) > 1 else 0.0

    alive = None
    gc.collect()
    gc.disable()
    try:
        if name == "tinygrad_ko":
            model, lr = make_net(net, init)
            optimizer = tk.optim.SGD(lr=lr)
            alive = 0
            for i in range(steps):
                x, t = batches[i % len(batches)]
                refs = tinygrad_ko_step_with_refs(model, optimizer, x, t)
                alive += sum(r() is not None for r in refs)
        else:
            for _ in range(steps):
                call()
        unreachable = gc.collect()
    finally:
        gc.enable()
    print(json.dumps({
        "name": name, "net": net, "steps": steps,
        "baseline_hwm_mib": base["VmHWM"], "final_hwm_mib": after["VmHWM"],
        "hwm_growth_mib": after["VmHWM"] - base["VmHWM"],
        "baseline_rss_mib": base["VmRSS"], "final_rss_mib": after["VmRSS"],
        "ru_maxrss": None if resource is None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "traced_first_kib": traced[0] / 1024, "traced_median_kib": statistics.median(traced) / 1024,
        "traced_max_kib": max(traced) / 1024, "traced_last_kib": traced[-1] / 1024,
        "traced_slope_bytes_per_step": slope,
        "graph_objects_alive_after_steps": alive, "gc_unreachable_after_steps": unreachable,
    }))


def main(argv=None):
    p = _common.parser(__doc__.splitlines()[0], "memory")
    p.add_argument("--steps", type=int, default=None, help="steps per phase (default 500; quick 30)")
    p.add_argument("--contenders", default="tinygrad_ko,reference",
                   help="comma-separated: tinygrad_ko, reference, hand-tuned (two-layer only)")
    p.add_argument("--net", choices=NETS, default="two-layer", help="the net whose steps are run")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    steps = args.steps or (30 if args.quick else 500)
    if args.child:
        bench.pin_blas(args.threads)
        child(args.child, steps, args.seed, args.net)
        return 0
    info, _, limiter = _common.setup(args)
    title = "TwoLayerNet" if args.net == "two-layer" else "SimpleConvNet"
    _common.header(f"Memory over {steps} {title} steps", info)
    results, rows = [], []
    for name in args.contenders.split(","):
        command = [sys.executable, os.path.abspath(__file__), "--child", name, "--steps", str(steps),
                   "--threads", str(args.threads), "--seed", str(args.seed), "--net", args.net]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{name}: the subprocess failed:\n{done.stderr}")
            return 1
        r = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(r)
        alive = "n/a (no graph)" if r["graph_objects_alive_after_steps"] is None \
            else str(r["graph_objects_alive_after_steps"])
        rows.append([name, f"{r['baseline_hwm_mib']:.1f}", f"{r['final_hwm_mib']:.1f}",
                     f"{r['hwm_growth_mib']:+.1f}", f"{r['traced_first_kib']:.0f}",
                     f"{r['traced_median_kib']:.0f}", f"{r['traced_max_kib']:.0f}", f"{r['traced_last_kib']:.0f}",
                     f"{r['traced_slope_bytes_per_step']:+.1f}", alive, r["gc_unreachable_after_steps"]])
    shape = "784-100-10" if args.net == "two-layer" else "(conv 30x5x5, pool 2, 4320-100-10)"
    print(f"## {title} {shape} float64, batch 100, {steps} steps per phase, one subprocess each\n")
    print(bench.markdown_table(
        ["contender", "peak RSS before MiB", "peak RSS after MiB", "peak growth MiB", "traced first KiB",
         "traced median KiB", "traced max KiB", "traced last KiB", "traced slope B/step (gc off)",
         "graph objects alive after steps (gc off)", "gc.collect() found"], rows))
    by_name = {r["name"]: r for r in results}
    if "tinygrad_ko" in by_name and "reference" in by_name:
        ours, book = by_name["tinygrad_ko"], by_name["reference"]
        ratio = ours["final_hwm_mib"] / book["final_hwm_mib"]
        print(f"\ntinygrad_ko / reference: peak RSS after the steps {ratio:.2f} "
              f"({ours['final_hwm_mib']:.1f} / {book['final_hwm_mib']:.1f} MiB); the peak grew by "
              f"{ours['hwm_growth_mib']:+.1f} and {book['hwm_growth_mib']:+.1f} MiB over the steps.")
    print("\nPeak RSS: VmHWM after imports, data and one step, then after the steps. Traced: tracemalloc's "
          "current size after each step, garbage collector off. Graph objects: weakrefs to the graph's "
          "tensors and Functions still alive after the step, summed over steps.")
    _common.finish(args, {"info": info, "args": vars(args), "results": results}, limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
