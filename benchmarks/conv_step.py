"""Training steps and inference of the book's convolution nets: tinygrad_ko against the book's im2col layers.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/conv_step.py
    python benchmarks/conv_step.py --quick                  # seconds: checks that everything runs
    python benchmarks/conv_step.py --nets deep --dtypes float32 --rounds 30 --clock cpu
    python benchmarks/conv_step.py --profile --no-inference   # where the time goes, op by op
    python benchmarks/conv_step.py --both-column-modes      # also conv2d's other Conv2d.save_columns
    python benchmarks/conv_step.py --isolated --no-inference  # also each contender in a process of its own
    python benchmarks/conv_step.py --conv-layers --no-inference  # also each convolution alone, beside PyTorch's

The nets, as the book builds them:

- ``simple``: SimpleConvNet (chapter 7), batch 100 of 1x28x28: conv 30 5x5
  filters - relu - max pool 2x2 stride 2 - affine 4320-100 - relu - affine
  100-10 - softmax cross-entropy;
- ``deep``: DeepConvNet (chapter 8), batch 32: six 3x3 convolutions (16, 16,
  32, 32 with pad 2, 64, 64 filters) with relus and three 2x2 max pools,
  affine 1024-50 - relu - dropout - affine 50-10 - dropout (the book's, not
  inverted, masks from ``np.random.rand``) - softmax cross-entropy.

Images from ``tk.datasets.load_mnist(sample=True)``, SGD (lr 0.01), float64
and float32. Contenders, all from the same initial weights on the same batches:

- the reference: the book's layers (``Convolution`` and ``Pooling`` by
  im2col/col2im, ``Relu``, ``Affine``, ``Dropout``, ``SoftmaxWithLoss``;
  written out in ``tinygrad_ko/_bench_reference.py``) and the book's SGD;
- tinygrad_ko: ``tk.SimpleConvNet`` / ``tk.DeepConvNet`` with the book's
  loop, ``optimizer.update(net.params, net.gradient(x, t))``;
- PyTorch's eager mode (``torch.nn.functional``, 1 thread) when installed.

Before timing, every contender takes two steps (with the same dropout masks)
and its weights are compared with the reference's. Then interleaved rounds:
medians and per-round ratios to the reference and to PyTorch. ``--profile``
adds a per-op table for tinygrad_ko and a per-layer table for the book's
layers; the inference table scores the 10,000 MNIST test images with the
book's trained weights (params.pkl, deep_convnet_params.pkl, from
``--book-dir``) in batches of 100, as the book's ``accuracy``; the memory
table gives tracemalloc's peak during one step. ``--isolated`` adds a table of
each contender timed in a fresh process of its own, in turn, as a learner runs
one of them: what one process allocates and frees then no longer hides what
another pays (the system time of getting fresh memory from the OS is shown
apart); tinygrad_ko runs there twice: as a learner gets it (its first step calls
``tinygrad_ko.allocator.keep_freed_memory()``) and with that turned off
(``TINYGRAD_KO_KEEP_FREED_MEMORY=0``), to show what it saves. No speed is asserted anywhere.
"""

import json
import os
import random
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import _common
import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import allocator, bench
from tinygrad_ko.autograd import toposort
from tinygrad_ko.ops import conv as conv_ops

REFERENCE = "reference (book's layers)"
OURS = "tinygrad_ko"
TORCH = "PyTorch (eager, torch.nn.functional)"
LR = 0.01
DEFAULT_SAVE = conv_ops.Conv2d.save_columns
# tinygrad_ko keeps freed memory from its first training step on (net.gradient, tk.training.train);
# this contender turns that off, to show what it saves.
GIVEN_BACK = "tinygrad_ko, freed memory given back (TINYGRAD_KO_KEEP_FREED_MEMORY=0)"
OTHER_MODE = f"tinygrad_ko, columns {'rebuilt in backward' if DEFAULT_SAVE else 'kept from forward'}"
BOOK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "book")

