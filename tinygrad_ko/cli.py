"""The tinygrad-ko command line (also ``python -m tinygrad_ko``).

    tinygrad-ko train              # TwoLayerNet on MNIST if it is on disk, else the bundled sample
    tinygrad-ko train --dataset fashion-mnist --activation relu --weight-init-std he
    tinygrad-ko train --model simple-convnet --dataset fashion-mnist --epochs 3   # chapter 7, Adam lr 0.001
    tinygrad-ko train --model multi-layer-extend --hidden 100,100 --batchnorm --dropout 0.2
    tinygrad-ko gradcheck          # the book's gradient_check.py: backprop vs numerical gradient
    tinygrad-ko bench              # a quick benchmark table

Exit codes: 0 success, 1 failure (a gradient check that fails, a loss that
became NaN, data that cannot be had), 2 bad arguments (one line, before any
work), 130 interrupted by Ctrl-C (train first saves its last complete epoch).
"""

import argparse
import os
import sys
import time

import numpy as np

from . import optim
from .trainer import OPTIMIZERS as _BOOK_OPTIMIZERS

# The optimizers tk.optim has, by the book's lower-case names (the command line takes any case).
OPTIMIZERS = {name: cls for name, cls in _BOOK_OPTIMIZERS.items() if hasattr(optim, cls)}
MAX_ITERS = 10_000_000   # 1,000 times the book's 10,000: days of training, and its loss history alone is ~1 GB
MAX_SEED = 2**32 - 1     # np.random.seed's range
IMAGE_SHAPE, CLASSES = (1, 28, 28), 10   # every data set here is MNIST-style
TRAIN_ROWS = {"sample": 4_000, "mnist": 60_000, "fashion-mnist": 60_000}
TEST_ROWS = {"sample": 1_000, "mnist": 10_000, "fashion-mnist": 10_000}


class _Parser(argparse.ArgumentParser):
    """argparse, with each bad argument reported on one line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (usage: {self.prog} --help)\n")


class _Refused(Exception):
    """A check before training failed; the message is one line."""


def _whole_number(minimum, maximum=None, why=""):
    """An argparse type: a whole number from minimum to maximum."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum or (maximum is not None and value > maximum):
            limit = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum:,}"
            raise argparse.ArgumentTypeError(f"expected a whole number {limit}{why}, got {text!r}")
        return value
    return parse


_positive_int = _whole_number(1)
_iters = _whole_number(1, MAX_ITERS, " (1,000 times the book's 10,000 steps; more would take days)")
_seed = _whole_number(0, MAX_SEED, " (np.random.seed's range)")


def _real_number(accept, expected):
    """An argparse type: a float for which ``accept(value)`` holds (NaN never does), else "expected ..."."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value == value and accept(value)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


_positive_float = _real_number(lambda v: np.isfinite(v) and v > 0, "a finite number > 0")
_dropout_ratio = _real_number(lambda v: 0 <= v < 1, "a ratio from 0 to below 1 (the share of units dropped)")
_weight_decay = _real_number(lambda v: np.isfinite(v) and v >= 0, "a finite number >= 0")


def _weight_init_std(text):
    """A number, or the name of the book's scaled inits."""
    if text.lower() in ("he", "relu", "xavier", "sigmoid"):
        return text.lower()
    try:
        return _positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or he/xavier, got {text!r}") from None


def _size(part):
    """A layer size: a whole number, also written like 1e3."""
    try:
        return int(part)
    except ValueError:
        value = float(part)  # ValueError for words
        if not (np.isfinite(value) and value == int(value)):
            raise ValueError(part) from None
        return int(value)


