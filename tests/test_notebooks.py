"""The chapter notebooks in notebooks/: committed without outputs, and each runs top to bottom.

Each notebook is executed by a real Jupyter kernel (nbclient + ipykernel, the
dev extra) from an empty temporary folder, with ``QUICK=1``: the notebooks
then use fewer steps and smaller samples (10-25 s each on a busy 2-core
machine, most of it starting the kernel and drawing the figures). A kernel
error, an exception or a warning in any cell fails the test, and so does a
plot that does not show. The learner's default settings run the same code
with larger numbers (under 2 minutes each). To leave the notebooks out of a
quick local run: ``pytest -k "not runs_top_to_bottom"``.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CHAPTERS = ["ch03", "ch04", "ch05", "ch06", "ch07", "ch08"]
STRIP = ROOT / "tools" / "strip_notebooks.py"
CELL_TIMEOUT = 300   # seconds for one cell; QUICK cells take a few seconds
BACKEND_PROBE = "import matplotlib\nprint('matplotlib backend:', matplotlib.get_backend())"


def run_strip(*args):
    return subprocess.run([sys.executable, str(STRIP), *map(str, args)], capture_output=True, text=True,
                          check=False)


def load_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("strip_notebooks", STRIP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the notebooks as committed ---


def test_one_notebook_per_chapter_3_to_8():
    assert [p.name[:4] for p in NOTEBOOKS] == CHAPTERS


def test_committed_notebooks_have_no_outputs():
    done = run_strip("--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(NOTEBOOKS)} notebooks clean" in done.stdout


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_a_korean_title_a_colab_link_and_the_package_check(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    first, setup = ("".join(cell["source"]) for cell in notebook["cells"][:2])
    chapter = int(path.name[2:4])
    assert first.startswith(f"# {chapter}장 ")
    assert "https://colab.research.google.com/github/" in first and f"/blob/main/notebooks/{path.name}" in first
    assert "import tinygrad_ko as tk" in setup and "except ImportError" in setup
    assert "!pip install" in setup and 'pip install -e ".[dev]"' in setup
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


# --- the strip tool ---


def dirty_notebook():
    """A notebook as Jupyter or Colab saves it after a run."""
    return {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {"colab": {"id": "x"}}, "source": ["# 제목\n"]},
            {"cell_type": "code", "id": "b", "execution_count": 3,
             "metadata": {"tags": ["slow"], "execution": {"iopub.execute_input": "2025-01-01T00:00:00Z"},
                          "scrolled": True},
             "outputs": [{"output_type": "stream", "name": "stdout", "text": ["220\n"]},
                         {"output_type": "display_data", "metadata": {},
                          "data": {"image/png": "iVBORw0KGgo=", "text/plain": ["<Figure>"]}}],
             "source": ["print(220)"]},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"},
                     "colab": {"provenance": []}, "widgets": {"state": {}}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def write_json(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def test_strip_clears_outputs_counts_and_metadata_noise(tmp_path):
    path = tmp_path / "dirty.ipynb"
    write_json(path, dirty_notebook())
    done = run_strip(path)
    assert done.returncode == 0, done.stderr
    assert "outputs, execution counts, cell metadata, notebook metadata" in done.stdout
    clean = json.loads(path.read_text(encoding="utf-8"))
    markdown, code = clean["cells"]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["slow"]} and markdown["metadata"] == {}
    assert code["source"] == ["print(220)"] and markdown["source"] == ["# 제목\n"]   # sources untouched
    assert code["id"] == "b"
    assert clean["metadata"] == {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                 "language_info": {"name": "python"}}
    assert "제목" in path.read_text(encoding="utf-8")   # UTF-8, not \\u escapes, as Jupyter writes
    before = path.read_bytes()
    again = run_strip(path, "--check")
    assert again.returncode == 0 and path.read_bytes() == before
    assert run_strip(path).returncode == 0 and path.read_bytes() == before   # nothing left to change


def test_check_lists_notebooks_with_outputs_and_changes_nothing(tmp_path):
    clean = tmp_path / "clean.ipynb"
    tool = load_tool()
    write_json(clean, tool.strip(dirty_notebook())[0])
    dirty = tmp_path / "sub" / "dirty.ipynb"
    dirty.parent.mkdir()
    write_json(dirty, dirty_notebook())
    checkpoint = tmp_path / ".ipynb_checkpoints" / "dirty-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    write_json(checkpoint, dirty_notebook())   # Jupyter's autosaves are not the repository's notebooks
    before = dirty.read_bytes()
    done = run_strip("--check", tmp_path)
    assert done.returncode == 1
    assert str(dirty) in done.stdout and "outputs" in done.stdout
    assert str(clean) not in done.stdout and "checkpoint" not in done.stdout
    assert "1 of 2 notebooks are not clean" in done.stderr
    assert dirty.read_bytes() == before


def test_strip_refuses_what_is_not_a_notebook(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    done = run_strip(broken)
    assert done.returncode == 2 and "broken.ipynb is not a notebook" in done.stderr
    done = run_strip(tmp_path / "missing.ipynb")
    assert done.returncode == 2 and "missing.ipynb" in done.stderr


# --- running them ---


def image_count(cell):
    return sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))


def shown_graphs(notebook):
    """The outputs of cells that displayed a tk.viz graph (text/plain of a DotGraph starts with 'digraph')."""
    found = []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            if str(out.get("data", {}).get("text/plain", "")).startswith("digraph"):
                found.append(out["data"])
    return found


@pytest.fixture
def kernel_environment(monkeypatch):
    """The environment the kernel inherits: quick settings, one BLAS thread, a plain Jupyter set-up."""
    monkeypatch.setenv("QUICK", "1")
    monkeypatch.delenv("FULL", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)   # as a learner's Jupyter: the kernel chooses
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")   # as tests/conftest.py pins BLAS, for speed on a busy 2-core machine
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")   # jupyter_core's paths, without its migration warning


def test_setup_cell_says_in_korean_what_to_install_when_tinygrad_ko_is_missing(tmp_path, kernel_environment):
    import nbformat
    from nbclient import NotebookClient

    setups = {"".join(json.loads(p.read_text(encoding="utf-8"))["cells"][1]["source"]) for p in NOTEBOOKS}
    assert len(setups) == 1   # one setup cell, the same in every notebook
    (setup,) = setups
    hide = "import sys\nsys.modules['tinygrad_ko'] = None   # makes `import tinygrad_ko` fail, as when not installed"
    colab = "import types\nsys.modules['google.colab'] = types.ModuleType('google.colab')   # as in Colab"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (hide, setup, colab, setup)]
    NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    (local,) = notebook.cells[1].outputs
    (on_colab,) = notebook.cells[3].outputs
    for out in (local, on_colab):
        assert out.output_type == "error" and out.ename == "ImportError"
        assert out.evalue.startswith("tinygrad_ko 패키지가 없습니다.") and "다시 실행하세요" in out.evalue
    assert 'pip install -e ".[dev]"' in local.evalue and "%pip install" in local.evalue
    assert "!pip install" not in local.evalue
    assert '!pip install "tinygrad-ko[plot] @ git+https://github.com/' in on_colab.evalue
    assert 'pip install -e ".[dev]"' not in on_colab.evalue


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, kernel_environment):
    import nbformat  # nbclient, nbformat and ipykernel come with the dev extra
    from nbclient import NotebookClient

    source_before = path.read_bytes()
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(BACKEND_PROBE))
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()   # raises CellExecutionError (with the cell and its traceback) if any cell fails

    probe = "".join(out.get("text", "") for out in notebook.cells[-1].outputs)
    # Never a window: Jupyter's inline backend (named "inline" or by its module, as matplotlib's
    # version has it) or Agg.
    backend = probe.split(":", 1)[-1].strip().lower()
    assert "inline" in backend or backend == "agg", probe
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        last_line = cell.source.rstrip().splitlines()[-1]
        if last_line == "plt.show()" or last_line.startswith("history.plot("):
            assert image_count(cell) >= 1, f"cell {number} drew no figure:\n{cell.source}"
        for out in cell.outputs:
            text = out.get("text", "") if out.output_type == "stream" and out.name == "stderr" else ""
            for line in text.splitlines():   # a warning is a bug to fix (tqdm's note on ipywidgets aside)
                if "Warning" in line and "IProgress not found" not in line:
                    pytest.fail(f"cell {number} warned: {line}\n{cell.source}")
    if path.name.startswith("ch05"):
        graphs = shown_graphs(notebook)
        assert len(graphs) >= 4
        for data in graphs:   # a picture with Graphviz, else the note on installing it and the DOT text
            if shutil.which("dot"):
                assert "<svg" in data["image/svg+xml"] and "text/markdown" not in data
            else:
                assert "graphviz" in data["text/markdown"].lower() and "```dot" in data["text/markdown"]
    assert os.listdir(tmp_path) == []            # a notebook writes no files
    assert path.read_bytes() == source_before    # and the repository's copy is untouched