# net: (title, default batch, the book's weight file in --book-dir)
NETS = {
    "simple": ("SimpleConvNet", 100, "book_ch07_params.pkl"),
    "deep": ("DeepConvNet", 32, "book_ch08_deep_convnet_params.pkl"),
}
BOOK_LAYERS = (ref.Convolution, ref.Pooling, ref.Relu, ref.Affine, ref.Dropout, ref.SoftmaxWithLoss)


def init_params(net, dtype, seed):
    if net == "simple":
        return ref.init_convnet_params(seed=seed, dtype=dtype)
    return ref.init_deep_convnet_params(seed=seed, dtype=dtype)


# --- contenders: step(x, t), params(), prepare(x, t) ------------------------------


def _same(x, t):
    return x, t


def book_net(net, params):
    return ref.SimpleConvNet(params) if net == "simple" else ref.DeepConvNet(params)


def tinygrad_ko_net(net, params):
    dtype = params["W1"].dtype
    model = tk.SimpleConvNet(dtype=dtype) if net == "simple" else tk.DeepConvNet(dtype=dtype)
    for key, value in params.items():
        model.params[key] = value
    return model


def reference_step(net, init):
    model = book_net(net, init)
    optimizer = ref.SGD(lr=LR)

    def step(x, t):
        optimizer.update(model.params, model.gradient(x, t))

    return step, lambda: model.params, _same


def tinygrad_ko_step(net, init, save_columns=DEFAULT_SAVE):
    model = tinygrad_ko_net(net, init)
    optimizer = tk.optim.SGD(lr=LR)

    def step(x, t):
        conv_ops.Conv2d.save_columns = save_columns
        try:
            optimizer.update(model.params, model.gradient(x, t))
        finally:
            conv_ops.Conv2d.save_columns = DEFAULT_SAVE

    return step, lambda: {key: value for key, value in model.params.items()}, _same


def torch_forward(torch, net, P, x, train):
    """The net's scores in torch.nn.functional, weights in the book's layouts; the book's dropout."""
    import torch.nn.functional as TF

    def dropout(h):
        if train:  # the book's masks, drawn as it draws them
            return h * torch.from_numpy(np.random.rand(*h.shape) > 0.5)
        return h * 0.5

    if net == "simple":
        h = TF.max_pool2d(TF.relu(TF.conv2d(x, P["W1"], P["b1"])), 2, 2)
        h = TF.relu(h.flatten(1) @ P["W2"] + P["b2"])
        return h @ P["W3"] + P["b3"]
    h = x
    for i, conv in enumerate(ref.DEEP_CONV_PARAMS):
        h = TF.relu(TF.conv2d(h, P[f"W{i + 1}"], P[f"b{i + 1}"], stride=conv["stride"], padding=conv["pad"]))
        if i % 2 == 1:
            h = TF.max_pool2d(h, 2, 2)
    h = dropout(TF.relu(h.flatten(1) @ P["W7"] + P["b7"]))
    return dropout(h @ P["W8"] + P["b8"])


def torch_step(torch, net, init):
    import torch.nn.functional as TF

    P = {key: torch.tensor(value.copy(), requires_grad=True) for key, value in init.items()}

    def step(x, t):
        loss = TF.cross_entropy(torch_forward(torch, net, P, x, train=True), t)
        loss.backward()
        with torch.no_grad():
            for p in P.values():
                p.add_(p.grad, alpha=-LR)  # what torch.optim.SGD does, without its bookkeeping
                p.grad = None

    def prepare(x, t):
        return torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))

    return step, lambda: {key: p.detach().numpy() for key, p in P.items()}, prepare


def contenders(net, init, torch, both_column_modes=False):
    """{label: (step, params, prepare)}."""
    result = {REFERENCE: reference_step(net, init), OURS: tinygrad_ko_step(net, init)}
    if both_column_modes:
        result[OTHER_MODE] = tinygrad_ko_step(net, init, save_columns=not DEFAULT_SAVE)
    if torch is not None:
        result[TORCH] = torch_step(torch, net, init)
    return result


# --- the step table --------------------------------------------------------------------


