"""What the scripts in benchmarks/ share: flags, thread pinning, the peers' imports, results.

The timing helpers themselves (``interleave``, ``summarize``, ``markdown_table``,
machine info) live in ``tinygrad_ko.bench`` so that ``tinygrad-ko bench`` and
these scripts measure the same way.
"""

import argparse
import importlib
import os
import sys
from importlib import metadata

import numpy as np

from tinygrad_ko import bench

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def parser(description, name):
    """An ArgumentParser with the flags every script takes."""
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (threadpoolctl) and torch.set_num_threads")
    p.add_argument("--rounds", type=int, default=None, help="timing rounds (default depends on --quick)")
    p.add_argument("--quick", action="store_true", help="a short run (seconds), e.g. to check the script works")
    p.add_argument("--seed", type=int, default=0, help="seed for the weights, the batches and the order")
    p.add_argument("--json", default=os.path.join(RESULTS, f"{name}.json"), help="where to write the results")
    p.add_argument("--clock", choices=sorted(bench.CLOCKS), default="wall",
                   help="what the rounds time: wall (what a user waits) or cpu (this process's CPU time, "
                        "steadier on a machine shared with other work)")
    return p


def setup(args, peers=()):
    """Pin threads, import the peers; returns (info dict for the header, {peer: module or None}, limiter)."""
    limiter, note = bench.pin_blas(args.threads)
    info = bench.machine_info()
    import tinygrad_ko
    info["tinygrad_ko"] = tinygrad_ko.__version__
    info["threads"] = note
    info["clock"] = getattr(args, "clock", "wall")
    modules = {}
    for peer in peers:
        module, line = import_peer(peer, args.threads)
        modules[peer] = module
        info[peer] = line
    return info, modules, limiter


def _version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def import_peer(name, threads):
    """Import a peer framework by name; returns (module or None, a line for the report)."""
    try:
        if name == "torch":
            import torch
            torch.set_num_threads(threads)
            return torch, f"{torch.__version__} (torch.set_num_threads({threads}))"
        if name == "autograd":
            module = importlib.import_module("autograd")
            return module, _version("autograd")
        if name == "mygrad":
            module = importlib.import_module("mygrad")
            return module, _version("mygrad")
        if name == "dezero":
            if "int" not in vars(np):
                # DeZero 0.0.13 uses np.int, which NumPy 1.24 removed; the alias is all it needs.
                np.int = int
                shim = ", np.int = int set for it (removed in NumPy 1.24)"
            else:
                shim = ""
            module = importlib.import_module("dezero")
            importlib.import_module("dezero.functions")
            return module, _version("dezero") + shim
    except ImportError as error:
        return None, f"not installed, skipped ({error}); pip install {name}"
    raise ValueError(f"unknown peer {name!r}")


def header(title, info):
    print(f"# {title}\n")
    print(bench.format_info(info) + "\n")


def finish(args, payload, limiter=None):
    """Write the JSON and say where; undo the thread limit."""
    bench.write_json(args.json, payload)
    print(f"\nJSON: {args.json}")
    if limiter is not None:
        limiter.restore_original_limits()
    sys.stdout.flush()
