"""The tinygrad-ko command line (also ``python -m tinygrad_ko``).

    tinygrad-ko train              # TwoLayerNet on MNIST if it is on disk, else the bundled sample
    tinygrad-ko train --dataset fashion-mnist --activation relu --weight-init-std he
    tinygrad-ko gradcheck          # the book's gradient_check.py: backprop vs numerical gradient
    tinygrad-ko bench              # a quick benchmark table

Exit codes: 0 success, 1 failure (a gradient check that fails, an error), 2 bad
arguments, 130 interrupted by Ctrl-C.
"""

import argparse
import os
import sys
import time

import numpy as np

OPTIMIZERS = {"sgd": "SGD", "momentum": "Momentum", "adagrad": "AdaGrad", "rmsprop": "RMSprop", "adam": "Adam"}


def _whole_number(minimum):
    """An argparse type: a whole number >= minimum."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}")
        return value
    return parse


_positive_int, _count = _whole_number(1), _whole_number(0)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _weight_init_std(text):
    """A number, or the name of the book's scaled inits."""
    if text.lower() in ("he", "relu", "xavier", "sigmoid"):
        return text.lower()
    try:
        return _positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or he/xavier, got {text!r}") from None


def _hidden_sizes(text):
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 100 or 100,100, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return sizes


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each default once, and none where the help text explains it (None, flags)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _add_dataset_argument(parser):
    parser.add_argument(
        "--dataset", choices=["auto", "mnist", "fashion-mnist", "sample"], default="auto",
        help="data to use; auto: full MNIST if its files are on disk, else the bundled 5,000-digit "
             "sample")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="tinygrad-ko", description="tinygrad_ko: Deep Learning from Scratch with autograd.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,gradcheck,bench}")

    train = commands.add_parser(
        "train", help="train a net on MNIST-style data",
        description="Train the book's TwoLayerNet (or MultiLayerNet) by mini-batch steps, showing a progress "
                    "bar and the accuracy per epoch; write the curves (PNG), the metrics (JSON) and the "
                    "weights (.npz) to --out.",
        formatter_class=_HelpFormatter)
    _add_dataset_argument(train)
    train.add_argument("--model", choices=["two-layer", "multi-layer"], default="two-layer",
                       help="TwoLayerNet (chapter 4) or MultiLayerNet (chapter 6)")
    train.add_argument("--hidden", type=_hidden_sizes, default="100",
                       help="hidden layer sizes, comma-separated for multi-layer (e.g. 100,100)")
    train.add_argument("--activation", choices=["sigmoid", "relu"], default=None,
                       help="hidden activation; default sigmoid for two-layer (chapter 4), relu for multi-layer")
    train.add_argument("--weight-init-std", type=_weight_init_std, default=None,
                       help="initial weight scale: a number, he or xavier; default 0.01 for two-layer "
                            "(the book's), he for multi-layer")
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="sgd", help="update rule")
    train.add_argument("--lr", type=_positive_float, default=0.1, help="learning rate (the book's 0.1 for SGD)")
    train.add_argument("--batch-size", type=_positive_int, default=100, help="rows per step")
    train.add_argument("--iters", type=_count, default=10000, help="training steps (the book's iters_num)")
    train.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    train.add_argument("--eval-every", type=_positive_int, default=1, help="measure accuracy every this many epochs")
    train.add_argument("--out", default=None,
                       help="folder for curves.png, metrics.json and weights.npz "
                            "(default: runs/<dataset>-<model>-<time>)")
    train.add_argument("--numerical", action="store_true",
                       help="use the numerical gradient instead of backprop, to see why backprop matters "
                            "(prints the projected time per step; Ctrl-C to stop)")
    train.add_argument("--no-plot", action="store_true", help="skip the PNG")
    train.set_defaults(func=run_train)

    check = commands.add_parser(
        "gradcheck", help="backprop vs numerical gradient (the book's gradient_check.py)",
        description="Compare the backprop gradient of a TwoLayerNet with its numerical gradient on a few "
                    "training rows and print the mean absolute difference per parameter.",
        formatter_class=_HelpFormatter)
    _add_dataset_argument(check)
    check.add_argument("--hidden", type=_positive_int, default=50, help="hidden size (the book's 50)")
    check.add_argument("--samples", type=_positive_int, default=3, help="training rows (the book's 3)")
    check.add_argument("--activation", choices=["sigmoid", "relu"], default="sigmoid",
                       help="hidden activation (sigmoid is smooth, so no kink can disturb the check)")
    check.add_argument("--loss", choices=["softmax_cross_entropy", "cross_entropy_error"],
                       default="softmax_cross_entropy",
                       help="the fused loss, or the book's cross_entropy_error with its +1e-7")
    check.add_argument("--tolerance", type=_positive_float, default=None,
                       help="largest mean |backprop - numerical| that passes; default 1e-8, or 1e-6 with "
                            "cross_entropy_error (whose +1e-7 sets a floor near 1e-7)")
    check.add_argument("--seed", type=int, default=0, help="seed for the weights")
    check.set_defaults(func=run_gradcheck)

    bench = commands.add_parser(
        "bench", help="the quick benchmark table (tinygrad_ko vs hand-written NumPy)",
        description="Time a TwoLayerNet training step and per-op overhead against hand-written NumPy, "
                    "in one process, and print the table.",
        formatter_class=_HelpFormatter)
    bench.add_argument("--seconds", type=_positive_float, default=20.0, help="time budget for the measurements")
    bench.add_argument("--threads", type=_positive_int, default=1, help="BLAS threads (needs threadpoolctl)")
    bench.set_defaults(func=run_bench)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "train" and args.model == "two-layer" and len(args.hidden) != 1:
        parser.error("--model two-layer takes one hidden size; use --model multi-layer for several")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("\ninterrupted: stopped, and no file was left half-written", file=sys.stderr)
        return 130


