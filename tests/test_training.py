"""The training loop (tinygrad_ko.training), the history it returns, the BLAS thread choice and the sample's order."""

import math
from pathlib import Path

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import threads, training
from tinygrad_ko.training import History, LossNotFinite, TrainingInterrupted, train

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample():
    return tk.datasets.load_mnist(sample=True)


def quick(net, sample, iters=80, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("log", None)
    return train(net, sample[0], sample[1], tk.optim.SGD(lr=0.1), iters=iters, batch_size=100, **kwargs)


# --- the bundled sample is shuffled ---


def test_every_slice_of_the_sample_holds_every_digit(sample):
    (_, t_train), (_, t_test) = sample
    for labels in (t_train, t_test):
        for start in range(0, len(labels), 100):
            assert set(labels[start:start + 100].tolist()) == set(range(10)), start


def test_the_sample_order_is_the_documented_permutation(sample):
    """NOTICE: RandomState(0).permutation(4000) of the per-digit split, then .permutation(1000) of the test set."""
    (_, t_train), (_, t_test) = sample
    generator = np.random.RandomState(0)
    for labels, per_digit in ((t_train, 400), (t_test, 100)):
        order = generator.permutation(len(labels))
        unshuffled = np.empty_like(labels)
        unshuffled[order] = labels        # stored[k] = split[order[k]]
        np.testing.assert_array_equal(unshuffled, np.repeat(np.arange(10), per_digit))


def test_the_sample_tool_shuffles_the_same_way(sample):
    """tools/make_mnist_sample.py's shuffle, on the per-digit labels, gives the stored order."""
    import importlib.util

    script = ROOT / "tools" / "make_mnist_sample.py"
    spec = importlib.util.spec_from_file_location("make_mnist_sample", script)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    split = {"x_train": np.arange(4000), "t_train": np.repeat(np.arange(10), 400),
             "x_test": np.arange(1000), "t_test": np.repeat(np.arange(10), 100)}
    shuffled = tool.shuffle(split)
    assert list(shuffled) == ["x_train", "t_train", "x_test", "t_test"]
    (_, t_train), (_, t_test) = sample
    np.testing.assert_array_equal(shuffled["t_train"], t_train)
    np.testing.assert_array_equal(shuffled["t_test"], t_test)
    np.testing.assert_array_equal(split["t_train"][shuffled["x_train"]], shuffled["t_train"])  # rows kept whole


def test_accuracy_on_the_first_rows_after_a_short_training(sample):
    """The first-hour check: x_train[:100] is every digit, so a trained net scores well above 0."""
    np.random.seed(0)
    net = tk.TwoLayerNet(784, 50, 10)
    quick(net, sample, iters=200)
    (x_train, t_train), _ = sample
    assert net.accuracy(x_train[:100], t_train[:100]) > 0.3


# --- the loop ---


def test_one_backward_pass_per_step(sample, monkeypatch):
    """The loop never backprops twice through one graph (the engine frees it after backward)."""
    calls, backward = [], tk.Tensor.backward

    def counting(self, *args, **kwargs):
        calls.append(id(self))
        return backward(self, *args, **kwargs)

    monkeypatch.setattr(tk.Tensor, "backward", counting)
    np.random.seed(0)
    quick(tk.TwoLayerNet(784, 5, 10), sample, iters=7)
    assert len(calls) == 7


def test_the_recorded_loss_is_the_loss_that_gave_the_gradient(sample, monkeypatch):
    seen = []
    update = tk.optim.SGD.update

    def recording(self, params, grads):
        seen.append({k: v.copy() for k, v in params.items()})
        return update(self, params, grads)

    monkeypatch.setattr(tk.optim.SGD, "update", recording)
    (x_train, t_train), _ = sample
    np.random.seed(3)
    net = tk.TwoLayerNet(784, 5, 10)
    history = quick(net, sample, iters=3)
    np.random.seed(3)
    tk.TwoLayerNet(784, 5, 10)
    for step, weights in enumerate(seen):
        batch = np.random.choice(len(x_train), 100)
        net.load_state_dict(weights)
        assert history["loss"][step] == net.loss(x_train[batch], t_train[batch]).item()


def test_a_net_with_the_books_interface_only(sample):
    """A plain NumPy net (no tk Module): params, gradient, loss, accuracy, as the book's."""

    class SoftmaxRegression:
        def __init__(self):
            self.params = {"W": np.zeros((784, 10)), "b": np.zeros(10)}

        def _probabilities(self, x):
            scores = x @ self.params["W"] + self.params["b"]
            scores = np.exp(scores - scores.max(axis=1, keepdims=True))
            return scores / scores.sum(axis=1, keepdims=True)

        def loss(self, x, t):
            return -np.mean(np.log(self._probabilities(x)[np.arange(len(t)), t] + 1e-7))

        def accuracy(self, x, t):
            return float(np.mean(self._probabilities(x).argmax(axis=1) == t))

        def gradient(self, x, t):
            dy = self._probabilities(x)
            dy[np.arange(len(t)), t] -= 1
            dy /= len(t)
            return {"W": x.T @ dy, "b": dy.sum(axis=0)}

    np.random.seed(0)
    history = quick(SoftmaxRegression(), sample, iters=120)
    assert len(history["loss"]) == 120 and history["final_test_accuracy"] > 0.7
    assert history["loss"][-1] < history["loss"][0]


def test_images_in_shape_n_1_28_28(sample):
    """x as images, as the book's convolution nets take it (load_mnist(flatten=False))."""

    class FlattensFirst(tk.TwoLayerNet):
        def predict(self, x):
            return super().predict(x.reshape(len(x), -1))

    (x_train, t_train), (x_test, t_test) = tk.datasets.load_mnist(flatten=False, sample=True)
    np.random.seed(0)
    net = FlattensFirst(784, 20, 10)
    history = train(net, (x_train, t_train), (x_test, t_test), tk.optim.SGD(lr=0.5), iters=120,
                    progress=False, log=None)
    assert history["final_test_accuracy"] > 0.3


def test_accuracy_is_measured_in_chunks_with_the_same_result(sample, monkeypatch):
    (x_train, t_train), _ = sample
    np.random.seed(0)
    net = tk.TwoLayerNet(784, 10, 10, weight_init_std=0.5)
    whole = net.accuracy(x_train, t_train)
    sizes = []
    accuracy = type(net).accuracy
    monkeypatch.setattr(type(net), "accuracy", lambda self, x, t: sizes.append(len(x)) or accuracy(self, x, t))
    assert training._accuracy(net, x_train, t_train) == whole
    assert sizes == [1000] * 4


def test_eval_rows_measures_on_the_first_rows(sample):
    np.random.seed(0)
    history = quick(tk.TwoLayerNet(784, 5, 10), sample, iters=80, eval_rows=50)
    for value in history["train_accuracy"] + history["test_accuracy"]:
        assert value * 50 == round(value * 50)


def test_at_most_log_lines_evaluation_lines_first_and_last_included(sample):
    (x_train, t_train), test = sample
    lines = []
    np.random.seed(0)
    train(tk.TwoLayerNet(784, 2, 10), (x_train[:200], t_train[:200]), test, tk.optim.SGD(lr=0.1), iters=100,
          progress=False, log=lines.append, log_lines=7)  # 2 steps per epoch: 51 evaluations
    epochs = [float(line.split()[1]) for line in lines if line.startswith("epoch")]
    assert len(epochs) <= 7 and epochs[0] == 0 and epochs[-1] == 50


@pytest.mark.parametrize("bad", [{"iters": 0}, {"iters": 2.5}, {"batch_size": 0}, {"gradient": "magic"},
                                 {"eval_every": 0}, {"threads": 0}, {"log_lines": 0}])
def test_bad_arguments_are_refused_before_any_step(bad, sample):
    net = tk.TwoLayerNet(784, 2, 10)
    before = net.state_dict()
    arguments = dict(iters=5, batch_size=100, gradient="backprop", eval_every=1, threads=None, log_lines=20)
    arguments.update(bad)
    with pytest.raises(ValueError, match="train: " + next(iter(bad))):
        train(net, sample[0], sample[1], tk.optim.SGD(), progress=False, log=None, **arguments)
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


# --- stopping ---


def test_a_non_finite_loss_raises_with_the_last_complete_epoch(sample, monkeypatch):
    original, calls = training._loss_and_gradient, [0]

    def nan_from_step_50(*args):
        calls[0] += 1
        loss, grads = original(*args)
        return (math.nan if calls[0] >= 50 else loss), grads

    monkeypatch.setattr(training, "_loss_and_gradient", nan_from_step_50)
    np.random.seed(0)
    net = tk.TwoLayerNet(784, 5, 10)
    with pytest.raises(LossNotFinite, match="the loss became nan at step 50 of 200") as caught:
        quick(net, sample, iters=200)
    error = caught.value
    assert error.step == 50 and len(error.history["loss"]) == 49
    assert all(math.isfinite(v) for v in error.history["loss"])
    checkpoint = error.checkpoint
    assert checkpoint["step"] == 40 and checkpoint["epoch"] == 1.0
    assert checkpoint["history"]["epoch"] == [0.0, 1.0] and len(checkpoint["history"]["loss"]) == 40
    net.load_state_dict(checkpoint["state"])
    _, (x_test, t_test) = sample
    assert net.accuracy(x_test, t_test) == checkpoint["history"]["final_test_accuracy"]


def test_ctrl_c_raises_a_keyboard_interrupt_that_carries_the_checkpoint(sample, monkeypatch):
    update, calls = tk.optim.SGD.update, [0]

    def interrupt_at_step_85(self, params, grads):
        calls[0] += 1
        if calls[0] == 85:
            raise KeyboardInterrupt
        return update(self, params, grads)

    monkeypatch.setattr(tk.optim.SGD, "update", interrupt_at_step_85)
    np.random.seed(0)
    with pytest.raises(KeyboardInterrupt) as caught:
        quick(tk.TwoLayerNet(784, 5, 10), sample, iters=200)
    assert isinstance(caught.value, TrainingInterrupted)
    assert caught.value.step == 84 and caught.value.checkpoint["step"] == 80


def test_a_checkpoint_is_never_taken_of_non_finite_weights(sample):
    net = tk.TwoLayerNet(784, 5, 10)
    assert training._snapshot(net) is not None
    net.params["W2"][0, 0] = np.inf
    assert training._snapshot(net) is None


# --- warnings ---


@pytest.mark.parametrize("lr", [10.0, 1e-5])
def test_a_net_that_does_not_learn_gets_one_warning(lr, sample):
    lines = []
    np.random.seed(0)
    history = train(tk.TwoLayerNet(784, 5, 10), sample[0], sample[1], tk.optim.SGD(lr=lr), iters=280,
                    progress=False, log=lines.append)
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and "not learning" in warnings[0]
    assert history["warnings"] == [warnings[0][len("warning: "):]]


def test_a_loss_far_above_its_start_gets_a_warning():
    watch = training._Watch(steps_per_epoch=40, chance=0.1)
    losses = [2.3] + [1e10] * 239
    warnings = [watch.check(losses[:step], train_accuracy=0.4) for step in range(40, 241, 40)]
    assert warnings[:4] == [None] * 4 and "rising" in warnings[4] and warnings[5] is None  # once, after 5 epochs


def test_the_books_slow_start_gets_no_warning():
    """The book's sigmoid net (std 0.01, lr 0.1) sits near its first loss for a few epochs, then learns."""
    watch = training._Watch(steps_per_epoch=40, chance=0.1)
    epoch_means = [2.30, 2.30, 2.29, 2.27, 2.22, 2.13, 1.97, 1.76]
    accuracies = [0.10, 0.10, 0.10, 0.19, 0.35, 0.33, 0.51, 0.63]
    losses = []
    for mean, accuracy in zip(epoch_means, accuracies):
        losses += [mean] * 40
        assert watch.check(losses, accuracy) is None


# --- the history ---


def test_history_plots_itself_and_saves_a_png(sample, tmp_path):
    pytest.importorskip("matplotlib")
    np.random.seed(0)
    history = quick(tk.TwoLayerNet(784, 5, 10), sample, iters=60)
    assert isinstance(history, History) and isinstance(history, dict)
    figure = history.plot()
    loss_axes, accuracy_axes = figure.axes
    np.testing.assert_array_equal(loss_axes.lines[0].get_ydata(), history["loss"])
    np.testing.assert_array_equal(accuracy_axes.lines[1].get_ydata(), history["test_accuracy"])
    history.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert history._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")


def test_history_without_matplotlib_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    history = History(loss=[1.0], epoch=[0.0], train_accuracy=[0.1], test_accuracy=[0.1])
    with pytest.raises(ImportError, match=r"tinygrad-ko\[plot\]"):
        history.plot()
    assert history._repr_png_() is None


def test_save_json_writes_no_nan(tmp_path):
    training.save_json({"loss": [1.0, math.nan, math.inf], "n": np.int64(3), "x": np.float32(0.5)},
                       tmp_path / "m.json")
    text = (tmp_path / "m.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    import json
    assert json.loads(text) == {"loss": [1.0, None, None], "n": 3, "x": 0.5}


# --- BLAS threads ---


def test_the_books_nets_get_one_blas_thread(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    assert threads.choose_blas_threads(tk.TwoLayerNet(784, 100, 10), batch_size=100) == 1
    assert threads.choose_blas_threads(tk.MultiLayerNet(784, [100] * 5, 10), batch_size=1000) == 1


class _Wide:
    """A stand-in net with one huge weight (a broadcast view: no memory)."""

    def __init__(self, shape):
        self.params = {"W": np.broadcast_to(np.zeros(1), shape)}


def test_a_very_large_product_gets_every_core(monkeypatch):
    monkeypatch.setattr(threads, "usable_cores", lambda: 8)
    assert threads.largest_matmul_flops(_Wide((4000, 4000)), batch_size=100) == 2 * 100 * 4000 * 4000
    assert threads.choose_blas_threads(_Wide((4000, 4000)), batch_size=100) == 8
    assert threads.choose_blas_threads(_Wide((30, 1, 5, 5)), batch_size=100, sample_shape=(1, 28, 28)) == 1
    monkeypatch.setattr(threads, "usable_cores", lambda: 1)
    assert threads.choose_blas_threads(_Wide((4000, 4000)), batch_size=100) == 1


def blas_threads_now():
    from threadpoolctl import threadpool_info

    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def test_train_runs_with_the_threads_it_is_given_and_restores_them(sample, monkeypatch):
    seen, update = [], tk.optim.SGD.update
    monkeypatch.setattr(tk.optim.SGD, "update",
                        lambda self, p, g: seen.append(blas_threads_now()) or update(self, p, g))
    with threads.limit_blas_threads(1):
        quick(tk.TwoLayerNet(784, 5, 10), sample, iters=2, threads=2)
        assert seen == [2, 2] and blas_threads_now() == 1


def test_set_blas_threads_stays_in_force():
    with threads.limit_blas_threads(2):
        assert threads.set_blas_threads(tk.TwoLayerNet(784, 50, 10)) == 1
        assert blas_threads_now() == 1
        assert threads.set_blas_threads(threads=2) == 2
        assert blas_threads_now() == 2


# --- what the READMEs promise about training ---



def _section(text, heading):
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def test_the_readme_training_loop_prints_what_its_comment_says(capsys):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "network.gradient(" in b]
    promised = float(re.search(r"print\(network\.accuracy\(x_test, t_test\)\)\s*#\s*([\d.]+)", block).group(1))
    exec(compile(block, "README.md", "exec"), {"__name__": "__readme__"})
    printed = float(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == pytest.approx(promised, abs=0.02)


def test_both_readmes_say_how_long_the_default_run_takes_and_what_it_reaches():
    import re

    english = _section((ROOT / "README.md").read_text(encoding="utf-8"), "## Train")
    korean = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    assert re.search(r"\d+ (seconds|minutes)", english) and re.search(r"\d+ ?(초|분)", korean)
    percents = re.findall(r"\d+%", english)
    assert len(percents) >= 2 and all(p in korean for p in percents)
