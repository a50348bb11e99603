"""What a backward pass leaves behind: the freed graph (retain_graph), in-place changes, threads.

As in PyTorch, ``backward()`` frees what the graph saved, so a second pass through
the same graph raises instead of silently adding the gradient again; every
in-place change made through tinygrad_ko's API is stamped, so a backward that
would read a changed value raises instead of returning a gradient of neither
the old nor the new weights.
"""

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import tinygrad_ko as tk

SECOND_PASS = "retain_graph=True"
CHANGED = "modified in place"


# --- retain_graph ---


def test_a_second_backward_through_one_graph_raises_and_adds_nothing():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_PASS) as info:
        y.backward()
    assert "second time" in str(info.value) and "<Sum>" in str(info.value)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_a_graph_that_saved_nothing_is_freed_too():
    a, b = tk.Tensor(1.0, requires_grad=True), tk.Tensor(2.0, requires_grad=True)
    y = a + b  # Add saves nothing, yet a second pass is refused, as the contract says
    y.backward()
    with pytest.raises(RuntimeError, match=SECOND_PASS):
        y.backward()
    assert a.grad.item() == 1.0 and b.grad.item() == 1.0


def test_retain_graph_allows_a_second_pass_that_accumulates():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match=SECOND_PASS):
        y.backward()


def test_create_graph_retains_the_graph_by_default():
    x = tk.Tensor(3.0, requires_grad=True)
    y = x ** 3
    y.backward(create_graph=True)
    y.backward(create_graph=True)
    assert x.grad.item() == 54.0


def test_a_pass_into_a_freed_part_of_a_shared_graph_raises_before_touching_any_grad():
    x = tk.Tensor([0.5, 1.5], requires_grad=True)
    w = tk.Tensor([2.0, 3.0], requires_grad=True)
    h = x * w
    first, second = h.exp().sum(), (h * w).sum()
    first.backward()
    x_grad, w_grad = x.grad.numpy().copy(), w.grad.numpy().copy()
    with pytest.raises(RuntimeError, match=SECOND_PASS) as info:
        second.backward()
    assert "<Mul>" in str(info.value)
    np.testing.assert_array_equal(x.grad.numpy(), x_grad)
    np.testing.assert_array_equal(w.grad.numpy(), w_grad)


def test_tk_grad_frees_unless_retain_graph():
    x = tk.Tensor(2.0, requires_grad=True)
    y = x * x
    assert tk.grad(y, x, retain_graph=True)[0].item() == 4.0
    assert tk.grad(y, x)[0].item() == 4.0
    with pytest.raises(RuntimeError, match=SECOND_PASS):
        tk.grad(y, x)
    assert x.grad is None


def test_backward_releases_the_intermediate_arrays_while_the_loss_is_kept():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = tk.Tensor(np.ones((4, 3)), requires_grad=True)
        hidden = (x * 2.0).exp()
        ref = weakref.ref(hidden)
        loss = hidden.sum()
        del hidden
        assert ref() is not None  # the graph holds it for backward
        loss.backward()
        assert ref() is None  # freed by the pass, though `loss` is still alive
        assert loss.item() == pytest.approx(12 * np.exp(2.0))
    finally:
        if was_enabled:
            gc.enable()


def test_drawing_a_freed_graph_says_how_to_keep_it():
    x = tk.Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True") as info:
        tk.viz.to_dot(y)
    assert "viz" in str(info.value) and "before backward" in str(info.value)


# --- in-place changes between forward and backward ---


def net_and_batch(seed=0):
    np.random.seed(seed)
    net = tk.TwoLayerNet(4, 5, 3)
    x, t = np.random.rand(6, 4), np.random.randint(0, 3, 6)
    return net, x, t


def test_params_minus_equals_between_forward_and_backward_raises_and_names_the_op():
    net, x, t = net_and_batch()
    loss = net.loss(x, t)
    net.params["W2"] -= 0.1 * np.ones((5, 3))
    with pytest.raises(RuntimeError, match=CHANGED) as info:
        loss.backward()
    message = str(info.value)
    assert "linear" in message and "<Linear>" in message and "(5, 3)" in message
    assert "after it was used in the forward pass" in message
    assert "net.params['W2']" in message and "recompute the forward pass" in message and ".clone()" in message


@pytest.mark.parametrize("how", ["load_state_dict", "SGD.update", "Adam.update", "-="])
def test_every_api_in_place_change_is_detected(how):
    net, x, t = net_and_batch()
    loss = net.loss(x, t)
    if how == "load_state_dict":
        net.load_state_dict({k: v + 1.0 for k, v in net.state_dict().items()})
    elif how == "-=":
        with tk.no_grad():
            net.W1 -= 0.5
    else:
        optimizer = tk.optim.SGD(lr=0.1) if how == "SGD.update" else tk.optim.Adam()
        optimizer.update(net.params, {k: np.ones_like(v) for k, v in net.params.items()})
    with pytest.raises(RuntimeError, match=CHANGED) as info:
        loss.backward()
    assert f"by {how}" in str(info.value)


def test_optimizer_update_on_a_dict_of_tensors_is_detected():
    w = tk.Tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    tk.optim.Momentum(lr=0.1).update({"w": w}, {"w": np.ones(2)})
    with pytest.raises(RuntimeError, match="by Momentum.update"):
        y.backward()


def test_the_books_loop_trains_unchanged_and_gives_exact_gradients():
    net, x, t = net_and_batch()
    for _ in range(3):
        grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grads[key]
    expected = net.numerical_gradient(x, t)
    got = net.gradient(x, t)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-8)


def test_a_change_to_an_input_that_backward_does_not_read_is_allowed():
    # Add's gradient does not depend on its inputs (PyTorch allows this too).
    a = tk.Tensor([1.0, 2.0], requires_grad=True)
    b = tk.Tensor([3.0, 4.0])
    y = (a + b).sum()
    b += 1.0
    y.backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])


def test_a_changed_input_that_backward_reads_is_refused():
    a = tk.Tensor([1.0, 2.0], requires_grad=True)
    b = tk.Tensor([3.0, 4.0])
    y = (a * b).sum()
    b *= 2.0
    with pytest.raises(RuntimeError, match=r"mul .*input 1 of shape \(2,\).*by \*="):
        y.backward()
    assert a.grad is None


def test_a_changed_output_that_backward_reads_is_refused():
    x = tk.Tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()  # exp's backward reads its output
    with tk.no_grad():
        y += 1.0
    with pytest.raises(RuntimeError, match="exp .*its output of shape"):
        y.sum().backward()


def test_changes_before_the_forward_pass_are_fine():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    with tk.no_grad():
        x -= 1.0
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0])


def test_clone_is_the_documented_way_out():
    w = tk.Tensor([1.0, 2.0], requires_grad=True)
    snapshot = w.clone()
    y = (snapshot * snapshot).sum()
    with tk.no_grad():
        w -= 1.0
    y.backward()  # the clone was not changed
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


# --- threads ---


def test_two_threads_backpropagating_into_one_leaf_lose_no_update():
    w = tk.Tensor(np.ones(3), requires_grad=True)
    rounds, threads = 200, 2
    barrier = threading.Barrier(threads)

    def work():
        for _ in range(rounds):
            y = (w * 2.0).sum()
            barrier.wait()
            y.backward()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    np.testing.assert_array_equal(w.grad.numpy(), np.full(3, 2.0 * rounds * threads))
