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


SCRIPTS = {
    "reference_numpy": ["--quick"],
    "step": ["--quick", "--nets", "two-layer", "--dtypes", "float64"],
    "op_overhead": ["--quick", "--length", "10"],
    "scaling": ["--quick", "--batch-sizes", "1,10", "--hidden-sizes", "10"]
               + ([] if _have("matplotlib") else ["--no-plot"]),
    "numerical_vs_backprop": ["--quick", "--input", "16", "--hidden", "3"],
    "memory": ["--quick", "--steps", "5"],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_benchmark_script_runs_in_quick_mode(name, tmp_path):
    out_json = tmp_path / f"{name}.json"
    args = SCRIPTS[name] + ["--json", str(out_json)]
    if name == "scaling" and "--no-plot" not in args:
        args += ["--plot", str(tmp_path / "scaling.png")]
    done = subprocess.run([sys.executable, os.path.join(BENCHMARKS, f"{name}.py")] + args,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "|---|" in done.stdout  # a Markdown table
    assert json.loads(out_json.read_text())
    if name == "scaling" and "--no-plot" not in args:
        assert (tmp_path / "scaling.png").stat().st_size > 0
