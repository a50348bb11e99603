"""tinygrad_ko.viz: DOT text of the computational graph, and rendering it with Graphviz."""

import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko.viz import DotGraph, _format_values, draw, to_dot

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot is not installed (apt install graphviz / brew install graphviz)")

_NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$', re.MULTILINE)
_EDGE = re.compile(r"^\s*(\w+) -> (\w+);$", re.MULTILINE)


def _unescape(text):
    """Undo viz's DOT quoting: \\n -> newline, \\" -> ", \\\\ -> backslash."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def nodes(dot):
    """{node name: (label lines, attribute text)} of a DOT text written by to_dot."""
    return {name: (_unescape(label).split("\n"), attrs)
            for name, label, attrs in _NODE.findall(dot)}


def edges(dot):
    return _EDGE.findall(dot)


def op_names(dot):
    return sorted(lines[0] for name, (lines, _) in nodes(dot).items() if name.startswith("f"))


def tensor_labels(dot):
    return [lines for name, (lines, _) in nodes(dot).items() if name.startswith("t")]


def all_lines(dot):
    return [line for lines, _ in nodes(dot).values() for line in lines]


def apple_example():
    """The book's figure 5-16: 100 won x 2 apples x tax 1.1 = 220."""
    apple = tk.Tensor(100.0, requires_grad=True)
    apple_num = tk.Tensor(2.0, requires_grad=True)
    tax = tk.Tensor(1.1, requires_grad=True)
    price = apple * apple_num * tax
    price.backward(retain_graph=True)  # keep the graph to draw it after backward
    return apple, apple_num, tax, price


# --- the book's examples ---


def test_apple_graph_has_two_mul_nodes_and_the_values():
    *_, price = apple_example()
    dot = to_dot(price, show_data=True)
    assert isinstance(dot, str) and isinstance(dot, DotGraph)
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")
    assert op_names(dot) == ["mul", "mul"]
    values = {lines[-1] for lines in tensor_labels(dot)}
    assert values == {"100", "2", "1.1", "200", "220"}
    assert len(edges(dot)) == 6   # 2 inputs + 1 output per mul


def test_apple_graph_shows_gradients_only_when_asked():
    *_, price = apple_example()
    assert "grad" not in " ".join(all_lines(to_dot(price, show_data=True)))
    lines = all_lines(to_dot(price, show_grad=True))
    assert {"grad 2.2", "grad 110", "grad 200"} <= set(lines)


def test_names_label_the_tensors():
    apple, apple_num, tax, price = apple_example()
    names = {"apple": apple, "apple_num": apple_num, "tax": tax, "price": price}
    dot = to_dot(price, show_data=True, show_grad=True, names=names)
    labels = {lines[0]: lines[1:] for lines in tensor_labels(dot)}
    assert labels["apple"] == ["()", "100", "grad 2.2"]
    assert labels["apple_num"] == ["()", "2", "grad 110"]
    assert labels["tax"] == ["()", "1.1", "grad 200"]
    assert labels["price"] == ["()", "220", "grad 1"]   # d price / d price


def labels_by_name(dot):
    """{first label line: the other lines} of the named tensors of a DOT text."""
    return {lines[0]: lines[1:] for lines in tensor_labels(dot) if not lines[0].startswith("(")}


def test_scalar_output_shows_its_gradient_on_every_tensor_as_figure_5_16():
    apple = tk.Tensor(100.0, requires_grad=True)
    apple_num = tk.Tensor(2.0, requires_grad=True)
    tax = tk.Tensor(1.1, requires_grad=True)
    apple_price = apple * apple_num
    price = apple_price * tax          # no backward(): to_dot computes the gradients itself
    names = {"apple": apple, "apple_num": apple_num, "tax": tax, "apple_price": apple_price, "price": price}
    labels = labels_by_name(to_dot(price, show_grad=True, names=names))
    assert labels == {"apple": ["()", "grad 2.2"], "apple_num": ["()", "grad 110"],
                      "tax": ["()", "grad 200"], "apple_price": ["()", "grad 1.1"],
                      "price": ["()", "grad 1"]}
    assert all(t.grad is None for t in names.values())   # no .grad was touched


