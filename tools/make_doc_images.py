"""Draw the documentation's pictures of computational graphs with ``tinygrad_ko.viz``.

Run from anywhere (the output folder is found from this file's place in the repository):

    python tools/make_doc_images.py              # writes docs/images/*.svg
    python tools/make_doc_images.py --out /tmp/x  # somewhere else, to compare

It writes two SVG files, the figures of docs/chapters.md and docs/chapters.ko.md:

- ``apple_graph.svg``: the book's apple example (5.4.1, figure 5-16),
  price = apple * apple_num * tax, with each tensor's value and the gradient of
  price with respect to it: 2.2 on apple, 110 on apple_num, 200 on tax, 1.1 on
  apple_price and 1 on price.
- ``two_layer_net_loss.svg``: the graph of the loss of ``TwoLayerNet(4, 3, 2)``
  on 2 rows, with shapes: linear -> sigmoid -> linear -> softmax_cross_entropy,
  the intermediate results named a1, z1, a2 as in the book's ``predict``.

Needs Graphviz's ``dot`` program (``sudo apt install graphviz``,
``brew install graphviz``). The files hold no paths and no timestamps; only
the comment naming the Graphviz version that drew them changes between
machines, so regenerate them after changing ``tinygrad_ko.viz`` and commit
the result. ``tests/test_docs.py`` checks that they exist and show what the
docs say they show.
"""

import argparse
import os
import sys

import numpy as np

import tinygrad_ko as tk

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "docs", "images")


def apple_graph():
    """(price, names) of the book's buy_apple.py, before any backward()."""
    apple = tk.Tensor(100.0, requires_grad=True)
    apple_num = tk.Tensor(2.0, requires_grad=True)
    tax = tk.Tensor(1.1, requires_grad=True)
    apple_price = apple * apple_num
    price = apple_price * tax
    names = {"apple": apple, "apple_num": apple_num, "tax": tax,
             "apple_price": apple_price, "price": price}
    return price, names


def two_layer_net_graph():
    """(loss, names) of TwoLayerNet(4, 3, 2) on 2 rows with integer labels."""
    rng = np.random.default_rng(0)   # the values are not drawn, but keep the run reproducible
    np.random.seed(0)
    net = tk.TwoLayerNet(input_size=4, hidden_size=3, output_size=2)
    x = tk.Tensor(rng.random((2, 4)))
    t = tk.Tensor(np.array([0, 1], dtype=np.int64))   # int64 on every platform: the label says so
    loss = net.loss(x, t)
    # the book's names for the steps of TwoLayerNet.predict, found by walking back from the loss:
    # a1 = x @ W1 + b1, z1 = sigmoid(a1), a2 = z1 @ W2 + b2 (softmax and the loss are fused)
    a2 = loss.grad_fn.inputs[0]
    z1 = a2.grad_fn.inputs[0]
    a1 = z1.grad_fn.inputs[0]
    names = {"x": x, "t": t, "W1": net.W1, "b1": net.b1, "W2": net.W2, "b2": net.b2,
             "a1": a1, "z1": z1, "a2": a2, "loss": loss}
    return loss, names


# file name -> (the graph, the to_dot options)
FIGURES = {
    "apple_graph.svg": (apple_graph, {"show_data": True, "show_grad": True}),
    "two_layer_net_loss.svg": (two_layer_net_graph, {}),
}


def dot_texts():
    """{file name: DOT text}: what would be drawn (needs no Graphviz)."""
    texts = {}
    for filename, (make, options) in FIGURES.items():
        tensor, names = make()
        texts[filename] = tk.viz.to_dot(tensor, names=names, **options)
    return texts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for the SVG files (created if missing)")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for filename, (make, options) in FIGURES.items():
        tensor, names = make()
        path = tk.viz.draw(tensor, os.path.join(args.out, filename), names=names, **options)
        print(f"wrote {path} ({os.path.getsize(path):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