# --- data ---


def _load_data(name, one_hot_label=False):
    """((x_train, t_train), (x_test, t_test)) and the name of the data actually used."""
    from . import datasets

    if name == "auto":
        name = "mnist" if datasets.is_available("mnist") else "sample"
        if name == "sample":
            print("full MNIST not found on disk: using the bundled 5,000-digit sample "
                  "(tk.datasets.download('mnist') fetches the full set)")
    if name == "sample":
        return datasets.load_mnist(sample=True, one_hot_label=one_hot_label), name
    if name == "mnist":
        return datasets.load_mnist(one_hot_label=one_hot_label), name
    return datasets.load_fashion_mnist(one_hot_label=one_hot_label), name


# --- train ---


def _build_net(args, input_size, output_size):
    from .models import MultiLayerNet, TwoLayerNet

    if args.model == "two-layer":
        return TwoLayerNet(input_size, args.hidden[0], output_size,
                           weight_init_std=0.01 if args.weight_init_std is None else args.weight_init_std,
                           activation=args.activation or "sigmoid")
    return MultiLayerNet(input_size, args.hidden, output_size, activation=args.activation or "relu",
                         weight_init_std="he" if args.weight_init_std is None else args.weight_init_std)


def _projected_numerical_step(net, x_batch, t_batch):
    """Seconds for one numerical gradient: 2 forward passes per parameter, each timed here."""
    from .autograd import no_grad

    with no_grad():
        net.loss(x_batch, t_batch)
        start = time.perf_counter()
        for _ in range(20):
            net.loss(x_batch, t_batch)
        per_forward = (time.perf_counter() - start) / 20
    count = sum(p.size for p in net.parameters())
    return count, per_forward, 2 * count * per_forward