def run_case(net, dtype, batches, torch, args):
    init = init_params(net, dtype, args.seed)
    cs = contenders(net, init, torch, args.both_column_modes)
    prepared = {name: [prepare(x, t) for x, t in batches] for name, (_, _, prepare) in cs.items()}
    for name, (step, _, _) in cs.items():  # two steps each, the same dropout masks, then the check
        for i, (x, t) in enumerate(prepared[name][:2]):
            np.random.seed(args.seed + i)
            step(x, t)
    ref_params = {k: np.array(v, np.float64) for k, v in cs[REFERENCE][1]().items()}
    diffs = {name: bench.max_param_diff(params(), ref_params) for name, (_, params, _) in cs.items()
             if name != REFERENCE}
    calls = {name: bench.cycle_batches(step, prepared[name]) for name, (step, _, _) in cs.items()}
    times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds, warmup=args.warmup,
                             seed=args.seed, clock=args.clock)
    versus_torch = {r["name"]: r for r in bench.summarize(times, TORCH)} if TORCH in times else {}
    rows, records = [], []
    for row in bench.summarize(times, REFERENCE):
        diff = diffs.get(row["name"])
        torch_row = versus_torch.get(row["name"])
        rows.append([NETS[net][0], np.dtype(dtype).name, row["name"], f"{row['median_s'] * 1e3:.2f}",
                     bench.ratio_text(row), "" if torch_row is None else bench.ratio_text(torch_row),
                     "" if diff is None else f"{diff:.1e}"])
        records.append(dict(row, net=net, dtype=np.dtype(dtype).name, param_diff=diff,
                            vs_torch=None if torch_row is None else torch_row["ratio"],
                            vs_torch_min=None if torch_row is None else torch_row["ratio_min"],
                            vs_torch_max=None if torch_row is None else torch_row["ratio_max"],
                            per_round_s=times[row["name"]]))
    return rows, records


# --- where the time goes ---------------------------------------------------------------


def profiles(net, dtype, batches, args):
    """Markdown: tinygrad_ko's per-op table and the book's per-layer table for one net and dtype."""
    init = init_params(net, dtype, args.seed)
    steps = 2 if args.quick else 10
    out = []
    for name, make, classes in ((OURS, tinygrad_ko_step, None), (REFERENCE, reference_step, BOOK_LAYERS)):
        step, _, _ = make(net, init)
        call = bench.cycle_batches(step, batches)
        rows, total = bench.profile_step(call, steps, classes=classes, clock=args.clock)
        what = "op (each Function's forward and backward)" if classes is None else "layer"
        out.append(f"### {NETS[net][0]} {np.dtype(dtype).name}, {name}: time per {what}, "
                   f"{args.clock} clock, {steps} steps\n\n" + bench.profile_table(rows, total))
    return "\n\n".join(out), {"rows": rows, "total_s": total}


# --- each convolution alone, beside PyTorch's -------------------------------------------------


def conv_layers(net, dtype, batch_size):
    """[(x, W, Geometry)] of every conv2d in one forward pass of ``net``, read from its recorded graph."""
    model = tinygrad_ko_net(net, init_params(net, dtype, 0))
    loss = model.loss(np.zeros((batch_size, 1, 28, 28), dtype), np.zeros(batch_size, np.int64))
    return [(t._ctx.inputs[0].data, t._ctx.inputs[1].data, t._ctx.geometry)
            for t in toposort([loss]) if isinstance(t._ctx, conv_ops.Conv2d)]  # in forward order


OUR_STAGES = ("ours: forward (columns and product)", "ours: weight gradient", "ours: input gradient")


