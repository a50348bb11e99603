"""Draw the computational graph that made a tensor (the book's chapter 5 pictures).

``to_dot(y)`` returns the graph as Graphviz DOT text: one box per operation
(``mul``, ``add``...), one oval per tensor (its shape, and on request its values
and gradient), arrows input -> op -> output. For a one-element output such as a
loss, ``show_grad=True`` shows d(output)/d(tensor) on every tensor that requires
grad, intermediate results included, as the book's backward figures do. In
Jupyter the result draws itself (as SVG; without Graphviz, as the DOT text
under a note on installing it); ``draw(y, "graph.svg")`` writes an SVG or PNG
file. Drawing needs Graphviz's ``dot`` program (``apt install graphviz``,
``brew install graphviz``, or https://graphviz.org/download/); making the DOT
text needs nothing but NumPy.

Draw before ``backward()``: backward frees the graph (as PyTorch), so call
``to_dot(loss, show_grad=True)`` first (it computes the gradients itself), or
``loss.backward(retain_graph=True)``.

Tensor styles: a leaf that requires grad (a parameter, the book's ``apple``) is
filled; a constant (``x * 2.0``, or a tensor without ``requires_grad``) is
dashed and grey; the tensor you asked for has a double border.

>>> import tinygrad_ko as tk
>>> from tinygrad_ko.viz import to_dot
>>> apple = tk.Tensor(100.0, requires_grad=True)
>>> price = apple * 2.0 * 1.1
>>> dot = to_dot(price, show_data=True, names={"apple": apple})
>>> dot.count('label="mul"')
2
"""

import numbers
import os
import re
import shutil

import numpy as np

from .autograd import FREED, grad
from .tensor import Tensor

__all__ = ["to_dot", "draw", "DotGraph"]

MAX_ELEMENTS = 10   # show_data/show_grad print values of tensors with at most this many elements
DIGITS = 4          # significant digits of printed values: 220.00000000000003 -> 220

_RANKDIRS = ("LR", "RL", "TB", "BT")
_FORMATS = {".svg": "svg", ".png": "png"}   # file suffix -> dot's -T format

# DOT attributes of each kind of node.
_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#dbe8ff"'
_PARAM_STYLE = 'style=filled, fillcolor="#ffe2a8"'        # leaf with requires_grad=True
_CONST_STYLE = 'style=dashed, color=gray50, fontcolor=gray30'  # requires_grad=False
_ROOT_STYLE = "peripheries=2"                             # the tensor to_dot was called on

_NO_DOT = (
    "Graphviz's `dot` program was not found on PATH; it is needed to render the graph. "
    "Install Graphviz: `sudo apt install graphviz` (Debian/Ubuntu), `brew install graphviz` "
    "(macOS), `conda install graphviz`, or see https://graphviz.org/download/ (Windows and "
    "others). Note that `pip install graphviz` installs only a Python wrapper, not `dot`. "
    "Without Graphviz you can still print to_dot(...) and paste the text into an online "
    "Graphviz viewer.")

# What Jupyter shows above the DOT text when dot is missing (DotGraph._repr_markdown_).
_NO_DOT_MARKDOWN = (
    "**Graphviz's `dot` program is not installed, so the graph is shown as DOT text.** "
    "To see it as a picture, install Graphviz and run the cell again: `sudo apt install graphviz` "
    "(Debian/Ubuntu; in Colab: `!apt-get install -y graphviz`), `brew install graphviz` (macOS), "
    "`conda install graphviz`, or see https://graphviz.org/download/ (Windows). "
    "(`pip install graphviz` installs only a Python wrapper, not `dot`.) "
    "You can also paste the text below into an online Graphviz viewer.")


class DotGraph(str):
    """Graphviz DOT text (a ``str``) that Jupyter shows as a picture.

    In Jupyter (and Colab) a DotGraph that ends a cell, or is passed to
    ``display``, appears as an SVG picture rendered by Graphviz's ``dot``
    (``_repr_svg_``). Without ``dot`` it appears as a short note on how to
    install Graphviz followed by the DOT text (``_repr_markdown_``); in a
    terminal IPython, as the DOT lines. ``draw(path)`` writes an ``.svg`` or
    ``.png`` file.

    >>> g = DotGraph('digraph { a -> b; }')
    >>> g.startswith("digraph")
    True
    """

    __slots__ = ()

    def _repr_svg_(self):
        """The picture, rendered by ``dot``; None when ``dot`` is not installed (the text is shown)."""
        if shutil.which("dot") is None:
            return None
        svg = _run_dot(self, "svg").decode("utf-8")
        start = svg.find("<svg")
        return svg[start:] if start > 0 else svg   # without dot's XML prolog, as IPython's SVG does

    def _repr_markdown_(self):
        """Without ``dot``: how to install Graphviz, then the DOT text. None when ``dot`` is there.

        Jupyter prefers Markdown to SVG, so this must step aside whenever the picture can be drawn.
        """
        if shutil.which("dot") is not None:
            return None
        fence = "`" * max(3, _longest_backtick_run(self) + 1)
        return f"{_NO_DOT_MARKDOWN}\n\n{fence}dot\n{self.rstrip()}\n{fence}\n"

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))   # IPython's plain-text view: the DOT lines, not one quoted line

    def draw(self, path):
        """Render to ``path`` (``.svg`` or ``.png``) with Graphviz's ``dot``; return ``path``.

        Raises ValueError for another suffix and RuntimeError when ``dot``
        is missing or fails.
        """
        fmt = _format_of(path)
        data = _run_dot(self, fmt)
        with open(path, "wb") as f:
            f.write(data)
        return path


