"""The documentation works as written: README.md, README.ko.md and docs/*.md.

- Every ```python block runs, each in a fresh namespace inside an empty temporary working
  folder. Blocks never depend on each other (not even on earlier blocks of the same file):
  each starts with its own imports. A ```text block that is the next code block after a
  python block is that block's printed output, and must match it.
- In ```bash / ```console blocks, and in inline code spans, every `tinygrad-ko ...` (or
  `python -m tinygrad_ko ...`) command parses with the real argument parser, and every
  `python examples/...` or `python tools/...` script exists. `pip install` and `pytest`
  lines are left alone.
- README.ko.md keeps in step with README.md, and docs/chapters.ko.md with
  docs/chapters.md: the same python code (comments may be translated), the same commands,
  the same output blocks, images and example links.
- The chapter maps cover the book's sections; each row of their table links an example
  that exists and that tests/test_examples.py runs.
- Relative links and images point at files that exist; the figures are small, hold no
  absolute paths or dates, and show what tools/make_doc_images.py draws today.
- Every public name of the package has a docstring with a runnable example (>>>).
"""

import argparse
import html
import importlib.util
import inspect
import re
import shlex
import shutil
import tokenize
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

import tinygrad_ko as tk
from tinygrad_ko.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "README.ko.md"] + sorted((ROOT / "docs").glob("*.md"))
# (English, Korean): kept in step
PAIRS = [("README.md", "README.ko.md"), ("docs/chapters.md", "docs/chapters.ko.md")]
CHAPTER_MAPS = ["docs/chapters.md", "docs/chapters.ko.md"]
TEST_EXAMPLES = ROOT / "tests" / "test_examples.py"
MAX_FIGURE_BYTES = 50_000


# --- reading markdown ---


@dataclass
class Block:
    path: str      # relative to the repository root
    line: int      # 1-based line of the opening fence
    lang: str
    code: str

    def __str__(self):
        return f"{self.path}:{self.line}"


_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")


def blocks(path):
    """The fenced code blocks of a markdown file, in order."""
    rel = Path(path).relative_to(ROOT).as_posix()
    found, current = [], None
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        match = _FENCE.match(line)
        if current is None:
            if match:
                indent, fence, lang = match.groups()
                current = (number, len(indent), fence, lang.lower(), [])
            continue
        start, indent, fence, lang, lines = current
        if line.strip() == fence or (line.strip().startswith(fence) and not line.strip().strip(fence[0])):
            found.append(Block(rel, start, lang, "\n".join(lines) + "\n"))
            current = None
        else:
            lines.append(line[indent:] if line[:indent].strip() == "" else line)
    assert current is None, f"{rel}:{current[0]}: code block never closed"
    return found


def prose(path):
    """The markdown text outside code blocks."""
    text = Path(path).read_text(encoding="utf-8")
    return re.sub(r"^(\s*)(```+|~~~+).*?^\1\2\s*$", "", text, flags=re.M | re.S)


def links(path):
    """Targets of [text](target) and ![alt](target) outside code blocks."""
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", prose(path))


def images(path):
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", prose(path))


