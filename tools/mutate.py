"""Mutation testing for tinygrad_ko: does the test suite notice when the code is wrong?

A small AST mutator (no dependency beyond the standard library and pytest).
It makes one small change to a module at a time (a mutant: ``+`` becomes
``-``, ``<`` becomes ``<=``, ``and`` becomes ``or``, a constant changes, a
statement is removed, a return value becomes None...), runs the chosen tests
against it in a scratch copy of the repository, and reports per module how
many mutants the tests killed (some test failed), how many survived (every
test passed: a behaviour change that no test notices) and how many timed out
(counted as killed: an infinite loop is noticed). Each survivor is listed as
``file:line`` with the change, to be judged: an equivalent mutant (the same
behaviour written differently, e.g. a threshold that only picks a faster path)
or a missing test.

Not part of CI: a campaign takes tens of minutes. Usage:

    python tools/mutate.py [-n 150] [--seed 0] [--jobs 2] [--modules PATH ...] [--tests PATH ...]
                           [--exclude-def NAME ...] [--equivalent FILE] [--json OUT] [--rerun OLD.json]
                           [--confirm] [--source DIR] [--list]

    python tools/mutate.py -n 150 --jobs 2 --json /tmp/mutants.json --exclude-def MultiLayerNetExtend
    python tools/mutate.py --rerun /tmp/mutants.json --equivalent tools/mutate_equivalent.txt
        # the same mutants after new tests: only the survivors run again, the score covers all of them

How it runs: the source tree (``--source``, default this repository) is copied
once per job into a temporary directory; for each mutant the module's file in
that copy is replaced, and ``python -m pytest -x -q -p no:cacheprovider`` runs
the module itself (its doctests) and the test files, with PYTHONPATH set to the
copy, no bytecode written, and a timeout (by default 3x the unmutated run, at
least 30 s more). The checkout itself is never modified, so other work can go on
in it. Mutants are sampled with ``--seed``, ``-n`` in total, spread over the
modules in proportion to how many mutants each has. Hypothesis runs its quick
"dev" profile with a fixed seed (``--profile``, ``--hypothesis-seed``);
``--confirm`` runs each survivor again with the suite's own "ci" profile (and
``--confirm-tests`` with more test files) before it is reported.

``--equivalent FILE``: lines ``path | mutation`` (as printed for a survivor,
without the line number, which shifts as code changes) followed by ``# why``;
those survivors are reported as equivalent and left out of the score.

Exit status: 0 when every module's score reaches ``--target`` (default 0.97)
of the non-equivalent mutants, 1 otherwise, 2 when the unmutated tests fail.
"""

import argparse
import ast
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULT_MODULES = ["tinygrad_ko/autograd.py", "tinygrad_ko/functional/activations.py",
                   "tinygrad_ko/functional/losses.py", "tinygrad_ko/models/base.py", "tinygrad_ko/models/mlp.py"]
# The fast tests that exercise those modules. For each module the files that test it most directly
# run first (pytest -x stops at the first failure, so a mutant is usually killed within seconds).
FAST_TESTS = ["tests/test_engine.py", "tests/test_graph_lifetime.py", "tests/test_op_gradients.py",
              "tests/test_models.py", "tests/test_book_nets.py", "tests/test_losses.py", "tests/test_anomaly.py",
              "tests/test_errors.py", "tests/test_mutation_survivors.py"]
FIRST_TESTS = {
    "autograd.py": ["tests/test_engine.py", "tests/test_graph_lifetime.py", "tests/test_anomaly.py"],
    "activations.py": ["tests/test_op_gradients.py", "tests/test_losses.py", "tests/test_mutation_survivors.py"],
    "losses.py": ["tests/test_losses.py", "tests/test_mutation_survivors.py", "tests/test_op_gradients.py"],
    "base.py": ["tests/test_models.py", "tests/test_book_nets.py"],
    "mlp.py": ["tests/test_models.py", "tests/test_book_nets.py"],
}
IGNORED = shutil.ignore_patterns(".git", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache",
                                 ".benchmarks", "*.egg-info", "build", "dist", ".venv", "venv", "*.pyc")


