"""Mini-batch training of the two-layer net on MNIST (Deep Learning from Scratch 4.5, train_neuralnet.py).

    python examples/ch04_train_two_layer_net.py                       # the book's 10,000 steps
    python examples/ch04_train_two_layer_net.py --dataset sample --iters 600

TwoLayerNet(784, 50, 10), learning rate 0.1, batches of 100, written out as the
book's loop; the gradient comes from autograd (``network.gradient``), so a step
takes milliseconds instead of the numerical gradient's many seconds. Prints the
train and test accuracy once per epoch and writes the loss curve and the
accuracy curves to OUT/ch04_train_loss.png and OUT/ch04_train_accuracy.png.
Without the full MNIST on disk it uses the 4,000 + 1,000 digit sample inside
the package (``tk.datasets.download('mnist')`` fetches the full set).
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk
from tinygrad_ko.threads import set_blas_threads


def load_data(name):
    """((x_train, t_train), (x_test, t_test)) of "mnist" or "sample" (None: mnist if on disk), one-hot labels."""
    if name is None:
        name = "mnist" if tk.datasets.is_available("mnist") else "sample"
    if name == "mnist":
        print("data: MNIST (60,000 training and 10,000 test images)")
        return tk.datasets.load_mnist(normalize=True, one_hot_label=True)
    print("data: the MNIST sample inside the package (4,000 training and 1,000 test images); "
          "--dataset mnist uses the full set")
    return tk.datasets.load_mnist(normalize=True, one_hot_label=True, sample=True)


def plot_curves(train_loss_list, train_acc_list, test_acc_list, out_dir):
    """Write the loss and the accuracy plots to OUT_DIR; return their paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    os.makedirs(out_dir, exist_ok=True)
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(np.arange(len(train_loss_list)), train_loss_list)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    loss_path = os.path.join(out_dir, "ch04_train_loss.png")
    fig.savefig(loss_path)

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    epochs = np.arange(len(train_acc_list))
    ax.plot(epochs, train_acc_list, marker="o", label="train acc")
    ax.plot(epochs, test_acc_list, marker="s", label="test acc", linestyle="--")
    ax.set_xlabel("epochs")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="lower right")
    acc_path = os.path.join(out_dir, "ch04_train_accuracy.png")
    fig.savefig(acc_path)
    return loss_path, acc_path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iters", type=int, default=10000, help="training steps (the book's iters_num)")
    parser.add_argument("--dataset", choices=["sample", "mnist"], default=None,
                        help="default: mnist if its files are on disk, else sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    parser.add_argument("--out", default="plots", help="folder for the PNGs (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    (x_train, t_train), (x_test, t_test) = load_data(args.dataset)

    network = tk.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.1
    set_blas_threads(network, batch_size)   # 1 BLAS thread: small products lose to thread hand-offs

    train_loss_list = []
    train_acc_list = []
    test_acc_list = []

    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        # the gradient by backprop (the book's chapter 4 used network.numerical_gradient here)
        grad = network.gradient(x_batch, t_batch)

        # params[key] shares memory with the net's weights: -= updates them in place
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]

        with tk.no_grad():   # only a number to record: no graph needed
            loss = network.loss(x_batch, t_batch).item()
        train_loss_list.append(loss)

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print(f"train acc, test acc | {train_acc:.4f}, {test_acc:.4f}")

    try:
        for path in plot_curves(train_loss_list, train_acc_list, test_acc_list, args.out):
            print("wrote", path)
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