def test_scalar_output_gradients_ignore_and_keep_accumulated_grad():
    apple, apple_num, tax, price = apple_example()
    price.backward(retain_graph=True)  # a second backward: apple.grad is now 2 * 2.2
    before = {name: t.grad for name, t in {"apple": apple, "apple_num": apple_num, "tax": tax}.items()}
    before_values = {name: g.numpy().copy() for name, g in before.items()}
    labels = labels_by_name(to_dot(price, show_grad=True, names={"apple": apple, "apple_num": apple_num,
                                                                 "tax": tax}))
    assert labels["apple"] == ["()", "grad 2.2"] and labels["tax"] == ["()", "grad 200"]
    for name, g in before.items():     # the same Tensors, with the same values: nothing accumulated
        t = {"apple": apple, "apple_num": apple_num, "tax": tax}[name]
        assert t.grad is g
        np.testing.assert_array_equal(g.numpy(), before_values[name])
    np.testing.assert_allclose(apple.grad.numpy(), 4.4)


def test_apple_orange_gradients_on_every_tensor():
    """Figure 5-17's backward values: 1.1 on each partial sum, 3.3, 165, 650."""
    apple = tk.Tensor(100.0, requires_grad=True)
    apple_num = tk.Tensor(2.0, requires_grad=True)
    orange = tk.Tensor(150.0, requires_grad=True)
    orange_num = tk.Tensor(3.0, requires_grad=True)
    tax = tk.Tensor(1.1, requires_grad=True)
    apple_price = apple * apple_num
    orange_price = orange * orange_num
    all_price = apple_price + orange_price
    price = all_price * tax
    names = dict(apple=apple, apple_num=apple_num, orange=orange, orange_num=orange_num, tax=tax,
                 apple_price=apple_price, orange_price=orange_price, all_price=all_price, price=price)
    labels = labels_by_name(to_dot(price, show_grad=True, names=names))
    grads = {name: lines[-1] for name, lines in labels.items()}
    assert grads == {"apple": "grad 2.2", "apple_num": "grad 110", "orange": "grad 3.3",
                     "orange_num": "grad 165", "tax": "grad 650", "apple_price": "grad 1.1",
                     "orange_price": "grad 1.1", "all_price": "grad 1.1", "price": "grad 1"}


def test_scalar_output_gradients_of_a_net_match_its_backprop():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 3, 2)
    x, t = np.random.rand(2, 4), np.array([0, 1])
    loss = net.loss(x, t)
    dot = to_dot(loss, show_grad=True, names={"b1": net.b1, "b2": net.b2, "W1": net.W1, "W2": net.W2})
    labels = labels_by_name(dot)
    assert all(p.grad is None for p in net.parameters())
    expected = net.gradient(x, t)
    assert labels["b2"] == ["(2,)"] + ("grad " + _format_values(expected["b2"])).split("\n")
    assert labels["W2"] == ["(3, 2)"] + ("grad " + _format_values(expected["W2"])).split("\n")   # 6: shown
    assert labels["W1"] == ["(4, 3)"]   # 12 elements: more than max_elements, so not printed
    assert "grad 1" in all_lines(dot)   # the loss itself
    # the constants (inputs x and labels t) show no gradient
    constants = [lines for lines, attrs in nodes(dot).values() if "dashed" in attrs]
    assert constants and not any(line.startswith("grad") for lines in constants for line in lines)