def run_train(args):
    from . import io, optim
    from .training import plot_history, save_json, train

    np.random.seed(args.seed)
    ((x_train, t_train), (x_test, t_test)), used = _load_data(args.dataset)
    net = _build_net(args, x_train.shape[1], int(t_train.max()) + 1)
    optimizer = getattr(optim, OPTIMIZERS[args.optimizer])(lr=args.lr)
    out = args.out or os.path.join("runs", f"{used}-{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    os.makedirs(out, exist_ok=True)
    sizes = "-".join(str(n) for n in [x_train.shape[1], *args.hidden, int(t_train.max()) + 1])
    print(f"{type(net).__name__} {sizes} on {used} ({x_train.shape[0]} train, {x_test.shape[0]} test rows), "
          f"{args.optimizer} lr {args.lr}, batch {args.batch_size}, {args.iters} steps")
    if args.numerical:
        batch = np.arange(args.batch_size) % x_train.shape[0]
        count, per_forward, per_step = _projected_numerical_step(net, x_train[batch], t_train[batch])
        print(f"numerical gradient: {count:,} parameters x 2 forward passes of {per_forward * 1e3:.3g} ms "
              f"= about {per_step:,.1f} s per step; {args.iters:,} steps would take about "
              f"{per_step * args.iters / 3600:,.1f} hours. Backprop needs one backward pass. Ctrl-C stops "
              f"(the weights are restored exactly).")
    history = train(net, (x_train, t_train), (x_test, t_test), optimizer, iters=args.iters,
                    batch_size=args.batch_size, gradient="numerical" if args.numerical else "backprop",
                    eval_every=args.eval_every)
    metrics = {
        "dataset": used, "iterations": args.iters, "seconds": round(history["seconds"], 3),
        "train_accuracy": history["final_train_accuracy"], "test_accuracy": history["final_test_accuracy"],
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "history": {k: history[k] for k in ("epoch", "train_accuracy", "test_accuracy", "loss")},
    }
    io.save(net.state_dict(), os.path.join(out, "weights.npz"))
    save_json(metrics, os.path.join(out, "metrics.json"))
    written = ["weights.npz", "metrics.json"]
    if not args.no_plot:
        try:
            plot_history(history, os.path.join(out, "curves.png"),
                         title=f"{type(net).__name__} on {used}, {args.optimizer} lr {args.lr}")
            written.append("curves.png")
        except ImportError as error:
            print(f"no plot: {error}")
    print(f"final train acc {metrics['train_accuracy']:.4f}, test acc {metrics['test_accuracy']:.4f} "
          f"after {args.iters} steps in {history['seconds']:.1f} s; wrote {', '.join(written)} to {out}")
    return 0


# --- gradcheck ---


def run_gradcheck(args):
    from .models import TwoLayerNet

    np.random.seed(args.seed)
    ((x_train, t_train), _), used = _load_data(args.dataset)
    x_batch, t_batch = x_train[:args.samples].astype(np.float64), t_train[:args.samples]
    net = TwoLayerNet(x_train.shape[1], args.hidden, 10, activation=args.activation)
    # Backprop as the book's SoftmaxWithLoss: (softmax - t) / N, exact for the fused loss.
    grad_backprop = net.gradient(x_batch, t_batch)
    net.loss_function = args.loss  # the numerical gradient differentiates this loss
    grad_numerical = net.numerical_gradient(x_batch, t_batch)
    tolerance = args.tolerance
    if tolerance is None:
        tolerance = 1e-6 if args.loss == "cross_entropy_error" else 1e-8
    print(f"TwoLayerNet {x_train.shape[1]}-{args.hidden}-10 ({args.activation}) on {args.samples} rows of "
          f"{used}; loss {args.loss}")
    diffs = []
    for key in grad_numerical:
        diffs.append(float(np.average(np.abs(grad_backprop[key] - grad_numerical[key]))))
        print(f"{key}:{diffs[-1]:.6g}")
    worst = max(diffs, key=lambda d: np.inf if np.isnan(d) else d)  # a NaN must fail, not vanish
    if args.loss == "cross_entropy_error":
        print("note: cross_entropy_error takes log(y + 1e-7), but backprop's (softmax - t)/N has no 1e-7, so "
              "the two differ by about 1e-7/y: a floor near 1e-7, not a bug (the fused loss has none).")
    if args.activation == "relu":
        print("note: relu has a corner at 0; where a pre-activation lies within h = 1e-4 of it, the numerical "
              "gradient straddles the corner and is off there (backprop is not): expect larger differences.")
    passed = bool(worst < tolerance)  # False for NaN
    print(f"{'PASS' if passed else 'FAIL'}: largest mean |backprop - numerical| is {worst:.3g}, "
          f"{'below' if passed else 'not below'} the tolerance {tolerance:g}")
    return 0 if passed else 1


# --- bench ---


def run_bench(args):
    from . import bench

    return bench.main(seconds=args.seconds, threads=args.threads)


if __name__ == "__main__":
    raise SystemExit(main())