def conv_layer_contenders(x, W, g, torch):
    """{label: zero-argument callable} for one convolution: our three matrix-product stages and PyTorch's.

    Ours as conv2d runs them in W's dtype: pixel by pixel (float32) or channel by channel.
    """
    forward, weight_grad, input_grad = OUR_STAGES
    if conv_ops.pixel_major(W.dtype, g):  # float32: the weight gradient builds its columns again
        xs = conv_ops.as_pixel_major(x)
        rows = conv_ops.pixel_conv(xs, W, g)
        gy = conv_ops.pixel_output(rows, x.shape[0], g)
        calls = {forward: lambda: conv_ops.pixel_conv(xs, W, g),
                 weight_grad: lambda: conv_ops.pixel_grad_weight(rows, x, W.shape, g)}
        if x.shape[1] > 1:  # the first layer's input is the images: no gradient
            calls[input_grad] = lambda: conv_ops.pixel_grad_input(rows, W, g)
    else:
        Wm = W.reshape(W.shape[0], -1)
        kept = []  # the columns kept from forward, as a training step keeps them
        rows = conv_ops.conv_rows(x, Wm, g, kept)
        gy = rows.reshape(W.shape[0], x.shape[0], *g.out).transpose(1, 0, 2, 3)
        calls = {forward: lambda: conv_ops.conv_rows(x, Wm, g),
                 weight_grad: lambda: conv_ops.weight_grad_rows(rows, x, g, kept)}
        if x.shape[1] > 1:
            calls[input_grad] = lambda: conv_ops._grad_input(rows, W, g)
    if torch is not None:
        import torch.nn.functional as TF

        xt, Wt = torch.from_numpy(x), torch.from_numpy(W)
        xg, Wg = xt.clone().requires_grad_(x.shape[1] > 1), Wt.clone().requires_grad_()
        gy = torch.from_numpy(np.ascontiguousarray(gy))

        def torch_both():
            TF.conv2d(xg, Wg, stride=g.stride, padding=g.pad).backward(gy)
            xg.grad = Wg.grad = None

        calls["PyTorch: forward"] = lambda: TF.conv2d(xt, Wt, stride=g.stride, padding=g.pad)
        calls["PyTorch: forward and backward"] = torch_both
    return calls


def conv_layer_table(nets, dtypes, torch, args):
    """Rows: ms per call of each stage of each convolution of the nets, medians over interleaved rounds."""
    rows = []
    rng = np.random.default_rng(args.seed)
    for net in nets:
        batch_size = args.batch_size or NETS[net][1]
        for dtype_name in dtypes:
            dtype = np.dtype(dtype_name)
            for x, W, g in conv_layers(net, dtype, batch_size):
                stored = conv_ops.empty_in_order(x.shape, dtype, conv_ops.memory_order(x))
                stored[...] = rng.standard_normal(x.shape)  # random values, in the memory order the net gives
                x = stored
                W = (0.1 * rng.standard_normal(W.shape)).astype(dtype)
                calls = conv_layer_contenders(x, W, g, torch)
                times = bench.interleave(calls, rounds=args.rounds, block_seconds=args.block_seconds / 4,
                                         warmup=args.warmup, seed=args.seed, clock=args.clock)
                ms = {name: np.median(ts) * 1e3 for name, ts in times.items()}
                ours = sum(ms[k] for k in OUR_STAGES if k in ms)
                theirs = ms.get("PyTorch: forward and backward")
                layer = f"{W.shape[1]}->{W.shape[0]} {W.shape[2]}x{W.shape[3]} on {x.shape[2]}x{x.shape[3]}, pad {g.pad[0]}"
                stages = [f"{ms[k]:.2f}" if k in ms else "" for k in OUR_STAGES]
                torch_cells = ["", "", ""] if theirs is None else [
                    f"{ms['PyTorch: forward']:.2f}", f"{theirs:.2f}", f"{ours / theirs:.2f}"]
                rows.append([NETS[net][0], dtype_name, layer] + stages + [f"{ours:.2f}"] + torch_cells)
    return rows


# --- inference of the MNIST test set with the book's weights ------------------------------


def test_set(book_dir, count):
    """The first ``count`` of the 10,000 test digits as the book's load_mnist(normalize=True, flatten=False)."""
    folder = os.path.abspath(book_dir)
    images = tk.datasets.read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz"), ndim=3)[:count]
    labels = tk.datasets.read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"), ndim=1)[:count]
    return (images.astype(np.float32) / 255.0).reshape(len(images), 1, 28, 28), labels


