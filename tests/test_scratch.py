"""The scratch pool behind conv2d's kept columns: buffers are reused only when nothing uses them."""

import threading

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko.ops import conv as conv_ops
from tinygrad_ko.ops import scratch

BIG = (512, 1024)  # 2 MiB in float32: above MIN_POOLED_BYTES


def address(a):
    return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def empty_pool():
    scratch.release_free()
    yield
    scratch.release_free()


def test_live_arrays_never_share_memory_and_have_the_shape_and_dtype_asked_for():
    arrays = [scratch.scratch_empty(BIG, np.float32) for _ in range(3)]
    arrays.append(scratch.scratch_empty((256, 1024), np.float64))
    for i, a in enumerate(arrays):
        assert a.flags.c_contiguous and a.flags.writeable
        for b in arrays[i + 1:]:
            assert not np.shares_memory(a, b)
    assert (arrays[0].shape, arrays[0].dtype) == (BIG, np.float32)
    assert (arrays[3].shape, arrays[3].dtype) == ((256, 1024), np.float64)


def test_a_buffer_is_used_again_once_every_array_made_from_it_is_gone():
    a = scratch.scratch_empty(BIG, np.float32)
    where = address(a)
    view = a.reshape(-1)[10:]  # a view keeps the buffer taken
    del a
    b = scratch.scratch_empty(BIG, np.float32)
    assert address(b) != where
    del view
    c = scratch.scratch_empty(BIG, np.float32)
    assert address(c) == where
    total, free = scratch.pooled_bytes()
    assert free == 0 and total == 2 * np.prod(BIG) * 4


def test_small_arrays_do_not_come_from_the_pool():
    a = scratch.scratch_empty((10, 10), np.float64)
    assert a.base is None and scratch.pooled_bytes() == (0, 0)


def test_the_pool_is_bounded(monkeypatch):
    monkeypatch.setattr(scratch, "MAX_POOL_BYTES", 5 * 2 ** 20)
    kept = [scratch.scratch_empty(BIG, np.float32) for _ in range(3)]  # the third is over the bound
    assert scratch.pooled_bytes()[0] == 2 * 2 ** 21 and kept[2].base is None
    monkeypatch.setattr(scratch, "MAX_FREE_BYTES", 2 ** 21)
    del kept
    for rows in (600, 700, 800):  # new sizes drop free buffers beyond MAX_FREE_BYTES first
        scratch.scratch_empty((rows, 2048), np.float32)
        free = scratch.pooled_bytes()[1]
        assert free <= 2 ** 21 + rows * 2048 * 4


def test_each_thread_has_its_own_pool():
    mine = scratch.scratch_empty(BIG, np.float32)
    seen = {}

    def other():
        seen["before"] = scratch.pooled_bytes()
        seen["array"] = scratch.scratch_empty(BIG, np.float32)
        seen["after"] = scratch.pooled_bytes()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen["before"] == (0, 0) and seen["after"][0] == np.prod(BIG) * 4
    assert not np.shares_memory(mine, seen["array"])


def conv_gradients(x, W, b, save):
    """gx, gW, gb of sum(conv2d(...) * weights), with the columns kept or rebuilt."""
    default = conv_ops.Conv2d.save_columns
    conv_ops.Conv2d.save_columns = save
    try:
        xt, Wt, bt = (tk.Tensor(a, requires_grad=True) for a in (x, W, b))
        y = tk.functional.conv2d(xt, Wt, bt, stride=1, pad=1)
        (y * np.cos(np.arange(y.size).reshape(y.shape))).sum().backward()
        return xt.grad.data, Wt.grad.data, bt.grad.data
    finally:
        conv_ops.Conv2d.save_columns = default


def test_kept_columns_are_not_overwritten_by_later_convolutions_or_a_second_backward():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 28, 28))  # columns of 8 MiB in float64: pooled
    W, b = rng.standard_normal((4, 16, 3, 3)), rng.standard_normal(4)
    expected = conv_gradients(x, W, b, save=False)
    x1, W1 = tk.Tensor(x, requires_grad=True), tk.Tensor(W, requires_grad=True)
    y1 = tk.functional.conv2d(x1, W1, tk.Tensor(b), pad=1)
    others = [tk.functional.conv2d(tk.Tensor(rng.standard_normal(x.shape), requires_grad=True), W1, pad=1)
              for _ in range(2)]  # same shapes: they must take other buffers while y1's columns live
    loss = (y1 * np.cos(np.arange(y1.size).reshape(y1.shape))).sum()
    loss.backward(retain_graph=True)
    first = W1.grad.data.copy()
    W1.grad = None
    sum(o.sum() for o in others).backward()  # frees the others' columns; their buffers may be reused
    tk.functional.conv2d(tk.Tensor(x), tk.Tensor(W, requires_grad=True), pad=1).sum().backward()
    W1.grad = None
    loss.backward()
    np.testing.assert_allclose(first, expected[1], rtol=1e-12)
    np.testing.assert_allclose(W1.grad.data, expected[1], rtol=1e-12)
    np.testing.assert_allclose(x1.grad.data, 2 * expected[0], rtol=1e-12)


def test_training_steps_take_the_same_buffers_each_step():
    net = tk.DeepConvNet()
    rng = np.random.default_rng(1)
    x, t = rng.random((8, 1, 28, 28)), rng.integers(0, 10, 8)
    sizes = []
    for _ in range(4):
        net.gradient(x, t)
        sizes.append(scratch.pooled_bytes())
    assert sizes[0][0] > 0 and len(set(sizes)) == 1 and sizes[0][1] == sizes[0][0]