def test_one_element_output_of_any_shape_and_float32():
    x = tk.Tensor(np.array([[2.0]], dtype=np.float32), requires_grad=True)
    y = x * x * 3.0                    # shape (1, 1): one element, so a gradient is computed
    labels = labels_by_name(to_dot(y, show_grad=True, names={"x": x, "y": y}))
    assert labels["x"] == ["(1, 1) float32", "grad [[12]]"]
    assert labels["y"] == ["(1, 1) float32", "grad [[1]]"]


def test_non_scalar_output_shows_grad_attribute_where_set():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    y = h.exp()
    names = {"x": x, "h": h, "y": y}
    assert "grad" not in " ".join(all_lines(to_dot(y, show_grad=True, names=names)))   # no backward yet
    y.backward(np.ones(2), retain_graph=True)
    labels = labels_by_name(to_dot(y, show_grad=True, names=names))
    assert labels["x"][-1].startswith("grad [")   # x.grad, set by backward
    assert labels["h"] == ["(2,)"] and labels["y"] == ["(2,)"]   # intermediates have no .grad


def test_constant_output_shows_no_gradient():
    y = tk.Tensor(2.0) * 3.0
    assert "grad" not in to_dot(y, show_grad=True)


def test_names_ignore_non_tensors_and_join_two_names_of_one_tensor():
    apple, *_, price = apple_example()
    dot = to_dot(price, names={"apple": apple, "사과": apple, "n": 3, "total": price})
    first_lines = [lines[0] for lines in tensor_labels(dot)]
    assert "apple, 사과" in first_lines and "total" in first_lines


def test_names_must_be_a_dict():
    *_, price = apple_example()
    with pytest.raises(TypeError, match="names"):
        to_dot(price, names=["apple"])


def test_apple_orange_graph():
    """Figure 5-17: (100 x 2 + 150 x 3) x 1.1 = 715."""
    apple = tk.Tensor(100.0, requires_grad=True)
    apple_num = tk.Tensor(2.0, requires_grad=True)
    orange = tk.Tensor(150.0, requires_grad=True)
    orange_num = tk.Tensor(3.0, requires_grad=True)
    tax = tk.Tensor(1.1, requires_grad=True)
    price = (apple * apple_num + orange * orange_num) * tax
    dot = to_dot(price, show_data=True)
    assert op_names(dot) == ["add", "mul", "mul", "mul"]
    values = sorted(lines[-1] for lines in tensor_labels(dot))
    assert values == sorted(["100", "2", "150", "3", "1.1", "200", "450", "650", "715"])
    # add takes the two products and feeds the last mul, whose output is the root
    graph = nodes(dot)
    (add,) = [n for n, (lines, _) in graph.items() if lines == ["add"]]
    assert len([e for e in edges(dot) if e[1] == add]) == 2
    (add_out,) = [dst for src, dst in edges(dot) if src == add]
    (last_op,) = [dst for src, dst in edges(dot) if src == add_out]
    (root,) = [dst for src, dst in edges(dot) if src == last_op]
    assert graph[root][0][-1] == "715" and "peripheries=2" in graph[root][1]


# --- what each node shows ---


def test_constant_input_is_a_dashed_node():
    x = tk.Tensor(3.0, requires_grad=True)
    dot = to_dot(x * 2.0, show_data=True)
    graph = nodes(dot)
    (const,) = [attrs for lines, attrs in graph.values() if lines[-1] == "2"]
    (leaf,) = [attrs for lines, attrs in graph.values() if lines[-1] == "3"]
    assert "dashed" in const and "filled" not in const
    assert "filled" in leaf and "dashed" not in leaf
    assert op_names(dot) == ["mul"]


def test_big_tensor_shows_its_shape_but_not_its_values():
    x = tk.Tensor(np.arange(100.0).reshape(10, 10) + 0.5, requires_grad=True)
    y = x.sum()
    y.backward(retain_graph=True)
    dot = to_dot(y, show_data=True, show_grad=True)
    labels = tensor_labels(dot)
    assert ["(10, 10)"] in labels     # neither values nor gradient of the big one
    assert "0.5" not in dot and "99.5" not in dot
    assert ["()", "5000", "grad 1"] in labels   # the sum is small, so it is printed


