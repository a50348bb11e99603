"""Gradient check: backprop against the numerical gradient (Deep Learning from Scratch 5.7.3, gradient_check.py).

    python examples/ch05_gradient_check.py [--dataset sample]

TwoLayerNet(784, 50, 10) on the first 3 training images. The gradient by
backprop and the one by central differences should agree: the mean absolute
difference of each parameter's gradient is printed, and with the net's fused
softmax-cross-entropy loss all four are below 1e-8. (The numerical gradient
takes a few seconds: two forward passes for each of the 39,760 weights.)
The same check is ``tinygrad-ko gradcheck``.
"""

import argparse

import numpy as np

import tinygrad_ko as tk


def load_data(name):
    """((x_train, t_train), (x_test, t_test)) of "mnist" or "sample" (None: mnist if on disk), one-hot labels."""
    if name is None:
        name = "mnist" if tk.datasets.is_available("mnist") else "sample"
    if name == "mnist":
        print("data: MNIST")
        return tk.datasets.load_mnist(normalize=True, one_hot_label=True)
    print("data: the MNIST sample inside the package; --dataset mnist uses the full set")
    return tk.datasets.load_mnist(normalize=True, one_hot_label=True, sample=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["sample", "mnist"], default=None,
                        help="default: mnist if its files are on disk, else sample")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights")
    args = parser.parse_args(argv)

    np.random.seed(args.seed)
    (x_train, t_train), (x_test, t_test) = load_data(args.dataset)

    network = tk.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    x_batch = x_train[:3]     # float32 images times float64 weights: the loss is float64
    t_batch = t_train[:3]

    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)

    # the mean absolute difference per parameter
    for key in grad_numerical.keys():
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        print(key + ":" + str(diff))


if __name__ == "__main__":
    main()
