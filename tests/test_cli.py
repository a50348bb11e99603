"""The tinygrad-ko command line: help, train, gradcheck, bad arguments and Ctrl-C, all offline.

Most tests call ``tinygrad_ko.cli.main`` in-process; a few run the real
``python -m tinygrad_ko`` and ``tinygrad-ko`` processes. TINYGRAD_KO_DATA
points at an empty folder, so ``--dataset auto`` uses the bundled sample and
nothing is ever downloaded.
"""

import contextlib
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.training
from tinygrad_ko import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Seconds after which a child process counts as hung. Only a guard: the tests wait on each process's own
# exit or output, and a loaded machine may take many times the usual second or two.
HANG_GUARD = 600
EPOCH_LINE = re.compile(r"^epoch\s+(\S+)\s+train acc (\d\.\d+)\s+test acc (\d\.\d+)\s*$", re.M)
TRAIN_OPTIONS = ["--dataset", "--model", "--hidden", "--activation", "--weight-init-std", "--weight-decay",
                 "--batchnorm", "--dropout", "--optimizer", "--lr", "--batch-size", "--iters", "--epochs", "--seed",
                 "--eval-every", "--out", "--threads", "--verbose", "--numerical", "--no-plot"]
GRADCHECK_OPTIONS = ["--dataset", "--hidden", "--samples", "--activation", "--loss", "--tolerance", "--seed"]
BENCH_OPTIONS = ["--seconds", "--threads"]
# Each option's default, as its help should state it (once).
DEFAULTS = {
    "train": {"--dataset": "auto", "--model": "two-layer", "--hidden": "100", "--activation": "sigmoid",
              "--weight-init-std": "0.01", "--optimizer": "sgd", "--lr": "0.1", "--batch-size": "100",
              "--iters": "10000", "--seed": "0", "--eval-every": "1", "--out": "runs", "--threads": "auto"},
    "gradcheck": {"--dataset": "auto", "--hidden": "50", "--samples": "3", "--activation": "sigmoid",
                  "--loss": "softmax_cross_entropy", "--tolerance": "1e-8", "--seed": "0"},
    "bench": {"--seconds": "20", "--threads": "1"},
}
FLAGS = {"train": ["--batchnorm", "--verbose", "--numerical", "--no-plot"], "gradcheck": [], "bench": []}


@pytest.fixture(autouse=True)
def offline_data(tmp_path_factory, monkeypatch):
    """An empty data folder: `auto` finds no MNIST and uses the sample; no download is possible."""
    folder = tmp_path_factory.mktemp("no-data")
    monkeypatch.setenv("TINYGRAD_KO_DATA", str(folder))
    return folder


def call(*argv):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main([str(a) for a in argv])
        except SystemExit as exit:  # argparse: --help and bad arguments
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def files_in(folder):
    """Every file under ``folder`` (hidden and temporary ones included), as relative paths."""
    if not os.path.exists(folder):
        return []
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, _, names in os.walk(folder) for name in names)


def comparable(metrics):
    """metrics.json without what may differ between two identical runs (time, folder, plot flag)."""
    metrics = json.loads(json.dumps(metrics))
    metrics.pop("seconds")
    for key in ("out", "no_plot"):
        metrics["args"].pop(key)
    return metrics


def script_env(data_folder):
    return dict(os.environ, TINYGRAD_KO_DATA=str(data_folder), PYTHONUNBUFFERED="1", COLUMNS="100")


# --- help ---


def test_top_level_help_lists_the_subcommands():
    code, out, _ = call("--help")
    assert code == 0
    for command in ("train", "gradcheck", "bench"):
        assert command in out


@pytest.mark.parametrize("command,options", [
    ("train", TRAIN_OPTIONS), ("gradcheck", GRADCHECK_OPTIONS), ("bench", BENCH_OPTIONS),
])
def test_subcommand_help_mentions_every_option(command, options):
    code, out, _ = call(command, "--help")
    assert code == 0
    assert out.startswith("usage: tinygrad-ko " + command)
    for option in options:
        assert option in out, option


def help_entries(text):
    """{option: its help entry} from the 'options:' part of an argparse help text."""
    entries, current = {}, None
    section = re.split(r"^(?:options|optional arguments):\n", text, flags=re.M)[1]
    for line in section.splitlines():
        head = re.match(r"^  (-\S+)", line)
        if head:
            names = re.findall(r"--[\w-]+", line.split("  ", 2)[1]) or [head.group(1)]
            current = names[0]
            entries[current] = line
        elif current and line.startswith("   "):
            entries[current] += " " + line.strip()
    return entries