def test_small_matrix_values_are_printed_compactly():
    x = tk.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    dot = to_dot(x * 0.5, show_data=True)
    assert "[[1, 2],\n [3, 4]]" in _unescape(dot)
    assert "[[0.5, 1],\n [1.5, 2]]" in _unescape(dot)


def test_max_elements_sets_the_printing_limit():
    x = tk.Tensor(np.ones(20), requires_grad=True)
    assert "[1, 1" not in to_dot(x, show_data=True)
    assert "[1, 1" in to_dot(x, show_data=True, max_elements=20)


def test_non_float64_dtype_is_shown():
    x = tk.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert "(3,) float32" in all_lines(to_dot(x * 2.0))


def test_pow_shows_its_exponent():
    x = tk.Tensor(3.0, requires_grad=True)
    assert op_names(to_dot(x ** 2)) == ["pow"]
    assert "** 2" in all_lines(to_dot(x ** 2))


def test_a_leaf_alone_is_one_node():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    dot = to_dot(x, show_data=True)
    assert tensor_labels(dot) == [["(2,)", "[1, 2]"]]
    assert edges(dot) == []


def test_rankdir():
    x = tk.Tensor(1.0, requires_grad=True)
    assert "rankdir=TB;" in to_dot(x * 2.0, rankdir="TB")
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(x, rankdir="sideways")


def test_to_dot_needs_a_tensor():
    with pytest.raises(TypeError, match="Tensor"):
        to_dot(np.ones(3))


def test_labels_are_escaped():
    x = tk.Tensor(1.0, requires_grad=True)
    tricky = 'say "hi" \\n\\ back\nslash'
    dot = to_dot(x * 2.0, names={tricky: x})
    assert 'say \\"hi\\" \\\\n\\\\ back\\nslash' in dot
    named = [lines for lines in tensor_labels(dot) if len(lines) > 1]
    assert named == [tricky.split("\n") + ["()"]]
    for line in dot.splitlines():   # every label is one line of DOT with balanced quotes
        assert len(re.sub(r'\\.', "", line).split('"')) % 2 == 1


# --- graph shape ---


def test_deep_chain_has_no_recursion_limit():
    x = tk.Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    dot = to_dot(y)
    assert op_names(dot).count("mul") == 5000
    assert len(edges(dot)) == 3 * 5000


def test_tensor_used_twice_is_one_node():
    x = tk.Tensor(2.0, requires_grad=True)
    a = x * 3.0                 # a diamond: a feeds both exp and the add
    y = a.exp() + a
    dot = to_dot(y, show_data=True, names={"x": x, "a": a})
    first_lines = [lines[0] for lines in tensor_labels(dot)]
    assert first_lines.count("a") == 1 and first_lines.count("x") == 1
    assert len(tensor_labels(dot)) == 5   # x, 3.0, a, exp(a), y
    a_node = [n for n, (lines, _) in nodes(dot).items() if lines[0] == "a"][0]
    assert len([e for e in edges(dot) if e[0] == a_node]) == 2

    sq = x * x                  # one node for x, two arrows into mul
    dot = to_dot(sq)
    assert len(tensor_labels(dot)) == 2
    assert len(edges(dot)) == 3


# --- rendering ---


@needs_dot
def test_draw_writes_svg_and_png(tmp_path):
    *_, price = apple_example()
    svg = tmp_path / "apple.svg"
    assert draw(price, svg, show_data=True, show_grad=True) == svg
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and ">mul<" in text and ">220<" in text and ">grad 2.2<" in text
    assert ">grad 1.1<" in text   # the unnamed apple * apple_num: d price / d apple_price

    png = tmp_path / "apple.PNG"
    assert draw(price, str(png)) == str(png)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