def _hidden_sizes(text):
    try:
        sizes = [_size(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 100 or 100,100, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return sizes


def _threads(text):
    if text.lower() == "auto":
        return "auto"
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected auto or a whole number >= 1, got {text!r}") from None


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


# --- the models `train` offers ---

# The options only some models take: argument name -> option.
MODEL_OPTIONS = {"activation": "--activation", "weight_init_std": "--weight-init-std", "weight_decay": "--weight-decay",
                 "batchnorm": "--batchnorm", "dropout": "--dropout"}


class Model:
    """One entry of the --model table: how to build the net, its defaults, its weight shapes, its input.

    ``defaults`` fills every argument left at None (hidden, optimizer, lr and
    the options it takes); ``options`` are the MODEL_OPTIONS it takes (any
    other is refused); ``one_hidden`` is True when the net has a single hidden
    size. ``weight_shapes`` and ``row_floats`` (the floats a training step
    keeps per input row) feed the memory check without building the net.
    """

    def __init__(self, description, build, weight_shapes, row_floats, defaults, options=(), one_hidden=False,
                 images=False):
        self.description = description
        self.build = build                  # (args, output_size) -> net
        self.weight_shapes = weight_shapes  # (args, output_size) -> [shape, ...]
        self.row_floats = row_floats        # (args, output_size) -> floats kept per row in a step
        self.defaults = defaults
        self.options = tuple(options)
        self.one_hidden = one_hidden
        self.images = images                # True: x as (N, 1, 28, 28) (load_mnist(flatten=False))

    @property
    def net_name(self):
        return self.description.split()[0]


def _fully_connected_sizes(args, output_size):
    return [int(np.prod(IMAGE_SHAPE)), *args.hidden, output_size]


def _fully_connected_shapes(args, output_size):
    sizes = _fully_connected_sizes(args, output_size)
    shapes = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes += [(fan_in, fan_out), (fan_out,)]
        if getattr(args, "batchnorm", False) and i < len(sizes) - 2:
            shapes += [(fan_out,)] * 2  # gamma and beta (the running mean and variance are buffers)
    return shapes


def _fully_connected_row_floats(args, output_size):
    """The input row, and per layer its output, activation and gradient."""
    return int(np.prod(IMAGE_SHAPE)) + 3 * sum(_fully_connected_sizes(args, output_size)[1:])


def _conv_stack(model_name):
    """The convolutions of a book conv net on IMAGE_SHAPE: [(filter shape, output shape (C, H, W)), ...]
    and the size of the flattened last pool, computed as the nets compute them (without building one)."""
    from .models.convnet import _DEEP_CONVS, _SIMPLE_CONV, _conv_output_size

    convs, pool_after = ([_SIMPLE_CONV], {0}) if model_name == "simple-convnet" else (_DEEP_CONVS, {1, 3, 5})
    channels, height, width = IMAGE_SHAPE
    stack = []
    for i, conv in enumerate(convs):
        size = conv["filter_size"]
        height = _conv_output_size(height, conv, model_name)
        width = _conv_output_size(width, conv, model_name)
        stack.append(((conv["filter_num"], channels, size, size), (conv["filter_num"], height, width)))
        channels = conv["filter_num"]
        if i in pool_after:  # a 2x2 max pool with stride 2
            height, width = height // 2, width // 2
    return stack, channels * height * width


def _conv_shapes(args, output_size):
    stack, flat = _conv_stack(args.model)
    hidden = args.hidden[0]
    shapes = []
    for filters, _ in stack:
        shapes += [filters, (filters[0],)]
    return shapes + [(flat, hidden), (hidden,), (hidden, output_size), (output_size,)]


def _conv_row_floats(args, output_size):
    """Per convolution its im2col columns and their gradient (2 copies), its output, activation, pool
    and gradient (4 copies); then the affine layers. Peaks measured with tracemalloc over one step
    (Adam): SimpleConvNet 0.63 MB per row (this says 0.78), DeepConvNet 3.2 MB (this says 6)."""
    stack, flat = _conv_stack(args.model)
    floats = int(np.prod(IMAGE_SHAPE)) + flat + 3 * (args.hidden[0] + output_size)
    for (_, channels, size, _), (filters, height, width) in stack:
        floats += 2 * channels * size * size * height * width + 4 * filters * height * width
    return floats


def _layers_in_words(shapes):
    """784-100-10 for fully connected weights; 1x28x28-conv30x5x5-100-10 for a conv net."""
    words = []
    for shape in shapes:
        if len(shape) == 4:
            words += ["x".join(map(str, IMAGE_SHAPE))] if not words else []
            words.append(f"conv{shape[0]}x{shape[2]}x{shape[3]}")
        elif len(shape) == 2:
            words += [str(shape[0])] if not words else []
            words.append(str(shape[1]))
    return "-".join(words)


def _two_layer_net(args, output_size):
    from .models import TwoLayerNet

    return TwoLayerNet(int(np.prod(IMAGE_SHAPE)), args.hidden[0], output_size, weight_init_std=args.weight_init_std,
                       activation=args.activation)


def _multi_layer_net(args, output_size):
    from .models import MultiLayerNet

    return MultiLayerNet(int(np.prod(IMAGE_SHAPE)), args.hidden, output_size, activation=args.activation,
                         weight_init_std=args.weight_init_std, weight_decay_lambda=args.weight_decay)


def _multi_layer_net_extend(args, output_size):
    from .models import MultiLayerNetExtend

    # --dropout 0 (the default) is no dropout layer at all, as the book's use_dropout=False.
    return MultiLayerNetExtend(int(np.prod(IMAGE_SHAPE)), args.hidden, output_size, activation=args.activation,
                               weight_init_std=args.weight_init_std, weight_decay_lambda=args.weight_decay,
                               use_dropout=args.dropout > 0, dropout_ration=args.dropout,
                               use_batchnorm=args.batchnorm)


def _simple_conv_net(args, output_size):
    from .models import SimpleConvNet

    return SimpleConvNet(IMAGE_SHAPE, hidden_size=args.hidden[0], output_size=output_size,
                         weight_init_std=args.weight_init_std)


def _deep_conv_net(args, output_size):
    from .models import DeepConvNet

    return DeepConvNet(IMAGE_SHAPE, hidden_size=args.hidden[0], output_size=output_size)


# The book's SGD lr 0.1 for the fully connected nets (train_neuralnet.py); its train_convnet.py and
# train_deepnet.py use Adam with lr 0.001.
_SGD = {"optimizer": "sgd", "lr": 0.1}
_ADAM = {"optimizer": "adam", "lr": 0.001}
_MLP_OPTIONS = ("activation", "weight_init_std", "weight_decay")
_MLP_DEFAULTS = {"hidden": [100], "activation": "relu", "weight_init_std": "he", "weight_decay": 0.0, **_SGD}

# To add a net: an entry here (a convolution net takes images=True and its own weight shapes).
MODELS = {
    "two-layer": Model("TwoLayerNet (chapter 4)", _two_layer_net, _fully_connected_shapes,
                       _fully_connected_row_floats, one_hidden=True, options=("activation", "weight_init_std"),
                       defaults={"hidden": [100], "activation": "sigmoid", "weight_init_std": 0.01, **_SGD}),
    "multi-layer": Model("MultiLayerNet (chapter 6)", _multi_layer_net, _fully_connected_shapes,
                         _fully_connected_row_floats, options=_MLP_OPTIONS, defaults=_MLP_DEFAULTS),
    "multi-layer-extend": Model("MultiLayerNetExtend (chapter 6, with --batchnorm and --dropout)",
                                _multi_layer_net_extend, _fully_connected_shapes, _fully_connected_row_floats,
                                options=(*_MLP_OPTIONS, "batchnorm", "dropout"),
                                defaults={**_MLP_DEFAULTS, "batchnorm": False, "dropout": 0.0}),
    "simple-convnet": Model("SimpleConvNet (chapter 7)", _simple_conv_net, _conv_shapes, _conv_row_floats,
                            one_hidden=True, options=("weight_init_std",), images=True,
                            defaults={"hidden": [100], "weight_init_std": 0.01, **_ADAM}),
    "deep-convnet": Model("DeepConvNet (chapter 8)", _deep_conv_net, _conv_shapes, _conv_row_floats,
                          one_hidden=True, images=True, defaults={"hidden": [50], **_ADAM}),
}


def build_parser():
    parser = _Parser(
        prog="tinygrad-ko", description="tinygrad_ko: Deep Learning from Scratch with autograd.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,gradcheck,bench}")

    train = commands.add_parser(
        "train", help="train a net on MNIST-style data",
        description="Train one of the book's nets (--model) by mini-batch steps, showing a progress bar and "
                    "the accuracy per epoch; write the curves (PNG), the metrics (JSON) and the weights (.npz) "
                    "to --out. Ctrl-C saves the last complete epoch. An option the chosen net does not have "
                    "(such as --batchnorm for two-layer) is refused.",
        formatter_class=_HelpFormatter)
    _add_dataset_argument(train)
    train.add_argument("--model", choices=list(MODELS), default="two-layer",
                       help="; ".join(f"{name}: {model.description}" for name, model in MODELS.items()))
    train.add_argument("--hidden", type=_hidden_sizes, default=None,
                       help="hidden layer sizes, comma-separated for multi-layer(-extend) (e.g. 100,100); "
                            "default 100 (50 for deep-convnet, the book's)")
    train.add_argument("--activation", choices=["sigmoid", "relu"], default=None,
                       help="hidden activation of the fully connected nets; default sigmoid for two-layer "
                            "(chapter 4), relu for multi-layer(-extend)")
    train.add_argument("--weight-init-std", type=_weight_init_std, default=None,
                       help="initial weight scale: a number, he or xavier (simple-convnet: a number); default "
                            "0.01 for two-layer and simple-convnet (the book's), he for multi-layer(-extend); "
                            "deep-convnet has the book's fixed He scales")
    train.add_argument("--weight-decay", type=_weight_decay, default=None,
                       help="the book's L2 weight decay lambda (loss + lambda/2 * sum of W**2), multi-layer(-extend) "
                            "only; default 0")
    train.add_argument("--batchnorm", action="store_true",
                       help="the book's batch normalization after each hidden affine layer (multi-layer-extend)")
    train.add_argument("--dropout", type=_dropout_ratio, default=None, metavar="RATIO",
                       help="the book's dropout after each hidden layer, dropping this share of units, from 0 to "
                            "below 1 (multi-layer-extend); default 0: none")
    train.add_argument("--optimizer", type=str.lower, choices=list(OPTIMIZERS), default=None,
                       help="update rule (any case); default sgd, adam for the conv nets (the book's "
                            "train_convnet.py)")
    train.add_argument("--lr", type=_positive_float, default=None,
                       help="learning rate; default 0.1 (the book's for SGD), 0.001 for the conv nets (Adam)")
    train.add_argument("--batch-size", type=_positive_int, default=100, help="rows per step")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--iters", type=_iters, default=None,
                        help="training steps (the book's iters_num; at most 10,000,000); default 10000")
    length.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                        help="train N epochs instead of --iters: N * ceil(training rows / batch size) steps")
    train.add_argument("--seed", type=_seed, default=0, help="seed for the weights and the batches")
    train.add_argument("--eval-every", type=_positive_int, default=1, help="measure accuracy every this many epochs")
    train.add_argument("--out", default=None,
                       help="folder for curves.png, metrics.json and weights.npz (default: "
                            "runs/<dataset>-<model>-<time>; a folder that holds files gets a new suffixed "
                            "name instead)")
    train.add_argument("--threads", type=_threads, default="auto",
                       help="BLAS threads; auto: 1 for the book's small matrix products, every core for "
                            "very large ones (see tinygrad_ko/threads.py)")
    train.add_argument("--verbose", action="store_true",
                       help="print the accuracy line of every evaluation (otherwise at most 20 are printed; "
                            "the progress bar shows the latest)")
    train.add_argument("--numerical", action="store_true",
                       help="use the numerical gradient instead of backprop, to see why backprop matters "
                            "(times the first step and projects the whole run; Ctrl-C to stop)")
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
    check.add_argument("--seed", type=_seed, default=0, help="seed for the weights")
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
    from .datasets import DownloadError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DownloadError as error:  # offline without the data: the message, not a traceback
        print(f"tinygrad-ko {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopped, and no file was left half-written", file=sys.stderr)
        return 130


