"""Training the book's SimpleConvNet on MNIST (Deep Learning from Scratch 7.5, train_convnet.py).

    python examples/ch07_train_convnet.py                              # the bundled sample, 3 epochs
    python examples/ch07_train_convnet.py --dataset mnist --epochs 20  # the book's run (hours in float64)

SimpleConvNet (conv 30 filters of 5x5 - ReLU - 2x2 max pool - affine 100 -
ReLU - affine 10), trained by ``tk.Trainer`` as the book: Adam (lr 0.001),
batches of 100, the accuracy measured on 1,000 images of each set at the
start of every epoch. The images keep their shape (N, 1, 28, 28):
``load_mnist(flatten=False)``. Prints the epoch lines and the final test
accuracy (the book reaches 0.9890 after 20 epochs on the full MNIST; on the
4,000-image sample a few epochs give over 0.9). Saves the weights in the
book's format to OUT/params.pkl (``ch07_simple_convnet_params.py`` and
``ch07_visualize_filter.py`` read it) and the accuracy curves to
OUT/ch07_train_convnet.png.
"""

import argparse
import os

import numpy as np

import tinygrad_ko as tk


def load_data(name):
    """((x_train, t_train), (x_test, t_test)) as images (N, 1, 28, 28), of "sample", "mnist" or "fashion-mnist"."""
    if name == "sample":
        print("data: the MNIST sample inside the package (4,000 training and 1,000 test images); "
              "--dataset mnist uses the full set")
        return tk.datasets.load_mnist(flatten=False, sample=True)
    print(f"data: {name} (60,000 training and 10,000 test images)")
    if name == "fashion-mnist":
        return tk.datasets.load_fashion_mnist(flatten=False)
    return tk.datasets.load_mnist(flatten=False)


def plot_curves(train_acc_list, test_acc_list, out_dir):
    """The accuracy curves against the epochs; return the PNG's path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # files only, never a window
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = np.arange(len(train_acc_list))
    ax.plot(x, train_acc_list, marker="o", label="train", markevery=2)
    ax.plot(x, test_acc_list, marker="s", label="test", markevery=2)
    ax.set_xlabel("epochs")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.0)
    ax.legend(loc="lower right")
    path = os.path.join(out_dir, "ch07_train_convnet.png")
    fig.savefig(path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=float, default=3, help="epochs (the book: 20 on the full MNIST)")
    parser.add_argument("--dataset", choices=["sample", "mnist", "fashion-mnist"], default="sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights and the batches")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: chosen for the net by tinygrad_ko.threads)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    parser.add_argument("--out", default="plots", help="folder for params.pkl and the PNG (created if missing)")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    (x_train, t_train), (x_test, t_test) = load_data(args.dataset)

    network = tk.SimpleConvNet(input_dim=(1, 28, 28),
                               conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                               hidden_size=100, output_size=10, weight_init_std=0.01)
    trainer = tk.Trainer(network, x_train, t_train, x_test, t_test,
                         epochs=args.epochs, mini_batch_size=100,
                         optimizer="Adam", optimizer_param={"lr": 0.001},
                         evaluate_sample_num_per_epoch=1000, verbose=not args.quiet)
    trainer.train(threads=args.threads)

    test_acc = network.accuracy(x_test, t_test)
    print(f"test accuracy: {test_acc:.4f} on {len(x_test)} test images")

    # Save the parameters, in the book's format
    os.makedirs(args.out, exist_ok=True)
    params_path = os.path.join(args.out, "params.pkl")
    network.save_params(params_path)
    print("Saved Network Parameters!", params_path)

    try:
        print("wrote", plot_curves(trainer.train_acc_list, trainer.test_acc_list, args.out))
    except ImportError:
        print("no plot: matplotlib is not installed (pip install matplotlib)")


if __name__ == "__main__":
    main()