def test_repr_svg_and_dotgraph_draw(tmp_path):
    *_, price = apple_example()
    dot = to_dot(price, show_data=True)
    svg = dot._repr_svg_()
    assert isinstance(svg, str) and "<svg" in svg and ">220<" in svg
    assert dot.draw(tmp_path / "g.svg") == tmp_path / "g.svg"


@needs_dot
def test_escaped_and_korean_labels_render(tmp_path):
    x = tk.Tensor(1.0, requires_grad=True)
    names = {'say "hi" \\ back\nslash': x, "가격": x * 2.0}
    svg = to_dot(names["가격"], names=names)._repr_svg_()
    assert "say &quot;hi&quot; \\ back" in svg and "가격" in svg


@needs_dot
def test_dot_failure_is_reported(tmp_path):
    with pytest.raises(RuntimeError, match="dot failed"):
        DotGraph("digraph {").draw(tmp_path / "bad.svg")


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    *_, price = apple_example()
    with pytest.raises(RuntimeError) as info:
        draw(price, tmp_path / "apple.svg")
    message = str(info.value)
    assert "dot" in message and "Graphviz" in message
    assert "apt install graphviz" in message and "brew install graphviz" in message
    assert "https://graphviz.org/download/" in message
    assert not (tmp_path / "apple.svg").exists()
    assert to_dot(price)._repr_svg_() is None   # Jupyter falls back to the text


def test_missing_dot_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))   # an empty folder: no dot anywhere
    x = tk.Tensor(1.0, requires_grad=True)
    assert to_dot(x)._repr_svg_() is None
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        to_dot(x).draw(tmp_path / "x.png")


@pytest.mark.parametrize("name", ["graph.pdf", "graph", "graph.svg.txt", "graph.dot"])
def test_unsupported_suffix_raises_value_error(tmp_path, monkeypatch, name):
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)  # checked before dot
    x = tk.Tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        draw(x * 2.0, tmp_path / name)
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        to_dot(x).draw(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_dot_runs_without_a_shell(monkeypatch, tmp_path):
    calls = []

    def fake_run(args, **kwargs):
        calls.append((args, kwargs))
        return subprocess.CompletedProcess(args, 0, stdout=b"<svg>fake</svg>", stderr=b"")

    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: "/opt/graphviz/bin/dot")
    monkeypatch.setattr(subprocess, "run", fake_run)
    x = tk.Tensor(1.0, requires_grad=True)
    out = tmp_path / "x.svg"
    draw(x * 2.0, out, names={"x": x})
    ((args, kwargs),) = calls
    assert args == ["/opt/graphviz/bin/dot", "-Tsvg"]
    assert not kwargs.get("shell") and kwargs["check"] is True
    assert kwargs["input"].decode("utf-8").startswith("digraph {")
    assert out.read_bytes() == b"<svg>fake</svg>"


def fake_dot(folder, svg):
    """Put an executable named ``dot`` in ``folder`` that prints ``svg`` and records its arguments and input."""
    script = folder / "dot"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "data = sys.stdin.buffer.read().decode('utf-8')\n"
        f"open({str(folder / 'calls.json')!r}, 'a', encoding='utf-8').write("
        "json.dumps([sys.argv[1:], data]) + '\\n')\n"
        f"sys.stdout.write({svg!r})\n", encoding="utf-8")
    script.chmod(0o755)
    return folder / "calls.json"


def recorded_calls(calls_file):
    import json

    return [json.loads(line) for line in calls_file.read_text(encoding="utf-8").splitlines()]


FAKE_SVG = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<!DOCTYPE svg>\n'
            '<svg xmlns="http://www.w3.org/2000/svg"><text>fake</text></svg>\n')
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a script with a #! line")