def to_dot(tensor, show_data=False, show_grad=False, names=None, rankdir="LR",
           max_elements=MAX_ELEMENTS):
    """The graph of operations that made ``tensor``, as Graphviz DOT text.

    tensor: the Tensor whose history to draw (e.g. the loss).
    show_data: print each tensor's values (only for tensors with at most
    ``max_elements`` elements; larger ones show their shape only).
    show_grad: print gradients likewise, as "grad ...". When ``tensor`` has
    one element (a loss, the book's ``price``), this is the gradient of
    ``tensor`` with respect to EVERY tensor in the graph that requires grad,
    intermediate results included (the book's figure 5-16 shows 1.1 on
    ``apple_price``), computed here with ``tk.grad(..., allow_unused=True)``:
    no ``.grad`` is read or changed, so it is the same before and after
    ``backward()``, however often that ran. For a larger ``tensor`` there is
    no single gradient to show, so each tensor's ``.grad`` is printed where it
    is set (after ``backward(grad)``: the leaves that require grad).
    Constants (``requires_grad=False``) never show a gradient.
    names: a dict ``{"apple": apple, ...}`` whose names label those tensors;
    entries whose value is not a Tensor are ignored.
    rankdir: direction of the arrows: "LR" (left to right), "TB", "RL" or "BT".

    Returns a DotGraph: a str that draws itself in Jupyter and has ``.draw(path)``.
    The graph walk is iterative, so deep graphs are fine.

    The book's apple example (figure 5-16):

    >>> import tinygrad_ko as tk
    >>> from tinygrad_ko.viz import to_dot
    >>> apple = tk.Tensor(100.0, requires_grad=True)
    >>> apple_num = tk.Tensor(2.0, requires_grad=True)
    >>> tax = tk.Tensor(1.1, requires_grad=True)
    >>> price = apple * apple_num * tax
    >>> print(to_dot(price, show_data=True, show_grad=True,
    ...              names={"apple": apple, "tax": tax, "price": price}))
    digraph {
      rankdir=LR;
      t0 [label="apple\\n()\\n100\\ngrad 2.2", style=filled, fillcolor="#ffe2a8"];
      t1 [label="()\\n2\\ngrad 110", style=filled, fillcolor="#ffe2a8"];
      t2 [label="()\\n200\\ngrad 1.1"];
      f2 [label="mul", shape=box, style="rounded,filled", fillcolor="#dbe8ff"];
      t0 -> f2;
      t1 -> f2;
      f2 -> t2;
      t3 [label="tax\\n()\\n1.1\\ngrad 200", style=filled, fillcolor="#ffe2a8"];
      t4 [label="price\\n()\\n220\\ngrad 1", peripheries=2];
      f4 [label="mul", shape=box, style="rounded,filled", fillcolor="#dbe8ff"];
      t2 -> f4;
      t3 -> f4;
      f4 -> t4;
    }
    >>> apple.grad is None   # nothing was accumulated: backward() was never called
    True
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"to_dot: rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    labels = _names_by_id(names)

    order = _walk(tensor)
    grads = _gradients(tensor, order, max_elements) if show_grad else {}
    node_of = {}   # id(tensor) -> its node name; the walk holds every tensor, so ids stay unique
    lines = ["digraph {", f"  rankdir={rankdir};"]
    for i, t in enumerate(order):
        node_of[id(t)] = f"t{i}"
        label = _tensor_label(t, labels.get(id(t)), show_data, grads.get(id(t)), max_elements)
        lines.append(f"  t{i} [label={_quote(label)}{_tensor_style(t, t is tensor)}];")
        ctx = t._ctx
        if ctx is not None:
            lines.append(f"  f{i} [label={_quote(_op_label(ctx))}, {_OP_STYLE}];")
            for x in ctx.inputs:   # an input used twice (x * x) gets two arrows
                lines.append(f"  {node_of[id(x)]} -> f{i};")
            lines.append(f"  f{i} -> t{i};")
    lines.append("}")
    return DotGraph("\n".join(lines) + "\n")


def draw(tensor, path, **to_dot_kwargs):
    """Write the graph of ``tensor`` to ``path`` as SVG or PNG (from the suffix); return ``path``.

    Keyword arguments go to ``to_dot`` (``show_data``, ``show_grad``, ``names``,
    ``rankdir``). Needs Graphviz's ``dot`` program: without it this raises
    RuntimeError saying how to install it. Another suffix raises ValueError.

    >>> import tinygrad_ko as tk
    >>> from tinygrad_ko.viz import draw
    >>> x = tk.Tensor(3.0, requires_grad=True)
    >>> draw(x * x, "graph.pdf")
    Traceback (most recent call last):
    ...
    ValueError: draw: cannot write 'graph.pdf': the file name must end in .svg or .png
    """
    _format_of(path)   # check the suffix before any work
    return to_dot(tensor, **to_dot_kwargs).draw(path)


# --- helpers ---


def _walk(root):
    """Every tensor that leads to root, constants included, each after its inputs. Iterative."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))   # come back once its inputs are placed
        if t._ctx is not None:
            if t._ctx.inputs is FREED:
                raise RuntimeError(
                    f"viz: the graph behind <{type(t._ctx).__name__}> was freed by backward(); draw it "
                    f"before backward() (show_grad=True computes the gradients itself), or pass "
                    f"retain_graph=True to backward()")
            # reversed: the first input is taken first, so numbering follows the code's order
            stack.extend([(x, False) for x in reversed(t._ctx.inputs)])
    return order


