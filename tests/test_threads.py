"""Two threads, two nets: training at the same time gives bitwise what training one after the other gives.

The engine's switches (grad mode, anomaly detection, "inside a backward pass")
are per thread, and nothing else is shared between graphs, so two threads that
each train their own TwoLayerNet must not notice each other. Each run draws its
initial weights and its batches from its own seeded ``np.random.default_rng``
(never the global ``np.random``), so the sequential runs are an exact reference.
The switch interval is shortened while the threads run, so that they interleave
between nearly every pair of bytecodes of the engine.
"""

import sys
import threading

import numpy as np
import pytest

import tinygrad_ko as tk

STEPS, BATCH, LR = 100, 100, 0.1


@pytest.fixture(scope="module")
def mnist_sample():
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    return x_train, t_train


def train(seed, data, steps=STEPS, anomaly=False, evaluate_every=0, on_step=None):
    """The book's loop on a 784-20-10 TwoLayerNet; returns the final weights (copies)."""
    x_train, t_train = data
    rng = np.random.default_rng(seed)
    net = tk.TwoLayerNet(784, 20, 10)
    for key, shape in (("W1", (784, 20)), ("W2", (20, 10))):
        net.params[key] = 0.01 * rng.standard_normal(shape)
    for key, size in (("b1", 20), ("b2", 10)):
        net.params[key] = np.zeros(size)
    for step in range(steps):
        batch = rng.integers(0, len(x_train), BATCH)
        x, t = x_train[batch], t_train[batch]
        if anomaly:
            with tk.detect_anomaly():
                grads = net.gradient(x, t)
        else:
            grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= LR * grads[key]
        if evaluate_every and step % evaluate_every == 0:
            net.accuracy(x, t)                       # runs under no_grad, in this thread only
        if on_step is not None:
            on_step(net, x, t)
    return {key: net.params[key].copy() for key in ("W1", "b1", "W2", "b2")}


def run_in_threads(*jobs):
    """Run each job in its own thread, all started together; return their results (or raise)."""
    results, errors = [None] * len(jobs), []
    start = threading.Barrier(len(jobs))

    def runner(i, job):
        try:
            start.wait()  # no time limit: a loaded machine may start the threads slowly
            results[i] = job()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)  # a hang guard only, far beyond any loaded run
    finally:
        sys.setswitchinterval(interval)
    assert not any(thread.is_alive() for thread in threads), "a training thread hung"
    if errors:
        raise errors[0]
    return results


def assert_bitwise_equal(a, b):
    for key in a:
        assert a[key].dtype == b[key].dtype
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_two_nets_trained_at_once_equal_the_same_nets_trained_one_after_the_other(mnist_sample):
    sequential = [train(1, mnist_sample), train(2, mnist_sample)]
    parallel = run_in_threads(lambda: train(1, mnist_sample), lambda: train(2, mnist_sample))
    for seq, par in zip(sequential, parallel):
        assert_bitwise_equal(par, seq)
    assert not np.array_equal(sequential[0]["W1"], sequential[1]["W1"])   # two different runs


def test_evaluating_under_no_grad_in_one_thread_does_not_disturb_the_other(mnist_sample):
    # Thread 1 enters and leaves no_grad every other step (net.accuracy); thread 2 never does.
    sequential = [train(3, mnist_sample, evaluate_every=2), train(4, mnist_sample)]
    parallel = run_in_threads(lambda: train(3, mnist_sample, evaluate_every=2), lambda: train(4, mnist_sample))
    for seq, par in zip(sequential, parallel):
        assert_bitwise_equal(par, seq)


def test_anomaly_detection_in_one_thread_does_not_change_the_other(mnist_sample):
    sequential = [train(5, mnist_sample), train(6, mnist_sample)]
    parallel = run_in_threads(lambda: train(5, mnist_sample, anomaly=True), lambda: train(6, mnist_sample))
    for seq, par in zip(sequential, parallel):
        assert_bitwise_equal(par, seq)


def test_no_grad_held_in_one_thread_while_the_other_trains(mnist_sample):
    # One thread sits inside no_grad for the whole run and checks that it records nothing;
    # meanwhile the other trains and checks that every loss is recorded.
    done = threading.Event()
    seen = {"no_grad_checks": 0, "recorded_losses": 0}

    def hold_no_grad():
        x = tk.Tensor(np.ones((2, 3)), requires_grad=True)
        with tk.no_grad():
            while not done.is_set():
                assert not tk.is_grad_enabled()
                y = (x * 2.0).sum()
                assert not y.requires_grad and y.is_leaf
                seen["no_grad_checks"] += 1
        assert tk.is_grad_enabled()
        assert (x * 2.0).requires_grad

    def check_recorded(net, x, t):
        assert tk.is_grad_enabled()
        loss = net.loss(x, t)
        assert loss.requires_grad and not loss.is_leaf
        seen["recorded_losses"] += 1

    def trainer():
        try:
            return train(7, mnist_sample, steps=50, on_step=check_recorded)
        finally:
            done.set()

    weights, _ = run_in_threads(trainer, hold_no_grad)
    assert seen["recorded_losses"] == 50
    assert seen["no_grad_checks"] > 0
    assert_bitwise_equal(weights, train(7, mnist_sample, steps=50))
    assert tk.is_grad_enabled()