@needs_posix
def test_repr_svg_runs_the_dot_found_on_path(monkeypatch, tmp_path):
    calls = fake_dot(tmp_path, FAKE_SVG)
    monkeypatch.setenv("PATH", str(tmp_path))   # the fake is the only dot
    *_, price = apple_example()
    dot = to_dot(price, show_data=True)
    svg = dot._repr_svg_()
    assert svg == '<svg xmlns="http://www.w3.org/2000/svg"><text>fake</text></svg>\n'   # no XML prolog
    assert recorded_calls(calls) == [[["-Tsvg"], str(dot)]]
    assert dot._repr_markdown_() is None   # Jupyter prefers Markdown: it must step aside for the picture


def test_repr_markdown_without_dot_says_how_to_install_and_shows_the_dot_text(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))   # an empty folder: no dot anywhere
    *_, price = apple_example()
    dot = to_dot(price, show_data=True, names={"apple": apple_example()[0]})
    markdown = dot._repr_markdown_()
    note, fenced = markdown.split("\n\n", 1)
    assert "not installed" in note and "sudo apt install graphviz" in note and "brew install graphviz" in note
    assert "apt-get install -y graphviz" in note and "https://graphviz.org/download/" in note
    assert fenced == "```dot\n" + dot.rstrip() + "\n```\n"   # the whole DOT text, in a code block
    assert dot._repr_svg_() is None


def test_repr_markdown_fence_is_longer_than_any_backticks_in_the_labels(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    x = tk.Tensor(1.0, requires_grad=True)
    dot = to_dot(x * 2.0, names={"a ```` b": x})
    fenced = dot._repr_markdown_().split("\n\n", 1)[1]
    assert fenced.startswith("`````dot\n") and fenced.endswith("\n`````\n")


@pytest.mark.parametrize("with_dot", [True, False])
def test_jupyter_shows_a_picture_with_dot_and_the_text_without(monkeypatch, tmp_path, with_dot):
    pytest.importorskip("IPython", reason="IPython comes with the dev extra (ipykernel)")
    from IPython.core.formatters import DisplayFormatter

    if with_dot:
        if sys.platform == "win32":
            pytest.skip("the fake dot is a script with a #! line")
        fake_dot(tmp_path, FAKE_SVG)
    monkeypatch.setenv("PATH", str(tmp_path))
    dot = to_dot(tk.Tensor(1.0, requires_grad=True) * 2.0)
    data, _ = DisplayFormatter().format(dot)   # the mime bundle a Jupyter kernel sends
    assert data["text/plain"] == str(dot)
    if with_dot:
        assert "<svg" in data["image/svg+xml"] and "text/markdown" not in data
    else:
        assert "image/svg+xml" not in data and str(dot).rstrip() in data["text/markdown"]


def test_drawing_after_backward_says_to_draw_first_or_retain_the_graph():
    apple = tk.Tensor(100.0, requires_grad=True)
    price = apple * 2.0 * 1.1
    price.backward()   # frees the graph
    with pytest.raises(RuntimeError, match=r"before backward\(\).*retain_graph=True"):
        to_dot(price)


def test_ipython_plain_text_shows_the_dot_lines():
    class Printer:   # the one method of IPython's pretty printer that _repr_pretty_ uses
        def __init__(self):
            self.seen = []

        def text(self, value):
            self.seen.append(value)

    printer = Printer()
    dot = to_dot(tk.Tensor(1.0, requires_grad=True) * 2.0)
    dot._repr_pretty_(printer, cycle=False)
    assert printer.seen == [str(dot)]


def _top_level_modules_after(statement):
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.split())


def test_importing_viz_loads_only_numpy_and_the_standard_library():
    by_numpy = _top_level_modules_after("import numpy")  # e.g. cython_runtime on NumPy 1.x
    loaded = _top_level_modules_after("import tinygrad_ko.viz")
    outside = [m for m in loaded - by_numpy if m not in sys.stdlib_module_names
               and m != "tinygrad_ko" and not m.startswith("_")]
    assert outside == []