@pytest.mark.parametrize("command", ["train", "gradcheck", "bench"])
def test_help_states_every_default_once(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: nothing wrapped
    code, out, _ = call(command, "--help")
    assert code == 0
    assert "(default: None)" not in out and "(default: False)" not in out
    entries = help_entries(out)
    problems = []
    for option, default in DEFAULTS[command].items():
        entry = entries.get(option, "")
        count = len(re.findall(r"default", entry, flags=re.I))
        if count != 1 or default not in entry.split(option, 1)[-1]:
            problems.append(f"{option}: expected its default {default!r} stated once, got {entry!r}")
    for option in FLAGS[command]:
        if "default" in entries.get(option, ""):
            problems.append(f"{option}: a flag needs no default, got {entries[option]!r}")
    assert not problems, "\n".join(problems)


def test_python_dash_m_help_in_a_subprocess(offline_data):
    result = subprocess.run([sys.executable, "-m", "tinygrad_ko", "--help"], capture_output=True, text=True,
                            env=script_env(offline_data), timeout=HANG_GUARD)
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout and "gradcheck" in result.stdout and "bench" in result.stdout


def console_script():
    here = shutil.which("tinygrad-ko", path=os.path.dirname(sys.executable))
    return [here] if here else [sys.executable, "-m", "tinygrad_ko"]


def test_console_script_help_and_bad_arguments_in_a_subprocess(offline_data, tmp_path):
    env = script_env(offline_data)
    result = subprocess.run(console_script() + ["train", "--help"], capture_output=True, text=True, env=env,
                            timeout=HANG_GUARD)
    assert result.returncode == 0, result.stderr
    assert "--weight-init-std" in result.stdout
    result = subprocess.run(console_script() + ["train", "--optimizer", "foo", "--out", tmp_path / "run"],
                            capture_output=True, text=True, env=env, timeout=HANG_GUARD)
    assert result.returncode == 2
    assert "--optimizer" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()
    result = subprocess.run(console_script(), capture_output=True, text=True, env=env, timeout=HANG_GUARD)
    assert result.returncode == 2 and "usage" in result.stderr


def test_no_subcommand_exits_2():
    code, _, err = call()
    assert code == 2 and "usage" in err


# --- train ---


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One run of `train --dataset sample --iters 200 --hidden 50`, shared by the tests below."""
    folder = tmp_path_factory.mktemp("train") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYGRAD_KO_DATA", str(tmp_path_factory.mktemp("no-data")))
        code, out, err = call("train", "--dataset", "sample", "--iters", 200, "--hidden", 50, "--out", folder)
    return SimpleNamespace(code=code, out=out, err=err, folder=folder)


def test_train_exits_0_and_prints_accuracy_per_epoch(sample_run):
    assert sample_run.code == 0, sample_run.err
    lines = EPOCH_LINE.findall(sample_run.out)
    # 4,000 rows / batch 100 = 40 steps per epoch: epochs 0 .. 5 for 200 steps
    assert [float(epoch) for epoch, _, _ in lines] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert "Traceback" not in sample_run.err


def test_train_writes_metrics_json(sample_run):
    metrics = json.loads((sample_run.folder / "metrics.json").read_text())
    for key in ("test_accuracy", "train_accuracy", "iterations", "dataset", "args"):
        assert key in metrics
    assert metrics["dataset"] == "sample"
    assert metrics["iterations"] == 200
    assert metrics["args"]["iters"] == 200 and metrics["args"]["seed"] == 0
    assert metrics["args"]["hidden"] == [50] and metrics["args"]["optimizer"] == "sgd"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and 0.0 <= metrics["train_accuracy"] <= 1.0
    last_epoch = EPOCH_LINE.findall(sample_run.out)[-1]
    assert float(last_epoch[1]) == pytest.approx(metrics["train_accuracy"], abs=5e-5)
    assert float(last_epoch[2]) == pytest.approx(metrics["test_accuracy"], abs=5e-5)


def test_train_weights_reproduce_the_reported_test_accuracy(sample_run):
    state = tk.load(sample_run.folder / "weights.npz")
    assert sorted(state) == ["W1", "W2", "b1", "b2"]
    assert state["W1"].shape == (784, 50) and state["W2"].shape == (50, 10)
    net = tk.TwoLayerNet(784, 50, 10)
    net.load_state_dict(state)
    _, (x_test, t_test) = tk.datasets.load_mnist(sample=True)
    metrics = json.loads((sample_run.folder / "metrics.json").read_text())
    assert net.accuracy(x_test, t_test) == pytest.approx(metrics["test_accuracy"], abs=1e-12)
    assert metrics["test_accuracy"] > 0.2  # 200 steps of the book's SGD learn something


def test_train_writes_a_png_plot(sample_run):
    data = (sample_run.folder / "curves.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    assert files_in(sample_run.folder) == ["curves.png", "metrics.json", "weights.npz"]  # no temp files


def test_train_outputs_have_ordinary_file_permissions(sample_run):
    """Every output is readable like a file that open() writes: mode 0o666 & ~umask (0o644 usually)."""
    umask = os.umask(0)
    os.umask(umask)
    modes = {name: oct(stat.S_IMODE((sample_run.folder / name).stat().st_mode))
             for name in ("weights.npz", "metrics.json", "curves.png")}
    assert modes == {name: oct(0o666 & ~umask) for name in modes}


def test_train_multi_layer_relu_adam(tmp_path):
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 200, "--model", "multi-layer",
                          "--hidden", "50,50", "--activation", "relu", "--optimizer", "adam", "--lr", 0.001,
                          "--no-plot", "--out", folder)
    assert code == 0, err
    assert files_in(folder) == ["metrics.json", "weights.npz"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["args"]["model"] == "multi-layer" and metrics["args"]["optimizer"] == "adam"
    state = tk.load(folder / "weights.npz")
    assert list(state) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    net = tk.MultiLayerNet(784, [50, 50], 10, activation="relu")
    net.load_state_dict(state)
    _, (x_test, t_test) = tk.datasets.load_mnist(sample=True)
    assert net.accuracy(x_test, t_test) == pytest.approx(metrics["test_accuracy"], abs=1e-12)
    assert metrics["test_accuracy"] > 0.5


def test_train_auto_without_mnist_on_disk_uses_the_sample(tmp_path):
    code, out, err = call("train", "--iters", 5, "--hidden", 5, "--no-plot", "--out", tmp_path / "run")
    assert code == 0, err
    assert "sample" in out.splitlines()[0]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["dataset"] == "sample"


def test_train_same_seed_gives_identical_metrics(tmp_path):
    args = ["train", "--dataset", "sample", "--iters", 45, "--hidden", 10, "--no-plot"]
    runs = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        code, _, err = call(*args, "--seed", seed, "--out", tmp_path / name)
        assert code == 0, err
        runs.append(comparable(json.loads((tmp_path / name / "metrics.json").read_text())))
    assert runs[0] == runs[1]
    np.testing.assert_array_equal(tk.load(tmp_path / "a" / "weights.npz")["W1"],
                                  tk.load(tmp_path / "b" / "weights.npz")["W1"])
    assert runs[0]["history"]["loss"] != runs[2]["history"]["loss"]


def test_train_default_out_folder_is_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = call("train", "--dataset", "sample", "--iters", 1, "--hidden", 5, "--no-plot")
    assert code == 0, err
    (folder,) = os.listdir(tmp_path / "runs")
    assert folder.startswith("sample-two-layer-")
    assert files_in(tmp_path / "runs" / folder) == ["metrics.json", "weights.npz"]


def test_train_numerical_projects_the_run_from_the_measured_first_step(tmp_path, monkeypatch):
    """The estimate is the first step's measured time times the steps, in a unit a person uses."""
    clock = iter(np.arange(1000) * 1.5)  # every reading of the loop's clock is 1.5 s after the last
    monkeypatch.setattr(tinygrad_ko.training, "_clock", lambda: float(next(clock)))
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--hidden", 5, "--iters", 2, "--batch-size", 5,
                          "--no-plot", "--numerical", "--out", folder)
    assert code == 0, err
    assert re.search(r"numerical gradient: 3,985 weights, 2 forward passes each per step", out)
    assert "numerical gradient: the first step took 1.5 s, so 2 steps would take about 3 s" in out
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["iterations"] == 2 and metrics["args"]["numerical"] is True
    assert len(metrics["history"]["loss"]) == 2