def inference(net, book_dir, count, torch, args):
    """Rows for the inference table: seconds to score ``count`` test images, accuracy; or a note why not."""
    weights = os.path.join(book_dir, NETS[net][2])
    needed = [weights] + [os.path.join(book_dir, f) for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]
    missing = [f for f in needed if not os.path.isfile(f)]
    if missing:
        return [], f"{NETS[net][0]}: skipped, missing {', '.join(missing)} (--book-dir)"
    params = tk.load_book_params(weights)
    x, t = test_set(book_dir, count)
    book = book_net(net, params)
    ours = tinygrad_ko_net(net, params)
    calls = {REFERENCE: lambda: book.accuracy(x, t, batch_size=100),
             OURS: lambda: ours.accuracy(x, t, batch_size=100)}
    if torch is not None:
        P = {key: torch.tensor(value) for key, value in params.items()}
        tx, tt = torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))

        def torch_accuracy():
            correct = 0
            with torch.no_grad():
                for start in range(0, len(tx), 100):
                    batch = tx[start:start + 100].to(P["W1"].dtype)  # float32 images, float64 weights
                    scores = torch_forward(torch, net, P, batch, train=False)
                    correct += int((scores.argmax(1) == tt[start:start + 100]).sum())
            return correct / len(tx)
        calls[TORCH] = torch_accuracy
    accuracy = {name: call() for name, call in calls.items()}  # also the warm-up
    times = bench.interleave(calls, rounds=args.inference_rounds, block_seconds=0.0, warmup=1, seed=args.seed,
                             clock=args.clock)
    rows = []
    for row in bench.summarize(times, REFERENCE):
        rows.append([NETS[net][0], row["name"], f"{row['median_s']:.2f}", bench.ratio_text(row),
                     f"{accuracy[row['name']]:.4f}"])
    return rows, None


# --- memory -------------------------------------------------------------------------------


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


# --- each contender in a process of its own ------------------------------------------------

CHILD_FLAG = "--isolated-child"


def isolated_child(net, dtype_name, name, steps, batch_size, seed, threads):
    """In a fresh process: time ``steps`` steps of one contender; print {"wall", "user", "sys"} in ms/step."""
    bench.pin_blas(threads)  # for the whole of this short-lived process
    torch = None
    if name == TORCH:
        torch, _ = _common.import_peer("torch", threads)
    dtype = np.dtype(dtype_name).type
    if name == GIVEN_BACK:
        os.environ[allocator.ENVIRONMENT] = "0"  # read when the first step asks for it
    step, _, prepare = {REFERENCE: lambda: reference_step(net, init_params(net, dtype, seed)),
                        OURS: lambda: tinygrad_ko_step(net, init_params(net, dtype, seed)),
                        GIVEN_BACK: lambda: tinygrad_ko_step(net, init_params(net, dtype, seed)),
                        TORCH: lambda: torch_step(torch, net, init_params(net, dtype, seed))}[name]()
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    batches = [prepare(x, t) for x, t in bench.draw_batches(
        x_train.reshape(-1, 1, 28, 28).astype(dtype), t_train, batch_size, 4, seed)]
    np.random.seed(seed)
    for i in range(3):  # warm-up: imports, first allocations
        step(*batches[i % len(batches)])
    start, before = time.perf_counter(), os.times()
    for i in range(steps):
        step(*batches[i % len(batches)])
    after = os.times()
    print(json.dumps({"wall": (time.perf_counter() - start) / steps * 1e3,
                      "user": (after.user - before.user) / steps * 1e3,
                      "sys": (after.system - before.system) / steps * 1e3}))