# --- making mutants ---------------------------------------------------------------------


@dataclass
class Mutant:
    path: str          # relative to the repository root
    line: int
    kind: str          # which operator made it
    description: str   # `before` -> `after`
    start: tuple       # (line, col) of the replaced text, 1-based line, 0-based col as ast gives
    end: tuple
    replacement: str
    status: str = ""   # killed | survived | timeout | error | equivalent
    seconds: float = 0.0
    detail: str = ""   # the first failing test, or why it is equivalent

    def key(self):
        """What identifies a mutant across edits that move lines: the file and the change."""
        return f"{self.path} | {self.description}"


BINARY_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
                ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.BitAnd: ast.BitOr,
                ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr, ast.LShift: ast.RShift, ast.RShift: ast.LShift}
COMPARE_SWAPS = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE,
                 ast.GtE: ast.Gt, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
TOKENS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
          ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
          ast.RShift: ">>", ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
          ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
          ast.And: "and", ast.Or: "or"}


class _Source:
    """A module's text with conversions between ast positions and string offsets."""

    def __init__(self, text):
        self.text = text
        self.line_starts = [0]
        for line in text.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))

    def offset(self, line, col):
        # ast columns are UTF-8 byte offsets; convert within the line
        start = self.line_starts[line - 1]
        line_text = self.text[start:self.line_starts[line]] if line < len(self.line_starts) else self.text[start:]
        return start + len(line_text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def segment(self, start, end):
        return self.text[self.offset(*start):self.offset(*end)]

    def apply(self, mutant):
        a, b = self.offset(*mutant.start), self.offset(*mutant.end)
        return self.text[:a] + mutant.replacement + self.text[b:]


def _start(node):
    return (node.lineno, node.col_offset)


def _end(node):
    return (node.end_lineno, node.end_col_offset)


def _short(text, limit=60):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Collector(ast.NodeVisitor):
    """Walks a module and proposes mutants; skips docstrings, f-strings, messages and excluded defs."""

    def __init__(self, path, source, exclude_defs):
        self.path, self.source, self.exclude_defs = path, source, set(exclude_defs)
        self.mutants = []
        self.skip_depth = 0  # > 0 inside code whose mutation is not behaviour (messages, docstrings)
        self.compare_depth = 0
        self.containers = set()  # ids of string constants tested with `in` (mutated by dropping a character)

    # helpers
    def add(self, node_or_start, end, kind, replacement, before=None):
        start = node_or_start if isinstance(node_or_start, tuple) else _start(node_or_start)
        before = self.source.segment(start, end) if before is None else before
        if before == replacement:
            return
        description = f"{kind}: `{_short(before)}` -> `{_short(replacement)}`"
        if len(before) < 25:  # a constant or a short statement: the line tells where it is
            line = self.source.text.splitlines()[start[0] - 1]
            if line.strip() != before:
                description += f" in `{_short(line, 70)}`"
        self.mutants.append(Mutant(self.path, start[0], kind, description, start, end, replacement))

    def operator_token(self, left, right, op):
        """Start and end of ``op``'s token in the text between two operands (None if not found once)."""
        gap = self.source.segment(_end(left), _start(right))
        # comments blanked out, not removed, so that offsets in `code` are offsets in `gap`
        code = "\n".join(p if "#" not in p else p[:p.index("#")] + " " * (len(p) - p.index("#"))
                         for p in gap.split("\n"))
        token = TOKENS[type(op)]
        words = token.split()
        # tokens made of words need word boundaries; symbols must not be part of a longer symbol
        hits = []
        i = code.find(words[0])
        while i >= 0:
            hits.append(i)
            i = code.find(words[0], i + 1)
        hits = [h for h in hits if self._is_token_at(code, h, token)]
        if len(hits) != 1:
            return None
        length = self._token_length(code, hits[0], token)
        base = self.source.offset(*_end(left))
        return base + hits[0], base + hits[0] + length

    @staticmethod
    def _is_token_at(code, i, token):
        symbols = "+-*/%@&|^<>=!"
        if token[0].isalpha():
            words = token.split()
            rest = code[i:]
            parts = rest.split(None, len(words))
            if parts[:len(words)] != words:
                return False
            before = code[i - 1] if i else " "
            after_index = i + _Collector._token_length(code, i, token)
            after = code[after_index] if after_index < len(code) else " "
            return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")
        before = code[i - 1] if i else " "
        after = code[i + len(token)] if i + len(token) < len(code) else " "
        return code.startswith(token, i) and before not in symbols and after not in symbols

    @staticmethod
    def _token_length(code, i, token):
        if not token[0].isalpha():
            return len(token)
        j = i
        for n, word in enumerate(token.split()):
            if n:
                while code[j].isspace():
                    j += 1
            j += len(word)
        return j - i

    def add_token(self, left, right, op, new_op, kind, node):
        where = self.operator_token(left, right, op)
        if where is None:
            return
        a, b = where
        text = self.source.text
        line = text.count("\n", 0, a) + 1
        col_a = len(text[text.rfind("\n", 0, a) + 1:a].encode("utf-8"))
        col_b = col_a + len(text[a:b].encode("utf-8"))
        end_line = line + text.count("\n", a, b)
        self.mutants.append(Mutant(
            self.path, line, kind,
            f"{kind}: `{_short(self.source.segment(_start(node), _end(node)))}` with `{TOKENS[type(op)]}` -> "
            f"`{TOKENS[new_op]}`", (line, col_a), (end_line, col_b), TOKENS[new_op]))

    # skipping
    def skipped(self, node):
        self.skip_depth += 1
        self.generic_visit(node)
        self.skip_depth -= 1

    def visit_JoinedStr(self, node):
        self.skipped(node)

    def visit_Raise(self, node):
        if not self.skip_depth:
            self.add(node, _end(node), "remove raise", "pass")
        self.skipped(node)

    def visit_keyword(self, node):
        if node.arg == "stacklevel":
            return self.skipped(node)
        self.generic_visit(node)

    def _visit_body(self, body):
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # a docstring
        for stmt in body:
            self.visit(stmt)

    def visit_Module(self, node):
        self._visit_body(node.body)

    def _visit_def(self, node):
        if node.name in self.exclude_defs:
            return
        for decorator in node.decorator_list:
            self.visit(decorator)
        if isinstance(node, ast.ClassDef):
            for item in node.bases + node.keywords:
                self.visit(item)
        else:
            self.visit(node.args)
            if node.returns:
                self.skipped(node.returns)
        self._visit_body(node.body)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _visit_def

    def visit_arg(self, node):
        pass  # annotations are not behaviour

    def visit_If(self, node):
        test = node.test
        if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__":
            return
        self.generic_visit(node)

    # statements
    def visit_Expr(self, node):
        if not self.skip_depth and isinstance(node.value, ast.Call):
            self.add(node, _end(node), "remove call", "pass")
        self.generic_visit(node)

    def visit_Assign(self, node):
        if not self.skip_depth and all(isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets):
            self.add(node, _end(node), "remove assignment", "pass")
        self.visit(node.value)
        for target in node.targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                self.visit_target(target)

    def visit_target(self, target):
        """Mutate inside a subscript's index (x[i + 1] = ...), never the name assigned to."""
        if isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
        elif isinstance(target, ast.Attribute):
            self.visit(target.value)

    def visit_AugAssign(self, node):
        if not self.skip_depth:
            self.add(node, _end(node), "remove augmented assignment", "pass")
            new = BINARY_SWAPS.get(type(node.op))
            if new is not None:
                self.add_token(node.target, node.value, node.op, new, "augmented operator", node)
        self.visit_target(node.target)
        self.visit(node.value)

    def visit_Return(self, node):
        if not self.skip_depth and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            self.add(node, _end(node), "return None", "return None")
        self.generic_visit(node)

    def visit_Continue(self, node):
        if not self.skip_depth:
            self.add(node, _end(node), "remove continue", "pass")

    def visit_Break(self, node):
        if not self.skip_depth:
            self.add(node, _end(node), "remove break", "pass")

    # expressions
    def visit_BinOp(self, node):
        strings = (ast.JoinedStr,)
        is_text = any(isinstance(v, strings) or (isinstance(v, ast.Constant) and isinstance(v.value, str))
                      for v in (node.left, node.right))
        new = BINARY_SWAPS.get(type(node.op))
        if not self.skip_depth and not is_text and new is not None:
            self.add_token(node.left, node.right, node.op, new, "binary operator", node)
        self.generic_visit(node)

    def visit_Compare(self, node):
        if not self.skip_depth:
            operands = [node.left] + node.comparators
            for i, op in enumerate(node.ops):
                new = COMPARE_SWAPS.get(type(op))
                if new is not None:
                    self.add_token(operands[i], operands[i + 1], op, new, "comparison", node)
                right = operands[i + 1]
                if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Constant):
                    self.containers.add(id(right))
        self.compare_depth += 1
        self.generic_visit(node)
        self.compare_depth -= 1

    def visit_BoolOp(self, node):
        if not self.skip_depth:
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            for left, right in zip(node.values, node.values[1:]):
                self.add_token(left, right, node.op, new, "boolean operator", node)
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if not self.skip_depth and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
            operand = self.source.segment(_start(node.operand), _end(node.operand))
            kind = "remove not" if isinstance(node.op, ast.Not) else "remove unary minus" \
                if isinstance(node.op, ast.USub) else "remove ~"
            self.add(node, _end(node), kind, f"({operand})")
        self.generic_visit(node)

    def visit_Constant(self, node):
        if self.skip_depth:
            return
        value = node.value
        if isinstance(value, bool):
            self.add(node, _end(node), "boolean constant", str(not value))
        elif isinstance(value, int):
            self.add(node, _end(node), "number", repr(value + 1))
        elif isinstance(value, float) and math.isfinite(value):
            self.add(node, _end(node), "number", repr(value + 1.0 if value else 1.0))
        elif isinstance(value, str) and id(node) in self.containers:
            self.add(node, _end(node), "string", repr(value[1:]))  # "iu" -> "u": one kind fewer
        elif isinstance(value, str) and self.compare_depth:
            self.add(node, _end(node), "string", repr("XX" + value + "XX"))

    def visit_Dict(self, node):
        for key in node.keys:
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and not self.skip_depth:
                self.add(key, _end(key), "string", repr("XX" + key.value + "XX"))
            elif key is not None:
                self.visit(key)
        for value in node.values:
            self.visit(value)