@pytest.mark.parametrize("seconds,words", [
    (0.0042, "4.2 ms"), (3.0, "3 s"), (95, "95 s"), (600, "10 minutes"), (4 * 3600, "4 hours"),
    (3 * 86400, "3 days"), (10 ** 9, "32 years"),
])
def test_durations_are_said_in_sensible_units(seconds, words):
    assert tinygrad_ko.training.format_seconds(seconds) == words


def test_train_prints_at_most_20_evaluation_lines_unless_verbose(tmp_path):
    # 4,000 rows / batch 4,000 = 1 step per epoch: 30 steps measure accuracy 31 times
    args = ["train", "--dataset", "sample", "--hidden", 2, "--iters", 30, "--batch-size", 4000, "--no-plot"]
    code, out, err = call(*args, "--out", tmp_path / "quiet")
    assert code == 0, err
    epochs = [float(epoch) for epoch, _, _ in EPOCH_LINE.findall(out)]
    assert 10 <= len(epochs) <= 20
    assert epochs[0] == 0.0 and epochs[-1] == 30.0 and epochs == sorted(epochs)
    metrics = json.loads((tmp_path / "quiet" / "metrics.json").read_text())
    assert metrics["history"]["epoch"] == [float(e) for e in range(31)]  # every evaluation is kept
    code, out, err = call(*args, "--verbose", "--out", tmp_path / "verbose")
    assert code == 0, err
    assert [float(epoch) for epoch, _, _ in EPOCH_LINE.findall(out)] == [float(e) for e in range(31)]


def test_train_warns_when_the_net_is_not_learning(tmp_path):
    code, out, err = call("train", "--dataset", "sample", "--hidden", 5, "--iters", 240, "--lr", 10, "--no-plot",
                          "--out", tmp_path / "run")
    assert code == 0, err
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "learning rate" in warnings[0] and "chance" in warnings[0]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["warnings"] == [warnings[0][len("warning: "):]]


def test_a_run_that_learns_gets_no_warning(sample_run):
    assert "warning" not in sample_run.out
    assert json.loads((sample_run.folder / "metrics.json").read_text())["warnings"] == []


@pytest.mark.parametrize("spelling", ["Adam", "ADAM", "adam"])
def test_optimizer_name_in_any_case(spelling, tmp_path):
    code, out, err = call("train", *QUICK, "--optimizer", spelling, "--lr", 0.001, "--out", tmp_path / "run")
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["args"]["optimizer"] == "adam"


def test_an_existing_run_folder_is_never_overwritten(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "metrics.json").write_text("mine")
    code, out, err = call("train", *QUICK, "--out", folder)
    assert code == 0, err
    assert (folder / "metrics.json").read_text() == "mine" and files_in(folder) == ["metrics.json"]
    assert f"{folder} already holds files, so this run writes to {folder}-2 instead" in out
    assert files_in(tmp_path / "run-2") == ["metrics.json", "weights.npz"]
    code, out, err = call("train", *QUICK, "--out", folder)
    assert code == 0, err
    assert f"writes to {folder}-3 instead" in out and files_in(folder) == ["metrics.json"]