def _gradients(root, order, max_elements):
    """{id(t): gradient ndarray} of the tensors whose gradient to print.

    One-element root: d(root)/d(t) for every t in the graph that requires grad
    and is small enough to print, by tk.grad (no .grad is touched). Otherwise:
    each tensor's own .grad, where set.
    """
    if root.size == 1 and root.requires_grad:
        wanted = [t for t in order if t.requires_grad and t.size <= max_elements]
        if not wanted:
            return {}
        found = grad(root, wanted, retain_graph=True, allow_unused=True)  # nothing accumulates; graph kept
        return {id(t): g.data for t, g in zip(wanted, found) if g is not None}
    return {id(t): t.grad.data for t in order if t.grad is not None}


def _names_by_id(names):
    if names is None:
        return {}
    if not hasattr(names, "items"):
        raise TypeError(f"to_dot: names must be a dict like {{'apple': apple}}, "
                        f"got {type(names).__name__}")
    labels = {}
    for name, value in names.items():
        if isinstance(value, Tensor):
            previous = labels.get(id(value))
            labels[id(value)] = str(name) if previous is None else f"{previous}, {name}"
    return labels


def _tensor_label(t, name, show_data, gradient, max_elements):
    lines = [] if name is None else [name]
    shape = str(t.shape)
    lines.append(shape if t.dtype == np.float64 else f"{shape} {t.dtype}")
    if show_data and t.size <= max_elements:
        lines.append(_format_values(t.data))
    if gradient is not None and np.size(gradient) <= max_elements:
        lines.append("grad " + _format_values(np.asarray(gradient)))
    return "\n".join(lines)


def _format_values(array):
    """Compact NumPy-style text: 100, 1.1, 220 (not 100., 220.00000000000003)."""
    formatter = None
    if array.dtype.kind == "f":
        formatter = {"float_kind": lambda v: f"{v:.{DIGITS}g}"}
    return np.array2string(array, separator=", ", formatter=formatter, max_line_width=60)


def _op_label(ctx):
    label = type(ctx).name()
    exponent = getattr(ctx, "exponent", None)   # pow keeps its exponent on ctx, not in inputs
    if isinstance(exponent, numbers.Real):
        label += f"\n** {exponent:g}"
    return label


def _tensor_style(t, is_root):
    if not t.requires_grad:
        style = _CONST_STYLE
    elif t._ctx is None:
        style = _PARAM_STYLE
    else:
        style = ""
    if is_root:
        style = f"{style}, {_ROOT_STYLE}" if style else _ROOT_STYLE
    return f", {style}" if style else ""


def _quote(text):
    """A DOT double-quoted string. Backslashes are doubled so that Graphviz shows them
    literally (it reads \\n, \\l, \\N... in labels as escapes); newlines become \\n."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{text}"'


def _longest_backtick_run(text):
    """The length of the longest run of backticks in text (a Markdown fence must be longer)."""
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def _format_of(path):
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _FORMATS:
        raise ValueError(f"draw: cannot write {os.fspath(path)!r}: "
                         f"the file name must end in .svg or .png")
    return _FORMATS[suffix]


def _run_dot(dot_text, fmt):
    """Run Graphviz's dot (never through a shell) and return the rendered bytes."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(_NO_DOT)
    import subprocess   # here, not at the top: importing tinygrad_ko stays light

    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, check=True)
    except subprocess.CalledProcessError as error:
        message = error.stderr.decode("utf-8", errors="replace").strip()
        raise RuntimeError(f"Graphviz's dot failed (exit status {error.returncode}): "
                           f"{message}") from error
    return done.stdout
