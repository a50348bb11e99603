"""The gradient of a net's loss with respect to its weights: simpleNet
(Deep Learning from Scratch 4.4.2, gradient_simplenet.py).

    python examples/ch04_simple_net.py

W is fixed to the weights the book printed. Prints the prediction
[1.05414809 0.63071653 1.1328074], its argmax 2, the loss, and dW twice: by
numerical differentiation, as the book, and by backprop, which agree to about
1e-10. Ours differ from the book's printed loss and dW in the 7th digit; the
output says why.
"""

import argparse

import numpy as np

import tinygrad_ko as tk

# The book's printed weights of its (randomly initialised) simpleNet.
BOOK_W = [[0.47355232, 0.9977393, 0.84668094],
          [0.85557411, 0.03563661, 0.69422093]]
# What the book printed for them.
BOOK_LOSS = 0.92806853663411326
BOOK_DW = [[0.21924763, 0.14356247, -0.36281009],
           [0.32887144, 0.2153437, -0.54421514]]


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    net = tk.SimpleNet()
    net.W.data[...] = BOOK_W          # the book's weights instead of random ones
    x = np.array([0.6, 0.9])
    t = np.array([0, 0, 1])           # the answer is class 2

    p = net.predict(x)
    print("W =")
    print(net.W.numpy())
    print("predict(x) =", p.numpy())
    print("argmax =", np.argmax(p.numpy()))
    print("loss =", net.loss(x, t).item())

    # f ignores its argument: numerical_gradient perturbs net.W's array in place (the book's trick).
    dW = tk.numerical_gradient(lambda W: net.loss(x, t), net.W)
    dW_backprop = net.gradient(x, t)["W"]
    with np.printoptions(precision=12):   # enough digits to see where the two part
        print("dW (numerical) =")
        print(dW)
        print("dW (backprop) =")
        print(dW_backprop)
    print("max |numerical - backprop| =", np.abs(dW - dW_backprop).max())

    print(f"the book printed loss = {BOOK_LOSS:.17g} and dW =")
    print(np.array(BOOK_DW))
    print("(the book computed these without the +1e-7 that cross_entropy_error keeps inside the log, "
          "so they differ from ours by about 3e-7 relative)")


if __name__ == "__main__":
    main()