def blas_threads_during_training(monkeypatch):
    """Patch SGD.update to record the BLAS thread count that training runs with."""
    from threadpoolctl import threadpool_info

    seen, update = [], tk.optim.SGD.update

    def recording(self, params, grads):
        seen.append(max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"))
        return update(self, params, grads)

    monkeypatch.setattr(tk.optim.SGD, "update", recording)
    return seen


@pytest.mark.parametrize("option,threads", [([], 1), (["--threads", "2"], 2), (["--threads", "auto"], 1)])
def test_train_runs_blas_with_the_chosen_threads(option, threads, monkeypatch, tmp_path):
    seen = blas_threads_during_training(monkeypatch)
    code, out, err = call("train", *QUICK, "--iters", 3, *option, "--out", tmp_path / "run")
    assert code == 0, err
    assert seen == [threads] * 3
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["blas_threads"] == threads
    assert f"{threads} BLAS thread" in next(line for line in out.splitlines() if line.startswith("TwoLayerNet"))


# --- bad arguments ---


QUICK = ["--dataset", "sample", "--iters", 1, "--hidden", 5, "--no-plot"]


@pytest.mark.parametrize("argv", [
    ["train", "--model", "two-layer", "--hidden", "50,50"],
    ["train", "--optimizer", "foo"],
    ["train", "--weight-init-std", "abc"],
    ["train", "--dataset", "cifar"],
    ["train", "--hidden", "0"],
    ["train", "--hidden", "5,,5"],
    ["train", "--activation", "tanh"],
    ["train", "--iters", "ten"],
    ["train", "--batch-size", "0"],
    ["train", "--batch-size", "-5"],
    ["train", "--iters", "-1"],
    ["train", "--eval-every", "0"],
    ["train", "--lr", "-1"],
    ["train", "--lr", "nan"],
    ["train", "--weight-init-std", "nan"],
    ["train", "--iters", "0"],
    ["train", "--iters", "1000000000000"],
    ["train", "--iters", "10000001"],
    ["train", "--seed", "-1"],
    ["train", "--seed", str(2**32)],
    ["train", "--hidden", "1e7"],
    ["train", "--model", "multi-layer", "--hidden", "100,10000000"],
    ["train", "--model", "multi-layer", "--hidden", "100000,100000"],
    ["train", "--threads", "0"],
    ["gradcheck", "--seed", "-1"],
    ["gradcheck", "--loss", "mse"],
    ["gradcheck", "--samples", "0"],
    ["gradcheck", "--samples", "-1"],
    ["gradcheck", "--hidden", "0"],
    ["nosuchcommand"],
], ids=lambda argv: " ".join(argv))
def test_bad_arguments_exit_2_with_a_usage_message(argv, tmp_path):
    folder = tmp_path / "run"
    extra = (QUICK + ["--out", folder]) if argv[0] == "train" else []
    if argv[0] == "gradcheck":
        extra = ["--dataset", "sample"] + ([] if "--hidden" in argv else ["--hidden", 1])
    # the options under test come last, so they override the quick settings
    code, out, err = call(argv[0], *extra, *argv[1:])
    assert code == 2, f"exit code {code}; stdout {out[-300:]!r}; stderr {err[-300:]!r}"
    assert "error:" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err  # one line, before any work
    assert "train acc" not in out
    assert not folder.exists()


def test_a_net_too_big_for_memory_is_refused_with_the_memory_it_needs(tmp_path):
    code, out, err = call("train", *QUICK, "--hidden", "1e7", "--out", tmp_path / "run")
    assert code == 2
    assert re.search(r"needs about [\d.,]+ (GB|TB) of memory \(7,950,000,010 weights.* but about [\d.,]+ [kMGT]B is "
                     r"available", err), err


def train_args(*argv):
    """The arguments of `tinygrad-ko train *argv`, completed for the model as `train` completes them."""
    return cli.resolve_train_args(cli.build_parser().parse_args(["train", *map(str, argv)]))


def test_memory_estimate_grows_with_the_net_and_the_optimizer():
    args = train_args("--hidden", "100")
    weights, small = cli.memory_needed(args, cli.MODELS["two-layer"], "sample")
    assert weights == 784 * 100 + 100 + 100 * 10 + 10
    args.hidden, args.optimizer = [1000], "adam"
    _, large = cli.memory_needed(args, cli.MODELS["two-layer"], "sample")
    assert small < large
    assert cli.available_memory() is None or cli.available_memory() > small


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_out_that_cannot_be_a_folder_is_refused_in_one_line(where, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    out = blocker if where == "a file" else blocker / "run"
    code, stdout, err = call("train", *QUICK, "--out", out)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--out" in err
    assert "train acc" not in stdout and blocker.read_text() == "not a folder"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into a read-only folder")
def test_out_in_a_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = call("train", *QUICK, "--out", locked / "run")
    finally:
        locked.chmod(0o700)
    assert code == 2 and "not writable" in err and len(err.strip().splitlines()) == 1


def test_offline_without_the_data_the_message_comes_first(monkeypatch, tmp_path, offline_data):
    from tinygrad_ko.datasets import _download

    monkeypatch.setattr(_download, "MIRRORS", {name: ["http://127.0.0.1:9/nothing-here/"]
                                               for name in _download.MIRRORS})
    code, out, err = call("train", "--dataset", "mnist", "--out", tmp_path / "run")
    assert code == 1
    assert err.startswith("tinygrad-ko train: error: MNIST is not on this machine"), err
    assert "Traceback" not in err and "--dataset sample" in err
    assert not (tmp_path / "run").exists()
    code, _, err = call("gradcheck", "--dataset", "mnist")
    assert code == 1 and err.startswith("tinygrad-ko gradcheck: error: MNIST"), err


# --- the book's chapter 6-8 nets: --model, its defaults and options, --epochs ---


SMALL_TRAIN, SMALL_TEST = 200, 100


def use_a_small_sample(mp):
    """Cut the bundled sample to its first 200 training and 100 test images, so a conv net's run (which
    measures accuracy on both sets at its start and end) takes about a second."""
    load = cli._load_data

    def cut(name, one_hot_label=False, flatten=True):
        ((x, t), (x_test, t_test)), used = load(name, one_hot_label=one_hot_label, flatten=flatten)
        return ((x[:SMALL_TRAIN], t[:SMALL_TRAIN]), (x_test[:SMALL_TEST], t_test[:SMALL_TEST])), used

    mp.setattr(cli, "_load_data", cut)


@pytest.fixture
def small_sample(monkeypatch):
    use_a_small_sample(monkeypatch)


def small_test_set(images):
    _, (x_test, t_test) = tk.datasets.load_mnist(sample=True, flatten=not images)
    return x_test[:SMALL_TEST], t_test[:SMALL_TEST]


@pytest.fixture(scope="module")
def convnet_run(tmp_path_factory):
    """`train --model simple-convnet --epochs 2 --batch-size 50` on the small sample: 2 * 200/50 = 8 steps."""
    folder = tmp_path_factory.mktemp("convnet") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYGRAD_KO_DATA", str(tmp_path_factory.mktemp("no-data")))
        use_a_small_sample(mp)
        code, out, err = call("train", "--dataset", "sample", "--model", "simple-convnet", "--epochs", 2,
                              "--batch-size", 50, "--out", folder)
    return SimpleNamespace(code=code, out=out, err=err, folder=folder)


def test_simple_convnet_trains_with_the_books_adam_and_writes_every_output(convnet_run):
    assert convnet_run.code == 0, convnet_run.err
    assert files_in(convnet_run.folder) == ["curves.png", "metrics.json", "weights.npz"]
    assert (convnet_run.folder / "curves.png").read_bytes().startswith(PNG_SIGNATURE)
    header = convnet_run.out.splitlines()[0]
    assert header.startswith("SimpleConvNet 1x28x28-conv30x5x5-100-10 on sample (200 train, 100 test rows), "
                             "adam lr 0.001, batch 50, 2 epochs (8 steps)"), header
    metrics = json.loads((convnet_run.folder / "metrics.json").read_text())
    assert metrics["iterations"] == 8 and len(metrics["history"]["loss"]) == 8
    assert metrics["history"]["epoch"] == [0.0, 1.0, 2.0]
    # the book's train_convnet.py settings filled in for the arguments left out
    assert {k: metrics["args"][k] for k in ("optimizer", "lr", "weight_init_std", "hidden", "epochs", "iters")} == \
        {"optimizer": "adam", "lr": 0.001, "weight_init_std": 0.01, "hidden": [100], "epochs": 2, "iters": 8}


def test_simple_convnet_weights_load_back_with_load_params(convnet_run):
    metrics = json.loads((convnet_run.folder / "metrics.json").read_text())
    net = tk.SimpleConvNet()
    before = net.params["W1"].copy()
    net.load_params(str(convnet_run.folder / "weights.npz"))
    assert not np.array_equal(net.params["W1"], before)
    assert net.accuracy(*small_test_set(images=True)) == pytest.approx(metrics["test_accuracy"], abs=1e-12)


@pytest.mark.parametrize("model,options,net_class,kwargs,names", [
    ("deep-convnet", [], tk.DeepConvNet, {},
     [f"{kind}{i}" for i in range(1, 9) for kind in "Wb"]),
    ("multi-layer-extend", ["--hidden", "20,20", "--batchnorm", "--dropout", "0.2", "--weight-decay", "0.01"],
     tk.MultiLayerNetExtend,
     {"input_size": 784, "hidden_size_list": [20, 20], "output_size": 10, "use_batchnorm": True,
      "use_dropout": True, "dropout_ration": 0.2, "weight_decay_lambda": 0.01},
     ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3",
      "running_mean1", "running_var1", "running_mean2", "running_var2"]),
], ids=["deep-convnet", "multi-layer-extend"])
def test_each_new_model_trains_and_its_weights_give_the_reported_accuracy(model, options, net_class, kwargs, names,
                                                                         small_sample, tmp_path):
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--model", model, *options, "--iters", 3,
                          "--batch-size", 20, "--no-plot", "--out", folder)
    assert code == 0, err
    assert out.startswith(net_class.__name__ + " ")
    assert files_in(folder) == ["metrics.json", "weights.npz"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["args"]["model"] == model and metrics["iterations"] == 3
    state = tk.load(folder / "weights.npz")
    assert sorted(state) == sorted(names)
    if model == "multi-layer-extend":  # the batch norms ran in training mode: their running statistics moved
        assert np.abs(state["running_mean1"]).max() > 0
    net = net_class(**kwargs)
    net.load_state_dict(state)
    images = model.endswith("convnet")
    assert net.accuracy(*small_test_set(images)) == pytest.approx(metrics["test_accuracy"], abs=1e-12)


@pytest.mark.parametrize("model,expected", [
    ("two-layer", {"hidden": [100], "activation": "sigmoid", "weight_init_std": 0.01, "optimizer": "sgd",
                   "lr": 0.1, "iters": 10000}),
    ("multi-layer", {"activation": "relu", "weight_init_std": "he", "weight_decay": 0.0, "optimizer": "sgd",
                     "lr": 0.1}),
    ("multi-layer-extend", {"activation": "relu", "weight_init_std": "he", "weight_decay": 0.0,
                            "batchnorm": False, "dropout": 0.0, "optimizer": "sgd", "lr": 0.1}),
    ("simple-convnet", {"hidden": [100], "weight_init_std": 0.01, "optimizer": "adam", "lr": 0.001}),
    ("deep-convnet", {"hidden": [50], "optimizer": "adam", "lr": 0.001}),
])
def test_each_model_gets_the_books_defaults_for_what_is_left_out(model, expected):
    args = train_args("--model", model)
    assert {key: getattr(args, key) for key in expected} == expected
    given = train_args("--model", model, "--optimizer", "momentum", "--lr", "0.05", "--hidden", "30")
    assert (given.optimizer, given.lr, given.hidden) == ("momentum", 0.05, [30])


@pytest.mark.parametrize("argv,option", [
    (["--model", "two-layer", "--batchnorm"], "--batchnorm"),
    (["--model", "two-layer", "--weight-decay", "0.1"], "--weight-decay"),
    (["--model", "multi-layer", "--dropout", "0.5"], "--dropout"),
    (["--model", "multi-layer", "--batchnorm"], "--batchnorm"),
    (["--model", "simple-convnet", "--activation", "relu"], "--activation"),
    (["--model", "simple-convnet", "--weight-decay", "0.1"], "--weight-decay"),
    (["--model", "simple-convnet", "--dropout", "0.5"], "--dropout"),
    (["--model", "simple-convnet", "--weight-init-std", "he"], "--weight-init-std"),
    (["--model", "deep-convnet", "--weight-init-std", "0.1"], "--weight-init-std"),
    (["--model", "deep-convnet", "--batchnorm"], "--batchnorm"),
    (["--model", "deep-convnet", "--hidden", "50,50"], "hidden size"),
    (["--model", "simple-convnet", "--hidden", "100,100"], "hidden size"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_an_option_the_model_does_not_take_is_refused_in_one_line(argv, option, tmp_path):
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 1, "--no-plot", *argv, "--out", folder)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    model = argv[1]
    assert f"--model {model}" in err and option in err, err
    assert "train acc" not in out and not folder.exists()


def test_the_options_a_model_takes_are_accepted_together(small_sample, tmp_path):
    code, _, err = call("train", "--dataset", "sample", "--model", "multi-layer", "--hidden", "10,10",
                        "--activation", "sigmoid", "--weight-init-std", "xavier", "--weight-decay", "0.1",
                        "--iters", 2, "--no-plot", "--out", tmp_path / "run")
    assert code == 0, err
    args = json.loads((tmp_path / "run" / "metrics.json").read_text())["args"]
    assert (args["activation"], args["weight_init_std"], args["weight_decay"]) == ("sigmoid", "xavier", 0.1)


@pytest.mark.parametrize("dataset,batch,epochs,steps", [
    ("fashion-mnist", 100, 3, 1800),     # the benchmark: 3 * 60,000 / 100
    ("mnist", 128, 2, 2 * 469),          # 60,000 / 128 = 468.75: the last partial batch counts
    ("sample", 300, 10, 10 * 14),        # 4,000 / 300 = 13.3
])
def test_epochs_become_steps_of_whole_passes_over_the_training_rows(dataset, batch, epochs, steps):
    args = train_args("--dataset", dataset, "--batch-size", batch, "--epochs", epochs)
    assert (args.iters, args.epochs) == (steps, epochs)
    assert train_args("--dataset", dataset).iters == 10000  # without --epochs: the book's 10,000


def test_the_sample_has_the_training_rows_epochs_are_counted_in():
    (x_train, _), _ = tk.datasets.load_mnist(sample=True)
    assert cli.TRAIN_ROWS["sample"] == len(x_train)


def test_epochs_run_that_many_passes(tmp_path):
    code, out, err = call("train", "--dataset", "sample", "--hidden", 5, "--epochs", 3, "--batch-size", 1000,
                          "--no-plot", "--out", tmp_path / "run")
    assert code == 0, err
    assert "3 epochs (12 steps)" in out.splitlines()[0]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["iterations"] == 12 and metrics["history"]["epoch"] == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("argv,words", [
    (["--epochs", "2", "--iters", "50"], "--iters: not allowed with argument --epochs"),
    (["--iters", "50", "--epochs", "2"], "--epochs: not allowed with argument --iters"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "1.5"], "--epochs"),
    (["--epochs", "100000000"], "more than 10,000,000"),
    (["--dropout", "1"], "--dropout"),
    (["--dropout", "1.5"], "--dropout"),
    (["--dropout", "-0.1"], "--dropout"),
    (["--dropout", "nan"], "--dropout"),
    (["--weight-decay", "-1"], "--weight-decay"),
    (["--weight-decay", "inf"], "--weight-decay"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_bad_epochs_dropout_and_weight_decay_are_refused(argv, words, tmp_path):
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--model", "multi-layer-extend", "--hidden", 5,
                          "--no-plot", *argv, "--out", folder)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert words in err and "Traceback" not in err
    assert "train acc" not in out and not folder.exists()


def test_memory_check_counts_the_conv_nets_activations():
    simple = train_args("--model", "simple-convnet", "--dataset", "fashion-mnist", "--epochs", 3)
    deep = train_args("--model", "deep-convnet", "--dataset", "mnist", "--epochs", 20)
    _, simple_bytes = cli.memory_needed(simple, cli.MODELS["simple-convnet"], "fashion-mnist")
    _, deep_bytes = cli.memory_needed(deep, cli.MODELS["deep-convnet"], "mnist")
    # the book's own runs (train_convnet.py, train_deepnet.py) need well under 2 GB: never refused for it
    assert simple_bytes < 2e9 and deep_bytes < 2e9
    # each image of a batch keeps its im2col columns and activations: tracemalloc measured 0.63 MB per
    # image for SimpleConvNet and 3.2 MB for DeepConvNet; the estimate is not below that
    bigger = train_args("--model", "simple-convnet", "--batch-size", 1100)
    _, bigger_bytes = cli.memory_needed(bigger, cli.MODELS["simple-convnet"], "fashion-mnist")
    assert (bigger_bytes - simple_bytes) / 1000 > 0.63e6
    deeper = train_args("--model", "deep-convnet", "--batch-size", 1100)
    _, deeper_bytes = cli.memory_needed(deeper, cli.MODELS["deep-convnet"], "mnist")
    assert (deeper_bytes - cli.memory_needed(train_args("--model", "deep-convnet"), cli.MODELS["deep-convnet"],
                                             "mnist")[1]) / 1000 > 3.2e6


def test_an_absurd_conv_batch_is_refused_with_the_memory_it_needs(tmp_path):
    code, out, err = call("train", "--dataset", "sample", "--model", "deep-convnet", "--batch-size", 1000000,
                          "--iters", 1, "--out", tmp_path / "run")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert re.search(r"needs about [\d.,]+ TB of memory .*activations of 1,000,000 rows", err), err
    assert not (tmp_path / "run").exists()


def test_a_conv_run_whose_loss_becomes_nan_saves_its_last_epoch(small_sample, monkeypatch, tmp_path):
    monkeypatch.setattr(tinygrad_ko.training, "_loss_and_gradient", loss_becomes(float("nan"), 6))
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--model", "simple-convnet", "--iters", 12,
                          "--batch-size", 50, "--out", folder)  # 4 steps per epoch
    assert code == 1 and "Traceback" not in err
    assert f"saved the weights and metrics of epoch 1 (step 4) to {folder}" in err
    assert files_in(folder) == ["metrics.json", "weights.npz"]
    metrics = json.loads((folder / "metrics.json").read_text())
    net = tk.SimpleConvNet()
    net.load_params(str(folder / "weights.npz"))
    assert net.accuracy(*small_test_set(images=True)) == metrics["test_accuracy"]


# --- gradcheck ---


def gradcheck_lines(out):
    return {key: float(value) for key, value in re.findall(r"^(W1|b1|W2|b2):\s*(\S+)$", out, flags=re.M)}


def test_gradcheck_default_passes_below_1e_8():
    code, out, err = call("gradcheck")
    assert code == 0, err
    values = gradcheck_lines(out)
    assert list(values) == ["W1", "b1", "W2", "b2"]
    assert all(0 <= v < 1e-8 for v in values.values()), values
    assert re.search(r"^PASS", out, flags=re.M)
    assert "1e-7" not in out  # the floor note belongs to cross_entropy_error only
    assert "sample" in out  # auto fell back to the bundled sample


def test_gradcheck_cross_entropy_error_explains_the_1e_7_floor():
    code, out, err = call("gradcheck", "--loss", "cross_entropy_error", "--hidden", 10)
    assert code == 0, err
    values = gradcheck_lines(out)
    assert list(values) == ["W1", "b1", "W2", "b2"]
    assert max(values.values()) > 1e-8  # the floor is really there
    notes = [line for line in out.splitlines() if "1e-7" in line]
    assert len(notes) == 1
    assert re.search(r"^PASS", out, flags=re.M)


def test_gradcheck_with_relu_explains_the_corner():
    code, out, err = call("gradcheck", "--activation", "relu", "--hidden", 5)
    assert code in (0, 1), err
    assert len([line for line in out.splitlines() if "corner at 0" in line]) == 1
    code, out, _ = call("gradcheck", "--hidden", 5)
    assert "corner" not in out


def test_gradcheck_impossible_tolerance_exits_1():
    code, out, _ = call("gradcheck", "--hidden", 5, "--tolerance", "1e-30")
    assert code == 1
    assert re.search(r"^FAIL", out, flags=re.M) and not re.search(r"^PASS", out, flags=re.M)


def test_gradcheck_nan_difference_fails(monkeypatch):
    original = tk.TwoLayerNet.numerical_gradient

    def broken(self, x, t):
        grads = original(self, x, t)
        grads["b2"][...] = np.nan
        return grads

    monkeypatch.setattr(tk.TwoLayerNet, "numerical_gradient", broken)
    code, out, _ = call("gradcheck", "--hidden", 5)
    assert code == 1, out
    assert re.search(r"^FAIL", out, flags=re.M)


# --- Ctrl-C ---


def interrupt_after(calls, function):
    """``function``, but raising KeyboardInterrupt on call number ``calls``."""
    count = [0]

    def wrapper(*args, **kwargs):
        count[0] += 1
        if count[0] >= calls:
            raise KeyboardInterrupt
        return function(*args, **kwargs)

    return wrapper


def assert_interrupted(code, out, err):
    assert code == 130
    assert "Traceback" not in err
    messages = [line for line in (out + err).splitlines() if "interrupt" in line.lower()]
    assert len(messages) == 1, messages
    assert err.rstrip().splitlines()[-1] == messages[0]


@pytest.mark.parametrize("where", ["batch choice", "optimizer update"])
def test_ctrl_c_before_the_first_epoch_exits_130_and_leaves_no_files(where, monkeypatch, tmp_path):
    if where == "batch choice":
        monkeypatch.setattr(tinygrad_ko.training.np.random, "choice",
                            interrupt_after(4, tinygrad_ko.training.np.random.choice))
    else:
        monkeypatch.setattr(tk.optim.SGD, "update", interrupt_after(4, tk.optim.SGD.update))
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 200, "--hidden", 5, "--out", folder)
    assert_interrupted(code, out, err)
    assert "nothing was saved" in err
    assert files_in(folder) == [] and not folder.exists()  # the empty folder it made is gone too


def assert_saved_epoch(folder, epochs, steps):
    """weights.npz and metrics.json hold exactly the state after ``steps`` steps, measured at ``epochs``."""
    assert files_in(folder) == ["metrics.json", "weights.npz"]
    metrics = json.loads((folder / "metrics.json").read_text(), parse_constant=pytest.fail)  # no NaN
    assert metrics["history"]["epoch"] == epochs and metrics["iterations"] == steps
    assert len(metrics["history"]["loss"]) == steps and metrics["stopped"]
    net = tk.TwoLayerNet(784, 5, 10)
    net.load_state_dict(tk.load(folder / "weights.npz"))
    _, (x_test, t_test) = tk.datasets.load_mnist(sample=True)
    assert net.accuracy(x_test, t_test) == metrics["test_accuracy"] == metrics["history"]["test_accuracy"][-1]
    return metrics


def test_ctrl_c_saves_the_last_complete_epoch_and_says_where(monkeypatch, tmp_path):
    monkeypatch.setattr(tk.optim.SGD, "update", interrupt_after(95, tk.optim.SGD.update))  # in epoch 3
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 200, "--hidden", 5, "--out", folder)
    assert_interrupted(code, out, err)
    assert f"saved the weights and metrics of epoch 2 (step 80) to {folder}" in err
    metrics = assert_saved_epoch(folder, [0.0, 1.0, 2.0], 80)
    assert "interrupted" in metrics["stopped"]


def loss_becomes(value, at_call):
    """_loss_and_gradient, but giving the loss ``value`` from call number ``at_call`` on."""
    original, count = tinygrad_ko.training._loss_and_gradient, [0]

    def patched(*args):
        count[0] += 1
        loss, grads = original(*args)
        return (value if count[0] >= at_call else loss), grads

    return patched


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_loss_that_becomes_nan_stops_the_run_at_that_step(value, monkeypatch, tmp_path):
    monkeypatch.setattr(tinygrad_ko.training, "_loss_and_gradient", loss_becomes(value, 57))
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 200, "--hidden", 5, "--out", folder)
    assert code == 1 and "Traceback" not in err
    assert f"the loss became {value} at step 57 of 200" in err
    assert f"saved the weights and metrics of epoch 1 (step 40) to {folder}" in err
    assert_saved_epoch(folder, [0.0, 1.0], 40)