def isolated_table(nets, dtypes, names, args):
    """Rows of the --isolated table: each contender in a fresh process, round by round in a shuffled order."""
    rows, records = [], []
    rng = random.Random(args.seed)
    for net in nets:
        batch_size = args.batch_size or NETS[net][1]
        for dtype_name in dtypes:
            runs = {name: [] for name in names}
            for _ in range(args.isolated_rounds):
                order = names[:]
                rng.shuffle(order)
                for name in order:
                    done = subprocess.run(
                        [sys.executable, os.path.abspath(__file__), CHILD_FLAG, net, dtype_name, name,
                         str(args.isolated_steps), str(batch_size), str(args.seed), str(args.threads)],
                        capture_output=True, text=True, check=True)
                    runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            median = {name: {key: float(np.median([r[key] for r in runs[name]])) for key in ("wall", "user", "sys")}
                      for name in names}
            for name in names:
                m = median[name]
                versus = [f"{m['wall'] / median[other]['wall']:.2f}" if other in median else ""
                          for other in (REFERENCE, TORCH)]
                rows.append([NETS[net][0], dtype_name, name, f"{m['wall']:.1f}", f"{m['user']:.1f}",
                             f"{m['sys']:.1f}", *versus])
                records.append({"net": net, "dtype": dtype_name, "contender": name, **m, "runs": runs[name]})
    return rows, records


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [CHILD_FLAG]:
        net, dtype_name, name, steps, batch_size, seed, threads = argv[1:]
        isolated_child(net, dtype_name, name, int(steps), int(batch_size), int(seed), int(threads))
        return 0
    p = _common.parser(__doc__.splitlines()[0], "conv_step")
    p.add_argument("--nets", default="simple,deep", help="comma-separated: simple, deep")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated: float64, float32")
    p.add_argument("--batch-size", type=int, default=None,
                   help="images per step (default: 100 for simple, 32 for deep)")
    p.add_argument("--batches", type=int, default=8, help="distinct batches drawn beforehand, used in turn")
    p.add_argument("--block-seconds", type=float, default=None, help="time of one contender's block in a round")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps per contender, not timed")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when installed")
    p.add_argument("--both-column-modes", action="store_true",
                   help="also time tinygrad_ko with the other Conv2d.save_columns setting (columns kept from "
                        "forward, or rebuilt in backward)")
    p.add_argument("--profile", action="store_true", help="per-op tables for tinygrad_ko and the book's layers")
    p.add_argument("--no-inference", action="store_true", help="skip scoring the MNIST test set")
    p.add_argument("--book-dir", default=BOOK_DIR, help="folder with the book's weight files and the t10k files")
    p.add_argument("--test-images", type=int, default=None, help="test images to score (default 10,000; quick 500)")
    p.add_argument("--inference-rounds", type=int, default=None, help="rounds of the inference table")
    p.add_argument("--conv-layers", action="store_true",
                   help="also time each convolution alone: our forward, weight and input gradients beside PyTorch's")
    p.add_argument("--isolated", action="store_true",
                   help="also time each contender in a fresh process of its own (wall, user and system time)")
    p.add_argument("--isolated-rounds", type=int, default=None, help="processes per contender with --isolated")
    p.add_argument("--isolated-steps", type=int, default=None, help="timed steps per process with --isolated")
    args = p.parse_args(argv)
    if args.isolated_rounds is None:
        args.isolated_rounds = 1 if args.quick else 5
    if args.isolated_steps is None:
        args.isolated_steps = 2 if args.quick else 12
    if args.rounds is None:
        args.rounds = 3 if args.quick else 20
    if args.block_seconds is None:
        args.block_seconds = 0.05 if args.quick else 0.4
    if args.warmup is None:
        args.warmup = 1 if args.quick else 5
    if args.test_images is None:
        args.test_images = 500 if args.quick else 10000
    if args.inference_rounds is None:
        args.inference_rounds = 1 if args.quick else 3
    nets = [n for n in args.nets.split(",") if n]
    for net in nets:
        if net not in NETS:
            p.error(f"--nets: unknown net {net!r}; choose from {', '.join(NETS)}")
    info, modules, limiter = _common.setup(args, () if args.no_torch else ("torch",))
    torch = modules.get("torch")
    _common.header("The book's convolution nets: tinygrad_ko vs the book's im2col layers and PyTorch", info)
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    images = x_train.reshape(-1, 1, 28, 28)
    step_rows, memory_rows, records, profile_text, profile_records = [], [], [], [], {}
    for net in nets:
        batch_size = args.batch_size or NETS[net][1]
        for dtype_name in args.dtypes.split(","):
            dtype = np.dtype(dtype_name).type
            batches = bench.draw_batches(images.astype(dtype), t_train, batch_size,
                                         2 if args.quick else args.batches, args.seed)
            rows, recs = run_case(net, dtype, batches, torch, args)
            step_rows += rows
            records += recs
            init = init_params(net, dtype, args.seed)
            for name, (step, _, prepare) in contenders(net, init, None, args.both_column_modes).items():
                np.random.seed(args.seed)
                memory_rows.append([NETS[net][0], dtype_name, name, f"{step_peak_mb(step, *prepare(*batches[0])):.1f}"])
            if args.profile and dtype_name == args.dtypes.split(",")[0]:
                text, prof = profiles(net, dtype, batches, args)
                profile_text.append(text)
                profile_records[f"{net} {dtype_name}"] = prof
    print(f"## ms per step, median of {args.rounds} rounds ({args.clock} clock)\n")
    print(bench.markdown_table(["net", "dtype", "contender", "ms/step", "vs reference (min..max)",
                                "vs PyTorch (min..max)", "param diff after 2 steps"], step_rows))
    print("\nvs reference / vs PyTorch: median over rounds of the ratio of times measured in the same round. "
          "param diff: max |w - w_ref| / max |w_ref| after two steps from the same weights, the worst "
          "param. In float32 PyTorch sums in another order than the book's layers (tinygrad_ko keeps "
          "theirs): its biases, which start at zero and stay near 1e-3, then differ by up to a few "
          "percent, while against a float64 run every float32 contender is about equally far off.")
    if profile_text:
        print("\n## Where the time goes\n")
        print("\n\n".join(profile_text))
    layer_rows = []
    if args.conv_layers:
        layer_rows = conv_layer_table(nets, args.dtypes.split(","), torch, args)
        print(f"\n## Each convolution alone: ms per call, median of {args.rounds} interleaved rounds "
              f"({args.clock} clock)\n")
        print(bench.markdown_table(["net", "dtype", "convolution (C->FN kernel on HxW)", "ours: forward",
                                    "ours: weight gradient", "ours: input gradient", "ours: all three",
                                    "PyTorch: forward", "PyTorch: forward and backward", "ours / PyTorch"],
                                   layer_rows))
        print("\nOurs: the columns and matrix products of conv2d's forward, and the two gradients as a plain "
              "backward computes them (the weight gradient from the columns kept in forward channel by "
              "channel, as float64 runs, or built again pixel by pixel, as float32 runs). PyTorch: "
              "torch.nn.functional.conv2d and its backward for the input (but not for the images) and W.")
    isolated_rows, isolated_records = [], []
    if args.isolated:
        names = [REFERENCE, OURS, GIVEN_BACK] + ([TORCH] if torch is not None else [])
        isolated_rows, isolated_records = isolated_table(nets, args.dtypes.split(","), names, args)
        print(f"\n## Each contender in a process of its own: ms per step, median of {args.isolated_rounds} "
              f"processes of {args.isolated_steps} steps (wall clock; user and system CPU time apart)\n")
        print(bench.markdown_table(["net", "dtype", "contender", "wall ms/step", "user ms", "system ms",
                                    "vs reference", "vs PyTorch"], isolated_rows))
        print("\nvs reference / vs PyTorch: ratio of the median wall times (different processes, so not "
              "per round). System time is mostly the OS handing out fresh memory pages.")
    inference_rows, notes = [], []
    if not args.no_inference:
        for net in nets:
            rows, note = inference(net, args.book_dir, args.test_images, torch, args)
            inference_rows += rows
            if note:
                notes.append(note)
        print(f"\n## Inference: the first {args.test_images:,} MNIST test images with the book's trained weights, "
              f"batches of 100, float64 ({args.clock} clock, median of {args.inference_rounds} rounds)\n")
        if inference_rows:
            print(bench.markdown_table(["net", "contender", "seconds", "vs reference (min..max)", "accuracy"],
                                       inference_rows))
        for note in notes:
            print(f"\n{note}")
    print("\n## Memory: tracemalloc peak during one step, above the memory held before it (MB)\n")
    print(bench.markdown_table(["net", "dtype", "contender", "peak MB"], memory_rows))
    _common.finish(args, {"info": info, "args": vars(args), "results": records, "profiles": profile_records,
                          "inference": inference_rows, "memory": memory_rows,
                          "isolated": isolated_records, "conv_layers": layer_rows}, limiter)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