def mutants_of(root, path, exclude_defs=()):
    """Every mutant of the module at ``root/path`` that compiles and changes the module's AST."""
    with open(os.path.join(root, path), encoding="utf-8") as fh:
        source = _Source(fh.read())
    original = ast.dump(ast.parse(source.text))
    collector = _Collector(path, source, exclude_defs)
    collector.visit(ast.parse(source.text))
    kept, seen, described = [], set(), {}
    for mutant in collector.mutants:
        text = source.apply(mutant)
        try:
            tree = ast.parse(text)
            compile(tree, path, "exec")
        except SyntaxError:
            continue
        dump = ast.dump(tree)
        if dump == original or dump in seen:
            continue
        seen.add(dump)
        described[mutant.description] = described.get(mutant.description, 0) + 1
        if described[mutant.description] > 1:  # the same code twice in the file: keys must differ
            mutant.description += f" (occurrence {described[mutant.description]})"
        kept.append(mutant)
    return kept


def sample(mutants_by_module, total, seed):
    """``total`` mutants, spread over the modules in proportion to their counts (largest remainder)."""
    counts = {m: len(v) for m, v in mutants_by_module.items()}
    everything = sum(counts.values())
    if total >= everything:
        return {m: list(v) for m, v in mutants_by_module.items()}
    shares = {m: total * c / everything for m, c in counts.items()}
    quota = {m: min(counts[m], max(1, int(s))) for m, s in shares.items()}
    for m in sorted(shares, key=lambda m: shares[m] - int(shares[m]), reverse=True):
        if sum(quota.values()) >= total:
            break
        if quota[m] < counts[m]:
            quota[m] += 1
    rng = random.Random(seed)
    picked = {}
    for m in mutants_by_module:
        chosen = rng.sample(range(counts[m]), quota[m])
        picked[m] = [mutants_by_module[m][i] for i in sorted(chosen)]
    return picked