def test_a_learning_rate_that_blows_up_stops_with_a_finite_metrics_file(tmp_path):
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 200, "--hidden", 5, "--lr", "1e300",
                          "--activation", "relu", "--no-plot", "--out", folder)
    assert code == 1 and "Traceback" not in err
    step = int(re.search(r"the loss became (?:nan|inf) at step (\d+) of 200", err).group(1))
    assert step < 40 and "nothing was saved" in err and not folder.exists()


def test_ctrl_c_while_saving_the_plot_leaves_no_partial_file(monkeypatch, tmp_path):
    import matplotlib.figure

    def half_a_png(self, f, **kwargs):
        f.write(PNG_SIGNATURE + b"\0" * 100)
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_a_png)
    folder = tmp_path / "run"
    code, out, err = call("train", "--dataset", "sample", "--iters", 2, "--hidden", 5, "--out", folder)
    assert_interrupted(code, out, err)
    left = files_in(folder)
    assert "curves.png" not in left
    assert set(left) <= {"weights.npz", "metrics.json"}  # finished files only, no temporary ones
    if "metrics.json" in left:
        json.loads((folder / "metrics.json").read_text())
    if "weights.npz" in left:
        assert sorted(tk.load(folder / "weights.npz")) == ["W1", "W2", "b1", "b2"]