def inline_code(path):
    """Inline `code` spans outside code blocks, whitespace (and line breaks) collapsed."""
    return [" ".join(span.split()) for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", prose(path))]


def table_rows(path):
    """The cells of every markdown table row (header and separator rows excluded)."""
    rows = []
    for line in prose(path).splitlines():
        line = line.strip()
        if not line.startswith("|") or re.fullmatch(r"\|[\s|:-]+\|", line):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append(cells)
    return rows


def python_blocks():
    return [b for path in DOCS for b in blocks(path) if b.lang in ("python", "py")]


def expected_output(block):
    """The ```text block that follows ``block`` as the next code block of its file, or None."""
    file_blocks = blocks(ROOT / block.path)
    index = [b.line for b in file_blocks].index(block.line)
    if index + 1 < len(file_blocks) and file_blocks[index + 1].lang in ("text", "output"):
        return file_blocks[index + 1].code
    return None


# --- the python blocks run ---


@pytest.mark.parametrize("block", python_blocks(), ids=str)
def test_python_block_runs(block, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__doc_block__"}
    exec(compile(block.code, str(block), "exec"), namespace)
    printed = capsys.readouterr().out
    expected = expected_output(block)
    if expected is not None:
        assert printed.strip() == expected.strip(), (
            f"{block}: the text block after it is not what it prints:\n{printed}")


def test_every_doc_has_python_blocks_found():
    counts = {path.name: sum(b.lang == "python" for b in blocks(path)) for path in DOCS}
    assert all(counts.values()), counts   # a fence the parser missed would hide a block


# --- commands ---


def _shell_commands(text):
    """The commands of a shell block: prompts ($ ) and comments removed, one list of words each."""
    commands = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        words = shlex.split(line, comments=True)
        if words:
            commands.append(words)
    return commands


def shell_blocks(path):
    return [b for b in blocks(path) if b.lang in ("bash", "console", "sh", "shell")]


def doc_commands():
    """(where, words) of every command in shell blocks and of every inline `tinygrad-ko ...` span."""
    found = []
    for path in DOCS:
        for block in shell_blocks(path):
            found += [(str(block), words) for words in _shell_commands(block.code)]
        rel = path.relative_to(ROOT).as_posix()
        for span in inline_code(path):
            if re.match(r"(tinygrad-ko|python -m tinygrad_ko) \S", span):
                found.append((f"{rel} (inline)", shlex.split(span)))
    unique = []
    for item in found:   # a command repeated in one file is checked once
        if item not in unique:
            unique.append(item)
    return unique


def _cli_argv(words):
    if words[0] == "tinygrad-ko":
        return words[1:]
    if words[:3] == ["python", "-m", "tinygrad_ko"]:
        return words[3:]
    return None


def strict_parser():
    """build_parser() without abbreviations: the docs must spell each option in full."""
    parser = build_parser()
    stack = [parser]
    while stack:
        p = stack.pop()
        p.allow_abbrev = False
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
    return parser


@pytest.mark.parametrize("where, words", doc_commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_command_in_docs_is_valid(where, words, capsys):
    argv = _cli_argv(words)
    if argv is not None:
        asks_help = "-h" in argv or "--help" in argv
        try:
            strict_parser().parse_args(argv)
        except SystemExit as exit_:
            if not (asks_help and exit_.code == 0):
                pytest.fail(f"{where}: `{' '.join(words)}` does not parse: {capsys.readouterr().err}")
        else:
            assert not asks_help
        return
    if words[0] in ("python", "python3") and len(words) > 1 and words[1].endswith(".py"):
        assert (ROOT / words[1]).is_file(), f"{where}: {words[1]} does not exist"
    # pip install, pytest, ...: left alone


def test_docs_show_the_main_commands():
    commands = {" ".join(w) for _, w in doc_commands()}
    assert {"pip install -e .[dev]", "pytest", "tinygrad-ko train"} <= commands


# --- translations kept in step ---


def _code_tokens(code):
    """Python tokens without comments or blank lines: translated comments compare equal."""
    skip = {tokenize.COMMENT, tokenize.NL}
    return [(t.type, t.string) for t in tokenize.generate_tokens(StringIO(code).readline) if t.type not in skip]


def _example_links(path):
    return [t for t in links(path) if "examples/" in t and t.endswith(".py")]


@pytest.mark.parametrize("english, korean", PAIRS)
def test_korean_doc_keeps_in_step(english, korean):
    en, ko = ROOT / english, ROOT / korean
    en_py = [b for b in blocks(en) if b.lang == "python"]
    ko_py = [b for b in blocks(ko) if b.lang == "python"]
    assert len(en_py) == len(ko_py), f"{english} has {len(en_py)} python blocks, {korean} {len(ko_py)}"
    for a, b in zip(en_py, ko_py):
        assert _code_tokens(a.code) == _code_tokens(b.code), f"{b} differs from {a} (beyond comments)"
    assert ([_shell_commands(b.code) for b in shell_blocks(en)]
            == [_shell_commands(b.code) for b in shell_blocks(ko)]), "the commands differ"
    assert ([b.code for b in blocks(en) if b.lang == "text"]
            == [b.code for b in blocks(ko) if b.lang == "text"]), "the output blocks differ"
    assert images(en) == images(ko)
    assert _example_links(en) == _example_links(ko)


def test_korean_and_english_link_each_other():
    assert "README.md" in links(ROOT / "README.ko.md")
    assert "README.ko.md" in links(ROOT / "README.md")
    assert "chapters.ko.md" in links(ROOT / "docs" / "chapters.md")
    assert "chapters.md" in links(ROOT / "docs" / "chapters.ko.md")


def test_korean_readme_says_where_training_writes_its_files():
    text = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    for name in ("runs/", "curves.png", "metrics.json", "weights.npz", "--out"):
        assert name in text


# --- the chapter maps ---

# (section, the book's names in the row, English topic words, Korean topic words)
TOPICS = [
    ("3.4", ["forward"], ["3-layer"], ["3층 신경망"]),
    ("3.6", ["init_network", "predict", "sample_weight.pkl"], ["handwritten digit"], ["손글씨 숫자 인식"]),
    ("4.2", ["sum_squared_error", "cross_entropy_error"], ["losses"], ["손실 함수"]),
    ("4.3.1-4.3.2", ["numerical_diff"], ["numerical differentiation"], ["수치 미분"]),
    ("4.3.3", ["numerical_diff"], ["partial derivatives"], ["편미분"]),
    ("4.4", ["numerical_gradient"], ["gradient"], ["기울기"]),
    ("4.4.1", ["gradient_descent"], ["gradient descent"], ["경사 하강법"]),
    ("4.4.2", ["simpleNet", "SimpleNet"], ["gradient of a network"], ["신경망에서의 기울기"]),
    ("4.5", ["TwoLayerNet"], ["training", "mini-batch", "epochs"], ["학습", "미니배치", "에폭"]),
    ("5.1-5.4", ["MulLayer", "AddLayer", "backward"], ["computational graph", "apple"], ["계산 그래프", "사과"]),
    ("5.5-5.6", ["Relu", "Sigmoid", "Affine", "SoftmaxWithLoss"], ["backprop"], ["역전파"]),
    ("5.7.3", ["gradient_check", "gradcheck"], ["gradient check"], ["기울기 확인"]),
    ("6.1", ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"], ["updating parameters"], ["매개변수 갱신"]),
    ("6.2", ["weight_init_std", "weight_init_compare.py"], ["initial weights", "Xavier", "He"], ["가중치의 초깃값"]),
    ("6.3", ["BatchNormalization", "use_batchnorm"], ["batch normalization"], ["배치 정규화"]),
    ("6.4", ["weight_decay_lambda", "Dropout", "Trainer"], ["overfitting", "weight decay", "dropout"],
     ["오버피팅", "가중치 감소", "드롭아웃"]),
    ("7.2-7.4", ["im2col", "col2im", "Convolution", "Pooling"], ["convolution", "pooling"], ["합성곱", "풀링"]),
    ("7.5", ["SimpleConvNet", "params.pkl"], ["implementing a CNN"], ["CNN 구현하기"]),
    ("7.6", ["visualize_filter.py"], ["visualizing", "filters"], ["시각화", "필터"]),
    ("8.1", ["DeepConvNet", "deep_convnet_params.pkl"], ["deeper"], ["더 깊게"]),
]


def _section_rows(path):
    """{section number: the row's text} of the map's table rows that start with a section number."""
    rows = {}
    for cells in table_rows(path):
        match = re.match(r"(\d\.\d+(?:\.\d+)?(?:-\d\.\d+(?:\.\d+)?)?)\s", cells[0] + " ")
        if match:
            rows[match.group(1)] = " | ".join(cells)
    return rows


@pytest.mark.parametrize("path", CHAPTER_MAPS)
def test_chapter_map_covers_the_books_sections(path):
    rows = _section_rows(ROOT / path)
    assert list(rows) == [t[0] for t in TOPICS], "the map's sections, in the book's order"
    for section, book_names, english, korean in TOPICS:
        row = rows[section]
        words = korean if path.endswith(".ko.md") else english
        for name in book_names + words:
            assert name in row, f"{path}: the row of {section} does not mention {name!r}"
        assert re.search(r"\]\(\.\./examples/\w+\.py\)", row), f"{path}: the row of {section} links no example"
        assert "`tk." in row or "`tinygrad-ko" in row, f"{path}: the row of {section} names no tinygrad_ko name"


@pytest.mark.parametrize("path", CHAPTER_MAPS)
def test_chapter_map_explains_the_differences(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    for fact in ("0.9352", "0.9890", "0.9935", "tk.UnsafePickleError", "10e-7", "1 - ratio", "dropout_ration",
                 "6.5", "half_float_network.py", "7.4.2",
                 "0.92806853663411326", "0.9280682857864075", "+1e-7", "1e-7", "Ctrl-C", "init_x",
                 "softmax_cross_entropy", "SoftmaxWithLoss", "float64", "params", "predict", ".npz", "pickle",
                 "Tensor.max", "tk.grad", "images/apple_graph.svg", "images/two_layer_net_loss.svg"):
        assert fact in text, f"{path} does not mention {fact!r}"


@pytest.mark.parametrize("path", CHAPTER_MAPS)
def test_chapter_map_links_examples_that_exist_and_are_tested(path):
    tested = TEST_EXAMPLES.read_text(encoding="utf-8")
    targets = _example_links(ROOT / path)
    assert targets
    for target in targets:
        script = (ROOT / path).parent / target
        assert script.is_file(), f"{path} links {target}, which does not exist"
        assert script.parent.resolve() == (ROOT / "examples").resolve()
        assert f'run("{script.stem}"' in tested, f"tests/test_examples.py does not run {script.name}"


# --- links and figures ---


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_files(path):
    for target in links(path):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = (path.parent / target.split("#")[0]).resolve()
        assert file.exists(), f"{path.name} links {target}, which does not exist"


def _load_image_tool():
    spec = importlib.util.spec_from_file_location("make_doc_images", ROOT / "tools" / "make_doc_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dot_labels(dot):
    r"""Every line of every label in a DOT text written by tk.viz (\n separates lines)."""
    lines = []
    for label in re.findall(r'label="((?:[^"\\]|\\.)*)"', dot):
        text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), label)
        lines += text.split("\n")
    return lines


def test_figures_are_the_ones_the_image_tool_draws():
    figures = {Path(t).name for path in DOCS for t in images(path) if t.startswith("images/")}
    assert figures == set(_load_image_tool().FIGURES), "docs and tools/make_doc_images.py disagree"


@pytest.mark.parametrize("name", ["apple_graph.svg", "two_layer_net_loss.svg"])
def test_figure_is_small_portable_and_up_to_date(name):
    path = ROOT / "docs" / "images" / name
    data = path.read_bytes()
    assert len(data) < MAX_FIGURE_BYTES, f"{name} is {len(data)} bytes"
    text = data.decode("utf-8")
    assert "<svg" in text
    assert not re.search(r"(/home/|/Users/|/tmp/|/work/|[A-Za-z]:\\)", text), f"{name} holds an absolute path"
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b|\b\d\d:\d\d:\d\d\b", text), f"{name} holds a date or time"
    dot = _load_image_tool().dot_texts()[name]
    for line in _dot_labels(dot):
        assert f">{html.escape(line, quote=False)}<" in text, (
            f"{name} lacks {line!r}: run python tools/make_doc_images.py")


def test_apple_figure_shows_the_books_gradients():
    text = (ROOT / "docs" / "images" / "apple_graph.svg").read_text(encoding="utf-8")
    for label in ("apple_price", ">200<", ">220<", ">grad 2.2<", ">grad 110<", ">grad 200<", ">grad 1.1<"):
        assert label in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_image_tool_writes_both_figures(tmp_path, capsys):
    assert _load_image_tool().main(["--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apple_graph.svg", "two_layer_net_loss.svg"]
    assert "wrote" in capsys.readouterr().out


# --- every public name has a runnable example ---

MODULES = [tk.functional, tk.nn, tk.optim, tk.datasets, tk.viz, tk.io]


def public_names():
    """{qualified name: object}: tk.__all__, and the public functions and classes of MODULES."""
    names = {f"tinygrad_ko.{name}": getattr(tk, name) for name in tk.__all__}
    for module in MODULES:
        listed = getattr(module, "__all__", None)
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if listed is not None and name not in listed:
                continue
            if listed is None and getattr(obj, "__module__", None) != module.__name__:
                continue   # imported from elsewhere, not this module's own name
            names.setdefault(f"{module.__name__}.{name}", obj)
    return names


def test_every_public_name_has_a_docstring_example():
    missing = sorted(name for name, obj in public_names().items() if ">>>" not in (obj.__doc__ or ""))
    assert not missing, ("these public names have no runnable example (>>>) in their docstring:\n    "
                         + "\n    ".join(missing))