# --- data ---


def _dataset_to_use(name):
    """The data set `name` means: auto is mnist when its files are on disk, else the sample."""
    from . import datasets

    if name == "auto":
        return "mnist" if datasets.is_available("mnist") else "sample"
    return name


def _load_data(name, one_hot_label=False, flatten=True):
    """((x_train, t_train), (x_test, t_test)) and the name of the data actually used."""
    from . import datasets

    used = _dataset_to_use(name)
    if name == "auto" and used == "sample":
        print("full MNIST not found on disk: using the bundled 5,000-digit sample "
              "(tk.datasets.download('mnist') fetches the full set)")
    if used == "sample":
        return datasets.load_mnist(flatten=flatten, one_hot_label=one_hot_label, sample=True), used
    if used == "mnist":
        return datasets.load_mnist(flatten=flatten, one_hot_label=one_hot_label), used
    return datasets.load_fashion_mnist(flatten=flatten, one_hot_label=one_hot_label), used


# --- checks before training ---


def _format_bytes(count):
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= size:
            return f"{count / size:,.3g} {unit}"
    return f"{count / 1e3:,.3g} kB"


def available_memory():
    """Bytes this process could still allocate (MemAvailable and any cgroup limit), or None if unknown."""
    known = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    known.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            known.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                limit = f.read().strip()
            with open(usage_file) as f:
                usage = int(f.read().strip())
            if limit != "max" and int(limit) < 2**60:
                known.append(max(int(limit) - usage, 0))
        except (OSError, ValueError):
            continue
    return min(known) if known else None