def _sigint_as_default():
    """In the child: take SIGINT's default action back. A shell starts a background job (`pytest &`) with
    SIGINT ignored, children inherit that, and a Python started so never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_sigint_to_a_real_training_process(offline_data, tmp_path):
    """Waits for the process's own words (no clock): SIGINT once it has printed epoch 1."""
    folder = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_ko", "train", "--dataset", "sample", "--hidden", "5",
         "--iters", "10000000", "--verbose", "--no-plot", "--out", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=script_env(offline_data),
        preexec_fn=_sigint_as_default)
    hang_guard = threading.Timer(HANG_GUARD, proc.kill)  # only for a process that hangs
    hang_guard.start()
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            match = EPOCH_LINE.match(line)
            if match and float(match.group(1)) >= 1:
                break
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate()
    finally:
        hang_guard.cancel()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, "".join(seen) + rest + err
    assert "Traceback" not in err
    said = re.search(r"interrupted after [\d,]+ steps: saved the weights and metrics of epoch (\d+) \(step "
                     r"([\d,]+)\) to (.+)$", err.strip().splitlines()[-1])
    assert said, err
    assert said.group(3) == str(folder) and int(said.group(1)) >= 1
    assert_saved_epoch(folder, [float(e) for e in range(int(said.group(1)) + 1)],
                       int(said.group(2).replace(",", "")))
