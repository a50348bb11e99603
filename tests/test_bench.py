"""The benchmarks measure the right thing: the reference computes tinygrad_ko's numbers, and every script runs.

No test here asserts a speed.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def _data(rows=6, features=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((rows, features)), rng.integers(0, classes, rows)


def _copy_into(net, params):
    for key, value in params.items():
        net.params[key] = value
    return net


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_reference_two_layer_net_gradients_match_tinygrad_ko(activation):
    x, t = _data()
    init = ref.init_params([8, 5, 3], 0.5, seed=1)
    book = ref.TwoLayerNet(8, 5, 3, activation=activation, params=init)
    mine = _copy_into(tk.TwoLayerNet(8, 5, 3, activation=activation), init)
    g_book, g_mine = book.gradient(x, t), mine.gradient(x, t)
    assert sorted(g_book) == sorted(g_mine) == ["W1", "W2", "b1", "b2"]
    for key in g_book:
        np.testing.assert_allclose(g_book[key], g_mine[key], rtol=1e-10, atol=1e-14)
    # The book's cross_entropy_error has +1e-7 inside the log: equal to tinygrad_ko's book-style loss,
    # and within about 1e-7 / p of its fused softmax_cross_entropy.
    book_style = _copy_into(tk.TwoLayerNet(8, 5, 3, activation=activation, loss_function="cross_entropy_error"),
                            init)
    np.testing.assert_allclose(book.loss(x, t), book_style.loss(x, t).item(), rtol=1e-12)
    np.testing.assert_allclose(book.loss(x, t), mine.loss(x, t).item(), rtol=1e-5)


def test_reference_multi_layer_net_with_weight_decay_matches_tinygrad_ko():
    x, t = _data(rows=7)
    init = ref.init_params([8, 6, 4, 3], "he", seed=2)
    book = ref.MultiLayerNet(8, [6, 4], 3, activation="relu", weight_decay_lambda=0.1, params=init)
    mine = _copy_into(tk.MultiLayerNet(8, [6, 4], 3, activation="relu", weight_decay_lambda=0.1), init)
    g_book, g_mine = book.gradient(x, t), mine.gradient(x, t)
    assert sorted(g_book) == sorted(g_mine)
    for key in g_book:
        np.testing.assert_allclose(g_book[key], g_mine[key], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(book.loss(x, t), mine.loss(x, t).item(), rtol=1e-5)


def test_reference_affine_computes_the_input_gradient_as_the_book():
    layer = ref.Affine(np.arange(6.0).reshape(2, 3), np.zeros(3))
    layer.forward(np.ones((4, 2)))
    dx = layer.backward(np.ones((4, 3)))
    np.testing.assert_array_equal(dx, np.ones((4, 3)) @ layer.W.T)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hand_tuned_step_matches_a_reference_step(activation, dtype):
    x, t = _data(rows=5)
    x = x.astype(dtype)
    init = ref.init_params([8, 6, 4, 3], "he", seed=3, dtype=dtype)
    book = ref.MultiLayerNet(8, [6, 4], 3, activation=activation, params=init)
    ref.SGD(0.1).update(book.params, book.gradient(x, t))
    tuned = ref.HandTunedNet(init, 5, activation=activation, lr=0.1)
    tuned.step(x, t)
    for key in init:
        assert tuned.params[key].dtype == dtype
        np.testing.assert_allclose(tuned.params[key], book.params[key], rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-6 if dtype == np.float32 else 1e-14)
    np.testing.assert_allclose(tuned.loss, book.last_layer.loss, rtol=1e-5)


def test_matmul_floor_does_three_products_per_layer_but_one():
    x, _ = _data(rows=4)
    floor = ref.MatmulFloor(ref.init_params([8, 5, 3], 0.01), 4)
    assert floor.matmul_count == 5
    floor.step(x)


def test_interleave_runs_every_contender_each_round():
    calls = []
    times = bench.interleave({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                             rounds=4, block_seconds=0.0, warmup=1)
    assert [len(ts) for ts in times.values()] == [4, 4]
    assert calls.count("a") == calls.count("b") == 5  # one warm-up call, then a block of one per round
    rows = bench.summarize(times, "a")
    assert rows[0]["ratio"] == 1.0
    assert "| a |" in bench.markdown_table(["name"], [["a"]])


def test_interleave_takes_a_cpu_clock_and_refuses_an_unknown_one():
    times = bench.interleave({"a": lambda: sum(range(100))}, rounds=2, block_seconds=0.0, warmup=1, clock="cpu")
    assert len(times["a"]) == 2 and all(t >= 0 for t in times["a"])
    with pytest.raises(ValueError, match="clock"):
        bench.interleave({"a": lambda: None}, rounds=1, clock="sundial")


def test_profile_step_charges_each_op_its_own_time_and_counts_calls():
    x = tk.Tensor(np.ones((3, 4)), requires_grad=True)

    def step():
        x.grad = None
        ((x * 2.0).relu() * 3.0).sum().backward()

    rows, total = bench.profile_step(step, steps=3, warmup=1)
    by_op = {r["op"]: r for r in rows}
    assert by_op["mul"]["calls"] == 2 and by_op["relu"]["calls"] == 1 and by_op["sum"]["calls"] == 1
    assert by_op["mul"]["backward_s"] > 0  # Mul's backward ran (its products: not counted as forwards)
    assert rows[-1]["op"] == "outside the ops"
    assert total > 0 and abs(sum(r["share"] for r in rows) - 1.0) < 1e-9
    assert "| mul | 2 |" in bench.profile_table(rows, total)
    assert tk.ops.Mul.forward.__qualname__ == "Mul.forward"  # the timers are gone again


def test_profile_step_times_the_books_layers_by_class():
    book = ref.TwoLayerNet(8, 5, 3, params=ref.init_params([8, 5, 3], 0.5, seed=1))
    x, t = _data()
    rows, _ = bench.profile_step(lambda: book.gradient(x, t), steps=2, warmup=1,
                                 classes=[ref.Affine, ref.Sigmoid, ref.SoftmaxWithLoss])
    by_layer = {r["op"]: r for r in rows}
    assert by_layer["Affine"]["calls"] == 2 and by_layer["Sigmoid"]["calls"] == 1
    assert by_layer["Affine"]["backward_s"] > 0


def test_the_book_style_deep_conv_net_matches_tinygrad_kos():
    rng = np.random.default_rng(0)
    x, t = rng.random((2, 1, 28, 28)), np.array([3, 7])
    init = ref.init_deep_convnet_params(seed=2)
    mine = _copy_into(tk.DeepConvNet(), init)
    np.random.seed(1)
    expected = ref.DeepConvNet(init).gradient(x, t)
    np.random.seed(1)
    got = mine.gradient(x, t)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(ref.DeepConvNet(init).accuracy(x, t), mine.accuracy(x, t))


def test_quick_bench_runs_and_prints_tables(capsys):
    assert bench.main(seconds=1) == 0
    out = capsys.readouterr().out
    assert "| TwoLayerNet 784-100-10 float64 | tinygrad_ko |" in out
    assert "| TwoLayerNet 784-100-10 float32 | tinygrad_ko |" in out
    assert "| tinygrad_ko (forward + backward) |" in out


def _have(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


PLOT = [] if _have("matplotlib") else ["--no-plot"]
SCRIPTS = {  # a name for the test: (the script in benchmarks/, its arguments)
    "reference_numpy": ("reference_numpy", ["--quick"]),
    "step": ("step", ["--quick", "--nets", "two-layer", "--dtypes", "float64"]),
    "step_breakdown": ("step", ["--quick", "--nets", "two-layer", "--dtypes", "float32", "--peers", "torch",
                                "--breakdown", "--clock", "cpu"]),
    "op_overhead": ("op_overhead", ["--quick", "--length", "10"]),
    "scaling": ("scaling", ["--quick", "--batch-sizes", "1,10", "--hidden-sizes", "10"] + PLOT),
    "scaling_conv": ("scaling", ["--quick", "--conv", "--batch-sizes", "2", "--no-torch"] + PLOT),
    "numerical_vs_backprop": ("numerical_vs_backprop", ["--quick", "--input", "16", "--hidden", "3"]),
    "memory": ("memory", ["--quick", "--steps", "5"]),
    "memory_conv": ("memory", ["--quick", "--steps", "2", "--net", "simple-conv"]),
    "accuracy": ("accuracy", ["--quick"]),
    "conv_step_isolated": ("conv_step", ["--quick", "--nets", "simple", "--dtypes", "float32", "--batch-size", "8",
                                         "--no-torch", "--no-inference", "--isolated"]),
    "conv_step": ("conv_step", ["--quick", "--dtypes", "float32", "--batch-size", "8", "--no-torch",
                                "--test-images", "100", "--profile"]),
    "conv_step_layers": ("conv_step", ["--quick", "--nets", "deep", "--dtypes", "float64", "--batch-size", "2",
                                       "--no-inference", "--conv-layers"]),
}
EXPECTED = {  # what a script's output must also show, beyond a table
    "conv_step_layers": ["Each convolution alone", "16->16 3x3 on 28x28, pad 1", "64->64 3x3 on 8x8, pad 1"],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_benchmark_script_runs_in_quick_mode(name, tmp_path):
    script, args = SCRIPTS[name]
    out_json = tmp_path / f"{name}.json"
    args = args + ["--json", str(out_json)]
    plot = tmp_path / "scaling.png"
    if script == "scaling" and "--no-plot" not in args:
        args += ["--plot", str(plot)]
    done = subprocess.run([sys.executable, os.path.join(BENCHMARKS, f"{script}.py")] + args,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "|---|" in done.stdout  # a Markdown table
    for text in EXPECTED.get(name, []):
        assert text in done.stdout
    assert json.loads(out_json.read_text())
    if script == "scaling" and "--no-plot" not in args:
        assert plot.stat().st_size > 0
