"""Backprop through the apple-and-orange graph (Deep Learning from Scratch 5.4.2, buy_apple_orange.py).

    python examples/ch05_buy_apple_orange.py [--dot] [--out plots]

price = (apple * apple_num + orange * orange_num) * tax, as Tensor operations;
one ``price.backward()`` gives price 715, dApple_num 110, dApple 2.2,
dOrange 3.3, dOrange_num 165, dTax 650. With --dot, the graph is drawn to
OUT/ch05_buy_apple_orange.png (needs Graphviz's ``dot`` program).
"""

import argparse
import os
import shutil

import tinygrad_ko as tk


def draw_graph(price, names, out_dir, filename):
    """Draw the graph behind ``price`` with its values and gradients; return the path, or None without dot."""
    if shutil.which("dot") is None:
        print("no graph drawn: Graphviz's `dot` program is not installed "
              "(e.g. `sudo apt install graphviz` or `brew install graphviz`)")
        return None
    os.makedirs(out_dir, exist_ok=True)
    return tk.viz.draw(price, os.path.join(out_dir, filename), show_data=True, show_grad=True, names=names)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dot", action="store_true",
                        help="draw the graph with Graphviz to OUT/ch05_buy_apple_orange.png")
    parser.add_argument("--out", default="plots", help="folder for the drawing (created if missing)")
    args = parser.parse_args(argv)

    apple = tk.Tensor(100.0, requires_grad=True)
    apple_num = tk.Tensor(2.0, requires_grad=True)
    orange = tk.Tensor(150.0, requires_grad=True)
    orange_num = tk.Tensor(3.0, requires_grad=True)
    tax = tk.Tensor(1.1, requires_grad=True)

    # forward
    apple_price = apple * apple_num           # (1)
    orange_price = orange * orange_num        # (2)
    all_price = apple_price + orange_price    # (3)
    price = all_price * tax                   # (4)

    # backward
    price.backward(retain_graph=args.dot)  # backward frees the graph; --dot draws it afterwards

    # :.10g rounds float noise away (dOrange is 3.3000000000000003), as the book's int(...)
    print(f"price: {price.item():.10g}")
    print(f"dApple_num: {apple_num.grad.item():.10g}")
    print(f"dApple: {apple.grad.item():.10g}")
    print(f"dOrange: {orange.grad.item():.10g}")
    print(f"dOrange_num: {orange_num.grad.item():.10g}")
    print(f"dTax: {tax.grad.item():.10g}")

    if args.dot:
        names = {"apple": apple, "apple_num": apple_num, "orange": orange, "orange_num": orange_num,
                 "tax": tax, "apple_price": apple_price, "orange_price": orange_price, "all_price": all_price,
                 "price": price}
        path = draw_graph(price, names, args.out, "ch05_buy_apple_orange.png")
        if path is not None:
            print("wrote", path)


if __name__ == "__main__":
    main()
