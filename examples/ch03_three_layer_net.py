"""The 3-layer net's forward pass with the book's fixed weights (Deep Learning from Scratch 3.4.3).

    python examples/ch03_three_layer_net.py

Same as the book's ``init_network`` / ``forward``, with Tensors: ``x @ W + b``,
sigmoid on the two hidden layers and the identity on the output. Prints
``[0.31682708 0.69627909]``, the book's answer for x = [1.0, 0.5].
"""

import argparse

import tinygrad_ko as tk


def init_network():
    """The book's weights and biases, as Tensors."""
    network = {}
    network["W1"] = tk.Tensor([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]])
    network["b1"] = tk.Tensor([0.1, 0.2, 0.3])
    network["W2"] = tk.Tensor([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]])
    network["b2"] = tk.Tensor([0.1, 0.2])
    network["W3"] = tk.Tensor([[0.1, 0.3], [0.2, 0.4]])
    network["b3"] = tk.Tensor([0.1, 0.2])
    return network


def identity_function(x):
    return x


def forward(network, x):
    W1, W2, W3 = network["W1"], network["W2"], network["W3"]
    b1, b2, b3 = network["b1"], network["b2"], network["b3"]

    a1 = x @ W1 + b1          # (2,) @ (2, 3) -> (3,)
    z1 = a1.sigmoid()
    a2 = z1 @ W2 + b2         # (3,) @ (3, 2) -> (2,)
    z2 = a2.sigmoid()
    a3 = z2 @ W3 + b3         # (2,) @ (2, 2) -> (2,)
    return identity_function(a3)


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    network = init_network()
    x = tk.Tensor([1.0, 0.5])
    y = forward(network, x)
    print("x =", x.numpy())
    print("y =", y.numpy())   # the book: [0.31682708 0.69627909]


if __name__ == "__main__":
    main()
