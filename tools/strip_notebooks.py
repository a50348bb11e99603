"""Clear the outputs of Jupyter notebooks, so that only their source is committed.

    python tools/strip_notebooks.py                  # every notebook under notebooks/, in place
    python tools/strip_notebooks.py a.ipynb folder/  # these notebooks (folders: every .ipynb inside)
    python tools/strip_notebooks.py --check          # change nothing; exit 1 and list what is not clean

Stripping empties each code cell's outputs and execution count, keeps only the
``tags`` of each cell's metadata (Jupyter, nbclient and Colab add timings,
scroll state, ids), and keeps only the kernel's name and language in the
notebook's metadata (``kernelspec``, ``language_info.name``). Sources, cell
ids and attachments are left as they are. A notebook is rewritten only when
something changes, in the layout Jupyter itself writes (one-space indent,
sorted keys, UTF-8), so saving it again in Jupyter gives the same file.
``tests/test_notebooks.py`` runs ``--check`` on the repository. Standard
library only.
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / "notebooks"
CELL_METADATA_KEPT = ("tags",)
KERNELSPEC_KEPT = ("display_name", "language", "name")


def find_notebooks(paths):
    """The .ipynb files named in ``paths`` or lying in the folders named there, sorted, checkpoints skipped."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"strip_notebooks: {path} is neither a .ipynb file nor a folder")
    return sorted(set(found))


def strip(notebook):
    """Return (stripped copy of the notebook dict, list of what was removed: 'outputs', ...)."""
    removed = set()
    clean = dict(notebook)
    clean["cells"] = []
    for cell in notebook.get("cells", []):
        cell = dict(cell)
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                removed.add("outputs")
            if cell.get("execution_count") is not None:
                removed.add("execution counts")
            cell["outputs"] = []
            cell["execution_count"] = None
        metadata = cell.get("metadata", {})
        kept = {key: metadata[key] for key in CELL_METADATA_KEPT if key in metadata}
        if kept != metadata:
            removed.add("cell metadata")
        cell["metadata"] = kept
        clean["cells"].append(cell)
    metadata = notebook.get("metadata", {})
    kept = {}
    if "kernelspec" in metadata:
        kept["kernelspec"] = {k: v for k, v in metadata["kernelspec"].items() if k in KERNELSPEC_KEPT}
    if "language_info" in metadata and "name" in metadata["language_info"]:
        kept["language_info"] = {"name": metadata["language_info"]["name"]}
    if kept != metadata:
        removed.add("notebook metadata")
    clean["metadata"] = kept
    order = ["outputs", "execution counts", "cell metadata", "notebook metadata"]
    return clean, [what for what in order if what in removed]


def read(path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"strip_notebooks: {path} is not a notebook (JSON): {error}") from None


def write(notebook, path):
    """Write as Jupyter does (indent 1, sorted keys, non-ASCII kept), through a temporary file."""
    text = json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    temporary = Path(f"{path}.strip-tmp")
    temporary.write_text(text, encoding="utf-8", newline="\n")
    os.replace(temporary, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Clear the outputs, execution counts and metadata noise of "
                                                 "Jupyter notebooks (default: every notebook under notebooks/).")
    parser.add_argument("paths", nargs="*", help=".ipynb files or folders (default: notebooks/)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 listing the notebooks that are not clean")
    args = parser.parse_args(argv)
    try:
        notebooks = find_notebooks(args.paths or [DEFAULT_FOLDER])
        dirty = []
        for path in notebooks:
            notebook = read(path)
            clean, removed = strip(notebook)
            if removed:
                dirty.append((path, removed))
                if not args.check:
                    write(clean, path)
    except (OSError, ValueError) as error:
        print(error, file=sys.stderr)
        return 2
    verb = "has" if args.check else "stripped"
    for path, removed in dirty:
        print(f"{path}: {verb} {', '.join(removed)}")
    if args.check and dirty:
        print(f"{len(dirty)} of {len(notebooks)} notebooks are not clean; run: python tools/strip_notebooks.py",
              file=sys.stderr)
        return 1
    if not dirty:
        print(f"{len(notebooks)} notebooks clean")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
