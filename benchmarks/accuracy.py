"""Test accuracy of `tinygrad-ko train` beside the book's algorithm in the same setting (issue 11).

    python benchmarks/accuracy.py                              # Fashion-MNIST, 3 epochs: minutes
    python benchmarks/accuracy.py --dataset sample --epochs 10  # the bundled sample
    python benchmarks/accuracy.py --quick                      # seconds: checks that everything runs

Two runs of the book's chapter-7 SimpleConvNet (conv 30 5x5 - relu - max pool
2x2 - affine 4320-100 - relu - affine 100-10 - softmax cross-entropy, weights
0.01 * N(0, 1)) with Adam (lr 0.001) on batches of 100, one after the other,
each with 1 BLAS thread (``--threads``):

- tinygrad_ko: the command line itself, in a subprocess::

      tinygrad-ko train --model simple-convnet --dataset DATA --optimizer adam --lr 0.001
                        --batch-size 100 --epochs N --seed S --threads 1 --no-plot --out TEMP

  its metrics.json gives the accuracies and its weights.npz the final weights;
- the book's algorithm: the book's layers in plain NumPy (``Convolution`` and
  ``Pooling`` by im2col/col2im, ``Relu``, ``Affine``, ``SoftmaxWithLoss``:
  the SimpleConvNet of ``tinygrad_ko/_bench_reference.py``, shared with the
  speed benchmarks) and the book's Adam, written below. It starts from the
  same weights and draws the same batches: ``np.random.seed(S)``, then W1,
  W2, W3 from ``np.random.randn`` in the book's order, then one
  ``np.random.choice(rows, 100)`` per step, which is exactly what the command
  line does. The step count is the same: N * ceil(rows / 100) (the book's
  Trainer: ``int(epochs * rows / batch)``, equal when 100 divides the rows).

Both accuracies are measured on the whole test set (and train set) after the
last step, in batches of 100. The table also gives the largest difference
between the two final weight sets: float64 sums in a different order make
the runs drift apart slowly, so it is small but not zero. Accuracy is
reported, never asserted; see the README's section "Accuracy (issue 11)".
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import _common
import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref

BATCH, LR, WEIGHT_INIT_STD, HIDDEN = 100, 0.001, 0.01, 100
OURS = "tinygrad_ko (`tinygrad-ko train`)"
REFERENCE = "book's algorithm (NumPy layers)"


class BookAdam:
    """The book's Adam (common/optimizer.py): both bias corrections folded into the step size.

    Per update: ``iter += 1``, ``lr_t = lr * sqrt(1 - beta2**iter) / (1 - beta1**iter)``; per key
    ``m += (1 - beta1) * (g - m)``, ``v += (1 - beta2) * (g**2 - v)``, ``p -= lr_t * m / (sqrt(v) + 1e-7)``,
    in place (the layers hold the same arrays).
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.iter = 0
        self.m = self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(value) for key, value in params.items()}
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        self.iter += 1
        lr_t = self.lr * math.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            self.m[key] += (1.0 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1.0 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


def book_params(seed, input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=HIDDEN, output_size=10):
    """The book's SimpleConvNet initial weights after ``np.random.seed(seed)``: W1, W2, W3 drawn in its order.

    The global generator is left where the book's constructor leaves it, so the batches drawn next
    are the ones the command line draws.
    """
    np.random.seed(seed)
    channels, height, width = input_dim
    pooled = filter_num * ((height - filter_size + 1) // 2) * ((width - filter_size + 1) // 2)
    return {
        "W1": WEIGHT_INIT_STD * np.random.randn(filter_num, channels, filter_size, filter_size),
        "b1": np.zeros(filter_num),
        "W2": WEIGHT_INIT_STD * np.random.randn(pooled, hidden_size),
        "b2": np.zeros(hidden_size),
        "W3": WEIGHT_INIT_STD * np.random.randn(hidden_size, output_size),
        "b3": np.zeros(output_size),
    }


def accuracy(net, x, t, batch_size=100):
    """The fraction of images whose highest score is the label, ``batch_size`` images at a time."""
    correct = 0
    for start in range(0, len(x), batch_size):
        scores = net.predict(x[start:start + batch_size])
        correct += int(np.sum(np.argmax(scores, axis=1) == t[start:start + batch_size]))
    return correct / len(x)


def run_book(data, steps, seed):
    """Train the book's SimpleConvNet with the book's Adam; returns a dict of results and the final weights."""
    (x_train, t_train), (x_test, t_test) = data
    net = ref.SimpleConvNet(book_params(seed))  # its layers hold its params' arrays: Adam updates them in place
    optimizer = BookAdam(lr=LR)
    losses = []
    start = time.perf_counter()
    for _ in range(steps):
        batch = np.random.choice(len(x_train), BATCH)
        grads = net.gradient(x_train[batch], t_train[batch])
        losses.append(float(net.last_layer.loss))  # the loss of the forward pass that gave the gradient
        optimizer.update(net.params, grads)
    seconds = time.perf_counter() - start
    return {"test_accuracy": accuracy(net, x_test, t_test), "train_accuracy": accuracy(net, x_train, t_train),
            "train_seconds": seconds, "losses": losses}, net.params


def run_command_line(dataset, steps_or_epochs, seed, threads, folder):
    """Run `tinygrad-ko train` in a subprocess (its output passes through); returns (metrics, weights, argv)."""
    length = ["--iters", str(steps_or_epochs[1])] if steps_or_epochs[0] == "iters" \
        else ["--epochs", str(steps_or_epochs[1])]
    options = ["train", "--model", "simple-convnet", "--dataset", dataset, "--optimizer", "adam", "--lr", str(LR),
               "--batch-size", str(BATCH), *length, "--seed", str(seed), "--threads", str(threads), "--no-plot",
               "--out", folder]
    sys.stdout.flush()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tinygrad_ko", *options], check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"accuracy.py: `tinygrad-ko {' '.join(options)}` exited with {done.returncode}")
    with open(os.path.join(folder, "metrics.json")) as f:
        metrics = json.load(f)
    metrics["wall_seconds"] = wall
    return metrics, tk.load(os.path.join(folder, "weights.npz")), ["tinygrad-ko", *options[:-2]]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--threads", type=int, default=1, help="BLAS threads, for both runs")
    p.add_argument("--quick", action="store_true", help="20 steps on the sample: checks that everything runs")
    p.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches of both runs")
    p.add_argument("--json", default=os.path.join(_common.RESULTS, "accuracy.json"), help="where to write the results")
    p.add_argument("--dataset", choices=["fashion-mnist", "mnist", "sample"], default="fashion-mnist",
                   help="data set (fashion-mnist and mnist must be on disk: tk.datasets.download)")
    p.add_argument("--epochs", type=int, default=3, help="epochs of training for both runs")
    args = p.parse_args()
    if args.quick:  # a few steps on the sample: checks that everything runs
        args.dataset = "sample"
    info, _, limiter = _common.setup(args)
    loader = tk.datasets.load_fashion_mnist if args.dataset == "fashion-mnist" else tk.datasets.load_mnist
    data = loader(flatten=False, **({"sample": True} if args.dataset == "sample" else {}))
    (x_train, _), (x_test, _) = data
    per_epoch = -(-len(x_train) // BATCH)
    length = ("iters", 20) if args.quick else ("epochs", args.epochs)
    steps = length[1] if args.quick else args.epochs * per_epoch
    _common.header(f"Accuracy: SimpleConvNet, Adam lr {LR}, batch {BATCH}, {steps:,} steps on {args.dataset} "
                   f"({len(x_train):,} train, {len(x_test):,} test images)", info)

    with tempfile.TemporaryDirectory() as folder:
        metrics, ours_weights, argv = run_command_line(args.dataset, length, args.seed, args.threads,
                                                       os.path.join(folder, "run"))
    print(f"\n{REFERENCE}: {steps:,} steps ...", flush=True)
    book, book_weights = run_book(data, steps, args.seed)
    weight_diff = max(float(np.max(np.abs(ours_weights[key] - book_weights[key]))) for key in book_weights)
    first_diff = abs(metrics["history"]["loss"][0] - book["losses"][0])

    epochs = steps / per_epoch
    tail = max(per_epoch, 1)
    rows = [
        [OURS, f"{metrics['test_accuracy']:.4f}", f"{metrics['train_accuracy']:.4f}",
         f"{np.mean(metrics['history']['loss'][-tail:]):.4f}", f"{metrics['seconds']:.0f}",
         f"{metrics['seconds'] / epochs:.0f}"],
        [REFERENCE, f"{book['test_accuracy']:.4f}", f"{book['train_accuracy']:.4f}",
         f"{np.mean(book['losses'][-tail:]):.4f}", f"{book['train_seconds']:.0f}",
         f"{book['train_seconds'] / epochs:.0f}"],
    ]
    print(f"\ncommand: `{' '.join(argv)}`\n")
    print("| contender | test acc | train acc | mean loss, last epoch | seconds | seconds per epoch |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nSame start, same batches: first-step losses differ by {first_diff:.2g} (the book's +1e-7 in the log); "
          f"after {steps:,} steps the largest weight difference is {weight_diff:.2g}.")
    print(f"Seconds: wall clock of the training loop. tinygrad_ko's include its accuracy measurements on both "
          f"sets at every epoch ({metrics['wall_seconds']:.0f} s for the whole command, data loading included); "
          f"the reference's do not (it measures once, after training).")
    payload = {"info": info, "dataset": args.dataset, "steps": steps, "argv": argv,
               "tinygrad_ko": {k: metrics[k] for k in ("test_accuracy", "train_accuracy", "seconds", "wall_seconds")},
               "reference": {k: book[k] for k in ("test_accuracy", "train_accuracy", "train_seconds")},
               "largest_weight_difference": weight_diff}
    _common.finish(args, payload, limiter)


if __name__ == "__main__":
    main()