def memory_needed(args, model, dataset):
    """About the bytes a run takes: weights with their gradients, copies and optimizer state,
    the activations of a batch (the conv nets' im2col columns included), the data and the loss history.

    ``args`` as ``resolve_train_args`` completes them. Returns (weight count, bytes).
    """
    shapes = model.weight_shapes(args, CLASSES)
    weights = sum(int(np.prod(shape, dtype=np.float64)) for shape in shapes)
    states = {"momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}.get(args.optimizer, 0)
    per_weight = 8 * (5 + states)  # weight, gradient, checkpoint copy, 2 temporaries, optimizer state
    activations = 8 * _activation_rows(args) * model.row_floats(args, CLASSES)
    rows = TRAIN_ROWS.get(dataset, 60_000) + TEST_ROWS.get(dataset, 10_000)
    data = rows * int(np.prod(IMAGE_SHAPE)) * 5  # uint8 read, float32 kept
    history = 80 * args.iters  # a Python float per step, and its text in metrics.json
    return weights, per_weight * weights + activations + data + history


def _activation_rows(args):
    """The rows whose activations are alive at once: a training batch, or the 100 images that
    ``accuracy`` predicts at a time (the book's batch_size=100)."""
    return max(args.batch_size, 100)


def _check_memory(args, model, dataset):
    weights, needed = memory_needed(args, model, dataset)
    available = available_memory()
    if available is not None and needed > available:
        raise _Refused(f"this run needs about {_format_bytes(needed)} of memory ({weights:,} weights with their "
                       f"gradients and optimizer state, activations of {_activation_rows(args):,} rows, the "
                       f"data, the history of {args.iters:,} steps), but about {_format_bytes(available)} is "
                       f"available: choose smaller --hidden sizes, --batch-size or --iters")


def _steps_for_epochs(epochs, train_rows, batch_size):
    """--epochs N as steps: N * ceil(train_rows / batch_size), so that each epoch sees every row once on average."""
    return epochs * -(-train_rows // batch_size)


def resolve_train_args(args):
    """The arguments of `train` completed for its model, as a new Namespace.

    Refuses (``_Refused``, one line) an option the model does not take and a
    run longer than MAX_ITERS steps; fills every argument left at None from
    ``Model.defaults`` (and --iters from its default of 10000); turns --epochs
    into --iters (``_steps_for_epochs``, with the data set's training rows).
    """
    model = MODELS[args.model]
    args = argparse.Namespace(**vars(args))
    for name, option in MODEL_OPTIONS.items():
        if name not in model.options and getattr(args, name) not in (None, False):
            takes = ", ".join(MODEL_OPTIONS[n] for n in model.options) or "none of the per-model options"
            others = ", ".join(other for other, entry in MODELS.items() if name in entry.options)
            raise _Refused(f"--model {args.model} does not take {option}: the book's {model.net_name} has no such "
                           f"setting (it takes {takes}; {option} is for --model {others})")
    for name, value in model.defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if model.one_hidden and len(args.hidden) != 1:
        raise _Refused(f"--model {args.model} takes one hidden size, got {len(args.hidden)} "
                       f"({','.join(map(str, args.hidden))}); use --model multi-layer for several")
    if args.model == "simple-convnet" and isinstance(args.weight_init_std, str):
        raise _Refused(f"--model simple-convnet takes a number for --weight-init-std (the book's SimpleConvNet "
                       f"scales every weight by it), got {args.weight_init_std!r}")
    if args.epochs is not None:
        rows = TRAIN_ROWS[_dataset_to_use(args.dataset)]
        args.iters = _steps_for_epochs(args.epochs, rows, args.batch_size)
        if args.iters > MAX_ITERS:
            raise _Refused(f"--epochs {args.epochs:,} is {args.iters:,} steps of batch {args.batch_size} on "
                           f"{rows:,} rows, more than {MAX_ITERS:,} (1,000 times the book's 10,000 steps; that "
                           f"would take days): choose fewer --epochs")
    elif args.iters is None:
        args.iters = 10000
    return args


def _out_folder(path):
    """The folder to write to: ``path``, or ``path-2``, ``path-3``, ... if ``path`` holds files.

    Returns (folder, note); raises _Refused when the folder cannot be written.
    """
    folder, suffix = path, 1
    while os.path.isdir(folder) and os.listdir(folder):
        suffix += 1
        folder = f"{path}-{suffix}"
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise _Refused(f"--out {folder}: this is a file, not a folder; give a folder's path")
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise _Refused(f"--out {folder}: cannot create it, {existing} is a file; give a folder's path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise _Refused(f"--out {folder}: {existing} is not writable; give a folder you can write to")
    note = None
    if folder != path:
        note = f"{path} already holds files, so this run writes to {folder} instead (nothing is overwritten)"
    return folder, note


def _make_folder(folder):
    """Create ``folder`` (and missing parents); return the folders created, outermost first."""
    created, path = [], os.path.abspath(folder)
    while not os.path.exists(path):
        created.insert(0, path)
        path = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise _Refused(f"--out {folder}: cannot create it ({error.strerror or error})") from None
    return created


def _remove_if_empty(created):
    """Remove the folders this run created, if nothing was written into them."""
    for path in reversed(created):
        try:
            os.rmdir(path)
        except OSError:
            return


def _prepare(args):
    """Every check that can fail before training: returns (completed args, model, dataset, out folder, note)."""
    args = resolve_train_args(args)
    model = MODELS[args.model]
    dataset = _dataset_to_use(args.dataset)
    _check_memory(args, model, dataset)
    path = args.out or os.path.join("runs", f"{dataset}-{args.model}-{time.strftime('%Y%m%d-%H%M%S')}")
    folder, note = _out_folder(path)
    return args, model, dataset, folder, note


# --- train ---


def run_train(args):
    from .threads import choose_blas_threads
    from .trainer import make_optimizer
    from .training import LossNotFinite, TrainingInterrupted, format_seconds, train

    try:
        args, model, dataset, out, note = _prepare(args)
        created = _make_folder(out)
    except _Refused as refusal:
        print(f"tinygrad-ko train: error: {refusal}", file=sys.stderr)
        return 2
    try:
        ((x_train, t_train), (x_test, t_test)), used = _load_data(args.dataset, flatten=not model.images)
    except BaseException:
        _remove_if_empty(created)
        raise
    if args.epochs is not None:  # exact for the data as loaded (TRAIN_ROWS gave the same for the known sets)
        args.iters = _steps_for_epochs(args.epochs, x_train.shape[0], args.batch_size)
    np.random.seed(args.seed)
    net = model.build(args, int(t_train.max()) + 1)
    optimizer = make_optimizer(args.optimizer, lr=args.lr)
    threads = choose_blas_threads(net, args.batch_size, x_train.shape[1:]) if args.threads == "auto" \
        else args.threads
    if note:
        print(note)
    sizes = _layers_in_words(model.weight_shapes(args, int(t_train.max()) + 1))
    print(f"{type(net).__name__} {sizes} on {used} ({x_train.shape[0]} train, {x_test.shape[0]} test rows), "
          f"{args.optimizer} lr {args.lr}, batch {args.batch_size}, {_run_length(args)}, "
          f"{threads} BLAS thread{'s' if threads != 1 else ''}")
    if args.numerical:
        count = sum(int(np.asarray(p).size) for p in net.params.values())
        print(f"numerical gradient: {count:,} weights, 2 forward passes each per step (backprop needs one "
              f"backward pass): timing the first step. Ctrl-C stops; the weights are restored exactly.")
    run = {"args": args, "dataset": used, "net": net, "out": out, "threads": threads}
    try:
        history = train(net, (x_train, t_train), (x_test, t_test), optimizer, iters=args.iters,
                        batch_size=args.batch_size, gradient="numerical" if args.numerical else "backprop",
                        eval_every=args.eval_every, log_lines=None if args.verbose else 20, threads=threads)
    except TrainingInterrupted as stop:
        said = _save_checkpoint(run, stop)
        _remove_if_empty(created)
        print(f"interrupted after {stop.step:,} steps: {said}", file=sys.stderr)
        return 130
    except LossNotFinite as stop:
        said = _save_checkpoint(run, stop)
        _remove_if_empty(created)
        print(f"tinygrad-ko train: error: {stop}; {said}. A smaller --lr may help.", file=sys.stderr)
        return 1
    state = net.state_dict() if hasattr(net, "state_dict") else dict(net.params)
    written = _save_run(run, state, history, stopped=None, plot=not args.no_plot)
    print(f"final train acc {history['final_train_accuracy']:.4f}, test acc {history['final_test_accuracy']:.4f} "
          f"after {args.iters} steps in {format_seconds(history['seconds'])}; wrote {', '.join(written)} to {out}")
    return 0


def _run_length(args):
    """'10000 steps', or '3 epochs (1,800 steps)'."""
    if args.epochs is None:
        return f"{args.iters} steps"
    return f"{args.epochs} epoch{'s' if args.epochs != 1 else ''} ({args.iters:,} steps)"


def _save_run(run, state, history, stopped, plot):
    """Write weights.npz, metrics.json and (if plot) curves.png; return the names written."""
    from . import io
    from .training import History, save_json

    args, out = run["args"], run["out"]
    metrics = {
        "dataset": run["dataset"], "iterations": len(history["loss"]), "seconds": round(history["seconds"], 3),
        "train_accuracy": history["final_train_accuracy"], "test_accuracy": history["final_test_accuracy"],
        "blas_threads": run["threads"], "warnings": history.get("warnings", []), "stopped": stopped,
        "args": {k: v for k, v in vars(args).items() if k != "func"},
        "history": {k: history[k] for k in ("epoch", "train_accuracy", "test_accuracy", "loss")},
    }
    io.save(state, os.path.join(out, "weights.npz"))
    save_json(metrics, os.path.join(out, "metrics.json"))
    written = ["weights.npz", "metrics.json"]
    if plot:
        try:
            History(history).plot(os.path.join(out, "curves.png"),
                                  title=f"{type(run['net']).__name__} on {run['dataset']}, "
                                        f"{args.optimizer} lr {args.lr}")
            written.append("curves.png")
        except ImportError as error:
            print(f"no plot: {error}")
    return written


def _save_checkpoint(run, stop):
    """Save the last complete epoch of a stopped run; return what was done, in words."""
    checkpoint = stop.checkpoint
    if checkpoint is None:
        return "no epoch was complete, so nothing was saved"
    _save_run(run, checkpoint["state"], checkpoint["history"], stopped=str(stop), plot=False)
    return (f"saved the weights and metrics of epoch {checkpoint['epoch']:g} (step {checkpoint['step']:,}) "
            f"to {run['out']}")


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