# --- running the tests ------------------------------------------------------------------


def copy_tree(source, prefix="mutate-"):
    scratch = tempfile.mkdtemp(prefix=prefix)
    root = os.path.join(scratch, "repo")
    shutil.copytree(source, root, ignore=IGNORED, symlinks=True)
    return scratch, root


def run_tests(root, tests, options, timeout):
    """(status, seconds, detail) of ``pytest -x`` on ``tests`` in the copy at ``root``."""
    shutil.rmtree(os.path.join(root, ".hypothesis"), ignore_errors=True)  # no examples from an earlier mutant
    env = dict(os.environ, PYTHONPATH=root, PYTHONDONTWRITEBYTECODE="1", HYPOTHESIS_PROFILE=options.profile,
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", MPLBACKEND="Agg")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               f"--hypothesis-seed={options.hypothesis_seed}", "--no-header", "-rfE", "--tb=line", *tests]
    if options.nice and shutil.which("nice"):
        command = ["nice", "-n", str(options.nice)] + command
    began = time.monotonic()
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "timeout", time.monotonic() - began, f"no result after {timeout:.0f} s"
    seconds = time.monotonic() - began
    if process.returncode == 0:
        return "survived", seconds, ""
    if process.returncode == 5:
        return "error", seconds, "no tests ran (pytest exit status 5)"
    return "killed", seconds, _first_failure(output)


def _first_failure(output):
    lines = output.splitlines()
    for wanted in (lambda line: line.startswith(("FAILED", "ERROR")), lambda line: "Error" in line):
        for line in lines:
            if wanted(line):
                return _short(line, 160)
    lines = [line for line in output.splitlines() if line.strip()]
    return _short(lines[-1] if lines else "", 160)


def chosen_tests(path, tests):
    """The module itself (its doctests), then its most direct test files, then the rest."""
    first = [t for t in FIRST_TESTS.get(os.path.basename(path), []) if t in tests]
    return [path] + first + [t for t in tests if t not in first]


class Worker:
    """One scratch copy of the tree; applies one mutant at a time to it."""

    def __init__(self, source):
        self.scratch, self.root = copy_tree(source)

    def run(self, mutant, text, tests, options, timeout):
        target = os.path.join(self.root, mutant.path)
        with open(target, encoding="utf-8") as fh:
            original = fh.read()
        try:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(text)
            return run_tests(self.root, tests, options, timeout)
        finally:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(original)

    def close(self):
        shutil.rmtree(self.scratch, ignore_errors=True)


def run_campaign(picked, sources, options, timeouts):
    """Run every picked mutant on ``options.jobs`` workers; fills in each mutant's status."""
    queue = [m for mutants in picked.values() for m in mutants if not m.status]  # --rerun: survivors only
    queue.sort(key=lambda m: -len(sources[m.path].text))  # no order effect on results; mixes modules less
    lock = threading.Lock()
    done = [0]
    total = len(queue)

    def work():
        worker = Worker(options.source)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    mutant = queue.pop()
                text = sources[mutant.path].apply(mutant)
                tests = chosen_tests(mutant.path, options.tests)
                mutant.status, mutant.seconds, mutant.detail = worker.run(
                    mutant, text, tests, options, timeouts[mutant.path])
                if mutant.status == "survived" and options.confirm:
                    confirm = argparse.Namespace(**{**vars(options), "profile": "ci"})
                    more = tests + [t for t in options.confirm_tests if t not in tests]
                    status, seconds, detail = worker.run(mutant, text, more, confirm, 4 * timeouts[mutant.path])
                    mutant.seconds += seconds
                    if status != "survived":
                        mutant.status, mutant.detail = status, "(confirm run) " + detail
                with lock:
                    done[0] += 1
                    print(f"[{done[0]:3d}/{total}] {mutant.status:8s} {mutant.seconds:5.1f}s "
                          f"{mutant.path}:{mutant.line} {mutant.description}", flush=True)
        finally:
            worker.close()

    threads = [threading.Thread(target=work) for _ in range(options.jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return total


def baseline(options, modules):
    """Seconds the unmutated tests take (the modules' doctests and every test file); exits 2 if they fail."""
    worker = Worker(options.source)
    try:
        status, seconds, detail = run_tests(worker.root, list(modules) + options.tests, options, 3600)
        print(f"baseline (unmutated): {status} in {seconds:.1f}s {detail}", flush=True)
        if status != "survived":
            print("the unmutated tests fail; fix them first", file=sys.stderr)
            sys.exit(2)
        return seconds
    finally:
        worker.close()


# --- reporting ----------------------------------------------------------------------------


def read_equivalent(path):
    """{key: reason} from lines ``path | mutation  # reason``."""
    reasons = {}
    if not path:
        return reasons
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, _, reason = line.partition("  # ")
            reasons[key.strip()] = reason.strip()
    return reasons


def report(picked, equivalent, target):
    """Print the score per module and the survivors; True when every module reaches ``target``."""
    ok = True
    rows = []
    for path, mutants in picked.items():
        for m in mutants:
            if m.status == "survived" and m.key() in equivalent:
                m.status, m.detail = "equivalent", equivalent[m.key()]
        count = {s: sum(m.status == s for m in mutants) for s in
                 ("killed", "timeout", "survived", "equivalent", "error")}
        judged = count["killed"] + count["timeout"] + count["survived"]
        score = (count["killed"] + count["timeout"]) / judged if judged else 1.0
        ok &= score >= target
        rows.append((path, len(mutants), count, score))
    print(f"\n{'module':40s} {'mutants':>7s} {'killed':>6s} {'timeout':>7s} {'survived':>8s} {'equiv.':>6s} "
          f"{'error':>5s} {'score':>6s}")
    totals = {s: 0 for s in ("killed", "timeout", "survived", "equivalent", "error")}
    for path, n, count, score in rows:
        for s in totals:
            totals[s] += count[s]
        print(f"{path:40s} {n:7d} {count['killed']:6d} {count['timeout']:7d} {count['survived']:8d} "
              f"{count['equivalent']:6d} {count['error']:5d} {score:6.1%}")
    judged = totals["killed"] + totals["timeout"] + totals["survived"]
    if judged:
        print(f"{'all':40s} {sum(r[1] for r in rows):7d} {totals['killed']:6d} {totals['timeout']:7d} "
              f"{totals['survived']:8d} {totals['equivalent']:6d} {totals['error']:5d} "
              f"{(totals['killed'] + totals['timeout']) / judged:6.1%}")
    print("score = (killed + timeout) / (killed + timeout + survived); equivalent mutants and errors left out")
    for status in ("survived", "equivalent", "error"):
        listed = [m for mutants in picked.values() for m in mutants if m.status == status]
        if listed:
            print(f"\n{status}:")
            for m in listed:
                print(f"  {m.path}:{m.line}: {m.description}" + (f"  # {m.detail}" if m.detail else ""))
    return ok


def _earlier_results(path, available):
    """The mutants of an earlier run (its --json), found again in today's source; only its survivors are
    left to run (status ""): the others keep their earlier result, since tests are only ever added."""
    with open(path, encoding="utf-8") as fh:
        earlier = {(m["path"], m["description"]): m for m in json.load(fh)["mutants"]}
    picked = {}
    for p, mutants in available.items():
        picked[p] = []
        for m in mutants:
            old = earlier.pop((m.path, m.description), None)
            if old is None:
                continue
            if old["status"] not in ("survived", "equivalent"):
                m.status, m.seconds, m.detail = old["status"], old["seconds"], old["detail"]
            picked[p].append(m)
    if earlier:
        print(f"{len(earlier)} mutant(s) of {path} no longer exist in the source (the code changed): "
              + "; ".join(f"{p}: {d}" for p, d in earlier))
    return picked


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", nargs="+", default=DEFAULT_MODULES, help="files to mutate, from the root")
    parser.add_argument("--tests", nargs="+", default=FAST_TESTS, help="test files run against each mutant")
    parser.add_argument("-n", "--count", type=int, default=150, help="mutants to sample in all (default 150)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 3x the unmutated run, +30 s)")
    parser.add_argument("--profile", default="dev", help="Hypothesis profile for the runs (default dev)")
    parser.add_argument("--hypothesis-seed", type=int, default=0)
    parser.add_argument("--nice", type=int, default=10, help="niceness of the test processes (default 10)")
    parser.add_argument("--exclude-def", nargs="*", default=[], help="functions or classes not to mutate")
    parser.add_argument("--equivalent", help="file of survivors judged equivalent: 'path | mutation  # why'")
    parser.add_argument("--confirm", action="store_true", help="rerun survivors with the 'ci' profile")
    parser.add_argument("--confirm-tests", nargs="*", default=[], help="more test files for --confirm runs")
    parser.add_argument("--rerun", help="a --json file of an earlier run: run its survivors again, keep the "
                                        "other results, report on all its mutants")
    parser.add_argument("--json", help="write every mutant and its result to this file")
    parser.add_argument("--source", default=REPO, help="the tree to copy and mutate (default: this repository)")
    parser.add_argument("--target", type=float, default=0.97, help="score each module must reach")
    parser.add_argument("--list", action="store_true", help="list the sampled mutants and stop")
    options = parser.parse_args(argv)
    snapshot_dir, options.source = copy_tree(os.path.abspath(options.source), prefix="mutate-source-")
    try:  # one snapshot: mutants and every worker's copy come from the same files, whatever changes meanwhile
        return _main(options)
    finally:
        shutil.rmtree(snapshot_dir, ignore_errors=True)


def _main(options):
    missing = [t for t in options.tests if not os.path.exists(os.path.join(options.source, t))]
    if missing:
        print(f"not in the source tree, left out: {' '.join(missing)}")
        options.tests = [t for t in options.tests if t not in missing]
    sources, available = {}, {}
    for path in options.modules:
        with open(os.path.join(options.source, path), encoding="utf-8") as fh:
            sources[path] = _Source(fh.read())
        available[path] = mutants_of(options.source, path, options.exclude_def)
    if options.rerun:
        picked = _earlier_results(options.rerun, available)
    else:
        picked = sample(available, options.count, options.seed)
    print("mutants available / sampled: " + ", ".join(
        f"{p} {len(available[p])}/{len(picked[p])}" for p in options.modules), flush=True)
    if options.list:
        for mutants in picked.values():
            for m in mutants:
                print(f"  {m.path}:{m.line}: {m.description}")
        return 0

    seconds = baseline(options, [p for p in options.modules if picked[p]])
    timeouts = {p: options.timeout or max(3 * seconds, seconds + 30) for p in options.modules}
    began = time.monotonic()
    ran = run_campaign(picked, sources, options, timeouts)
    print(f"\n{ran} mutants run in {time.monotonic() - began:.0f} s with {options.jobs} job(s)")
    ok = report(picked, read_equivalent(options.equivalent), options.target)
    if options.json:
        with open(options.json, "w", encoding="utf-8") as fh:
            json.dump({"options": vars(options),
                       "mutants": [asdict(m) for ms in picked.values() for m in ms]}, fh, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
