"""The conv modules (tk.nn.Conv2d, MaxPool2d, AvgPool2d, Flatten), PyTorch parity, and memory over steps.

PyTorch is optional: the parity tests skip without it (the proofs that do not
need it are in test_conv.py).
"""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F

# --- modules -------------------------------------------------------------------


def test_conv2d_module_has_pytorchs_names_shapes_and_init_bounds():
    np.random.seed(0)
    conv = tk.nn.Conv2d(3, 8, (3, 2), stride=2, padding=1)
    names = [name for name, _ in conv.named_parameters()]
    assert names == ["weight", "bias"]
    assert conv.weight.shape == (8, 3, 3, 2) and conv.bias.shape == (8,)
    bound = 1.0 / np.sqrt(3 * 3 * 2)
    for p in (conv.weight, conv.bias):
        assert p.dtype == np.float64 and np.abs(p.numpy()).max() <= bound
    assert np.abs(conv.weight.numpy()).max() > 0.8 * bound  # spread over the range, not squeezed near 0
    np.random.seed(0)
    again = tk.nn.Conv2d(3, 8, (3, 2), stride=2, padding=1)
    np.testing.assert_array_equal(again.weight.numpy(), conv.weight.numpy())
    np.testing.assert_array_equal(again.bias.numpy(), conv.bias.numpy())


def test_conv2d_module_computes_conv2d_with_its_settings():
    conv = tk.nn.Conv2d(2, 3, 3, stride=(2, 1), padding=(1, 0), dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 6)).astype(np.float32)
    y = conv(x)
    assert y.dtype == np.float32 and conv.weight.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), F.conv2d(x, conv.weight, conv.bias, stride=(2, 1), pad=(1, 0)).numpy())
    assert tk.nn.Conv2d(2, 3, 3, bias=False).bias is None
    assert [n for n, _ in tk.nn.Conv2d(2, 3, 3, bias=False).named_parameters()] == ["weight"]


@pytest.mark.parametrize("args, words", [
    ((0, 3, 3), ["Conv2d", "in_channels", "positive int", "0"]),
    ((2, 2.5, 3), ["Conv2d", "out_channels", "2.5"]),
    ((2, 3, 1.5), ["Conv2d", "kernel_size", "int or a pair", "1.5"]),
])
def test_conv2d_module_refuses_bad_sizes(args, words):
    with pytest.raises((TypeError, ValueError)) as info:
        tk.nn.Conv2d(*args)
    for word in words:
        assert word in str(info.value)


def test_modules_print_like_pytorch():
    assert repr(tk.nn.Conv2d(1, 30, 5)) == "Conv2d(1, 30, kernel_size=(5, 5), stride=(1, 1))"
    assert repr(tk.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)) == \
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)"
    assert repr(tk.nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(tk.nn.AvgPool2d(3, stride=1, padding=1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(tk.nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_pool_and_flatten_modules_call_the_functions():
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 6))
    np.testing.assert_array_equal(tk.nn.MaxPool2d(2)(x).numpy(), F.max_pool2d(x, 2).numpy())
    np.testing.assert_array_equal(tk.nn.AvgPool2d(3, 1, 1)(x).numpy(), F.avg_pool2d(x, 3, stride=1, pad=1).numpy())
    assert tk.nn.Flatten()(x).shape == (2, 108)
    assert tk.nn.Flatten(0, 1)(x).shape == (6, 6, 6)


def test_a_small_conv_net_learns_a_batch():
    np.random.seed(0)
    net = tk.nn.Sequential(tk.nn.Conv2d(1, 4, 3, padding=1), tk.nn.ReLU(), tk.nn.MaxPool2d(2), tk.nn.Flatten(),
                           tk.nn.Linear(4 * 3 * 3, 3))
    rng = np.random.default_rng(2)
    x, t = rng.standard_normal((6, 1, 6, 6)), np.array([0, 1, 2, 0, 1, 2])
    optimizer = tk.optim.SGD(lr=0.1)
    params = dict(net.named_parameters())
    losses = []
    for _ in range(60):
        net.zero_grad()
        loss = F.softmax_cross_entropy(net(x), t)
        loss.backward()
        optimizer.update(params, {k: p.grad for k, p in params.items()})
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


def lenet():
    """A LeNet-style net of tk.nn modules, with batch norm and dropout (so train/eval matter)."""
    nn = tk.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),   # 6 x 14 x 14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),                  # 16 x 5 x 5
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(0.2), nn.Linear(120, 10))


def test_a_lenet_style_sequential_learns_the_bundled_sample_in_one_epoch():
    (x_train, t_train), (x_test, t_test) = tk.datasets.load_mnist(flatten=False, sample=True)
    np.random.seed(0)
    net = lenet()
    params = dict(net.named_parameters())
    assert "1.running_mean" in net.state_dict() and "1.running_mean" not in params
    optimizer = tk.optim.Adam(lr=0.002)
    losses = []
    net.train()
    for start in range(0, len(x_train), 100):  # one epoch: 40 steps of 100 digits
        net.zero_grad()
        loss = F.softmax_cross_entropy(net(x_train[start:start + 100]), t_train[start:start + 100])
        loss.backward()
        optimizer.update(params, {k: p.grad for k, p in params.items()})
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    net.eval()
    assert not net[1].training and not net[10].training
    with tk.no_grad():
        predicted = np.argmax(net(x_test).data, axis=1)
    assert np.mean(predicted == t_test) > 0.6  # chance is 0.1
    with tk.no_grad():  # eval mode is deterministic: dropout off, running statistics used
        np.testing.assert_array_equal(net(x_test[:20]).data, net(x_test[:20]).data)


# --- PyTorch parity (optional) -------------------------------------------------------


@pytest.mark.parametrize("shape, w_shape, stride, pad", [
    ((2, 3, 9, 8), (4, 3, 3, 3), 1, 0),
    ((2, 3, 9, 8), (4, 3, 3, 2), 2, 1),
    ((3, 2, 7, 10), (5, 2, 2, 4), (2, 3), (1, 2)),
    ((1, 1, 28, 28), (30, 1, 5, 5), 1, 0),
])
def test_conv2d_equals_torch_to_1e12(shape, w_shape, stride, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, W, b = rng.standard_normal(shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    tx, tW, tb = (tk.Tensor(a, requires_grad=True) for a in (x, W, b))
    y = F.conv2d(tx, tW, tb, stride=stride, pad=pad)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    X, Wt, B = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    Y = torch.nn.functional.conv2d(X, Wt, B, stride=stride, padding=pad)
    Y.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.numpy(), Y.detach().numpy(), rtol=0, atol=1e-12)
    for ours, theirs in ((tx, X), (tW, Wt), (tb, B)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("kernel, stride, pad", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1)), (3, 1, 1)])
def test_pooling_equals_torch_to_1e12(kind, kernel, stride, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal((2, 3, 7, 8)), 1)  # rounded: many ties, resolved alike
    tx = tk.Tensor(x, requires_grad=True)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    ours = F.max_pool2d if kind == "max" else F.avg_pool2d
    theirs = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    y = ours(tx, kh, kw, stride=stride, pad=pad)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    X = torch.tensor(x, requires_grad=True)
    Y = theirs(X, kernel, stride, pad)
    Y.backward(torch.tensor(gy))
    np.testing.assert_allclose(y.numpy(), Y.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(tx.grad.numpy(), X.grad.numpy(), rtol=0, atol=1e-12)


def test_conv2d_module_with_torchs_weights_gives_torchs_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(3, 6, (3, 2), stride=(1, 2), padding=1).double()
    ours = tk.nn.Conv2d(3, 6, (3, 2), stride=(1, 2), padding=1)
    ours.load_state_dict({name: p.detach().numpy() for name, p in theirs.named_parameters()})
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 7))
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=0, atol=1e-12)
    for name in ("weight", "bias"):
        assert getattr(ours, name).shape == tuple(getattr(theirs, name).shape)


def test_max_pool2d_of_minus_inf_with_padding_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.full((1, 1, 3, 4), -np.inf)
    x[0, 0, 1, 2] = np.inf
    gy = np.arange(1.0, 13.0).reshape(1, 1, 3, 4)
    tx = tk.Tensor(x, requires_grad=True)
    F.max_pool2d(tx, 3, stride=1, pad=1).backward(gy)
    X = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(X, 3, 1, 1).backward(torch.tensor(gy))
    np.testing.assert_array_equal(tx.grad.numpy(), X.grad.numpy())


# --- memory ----------------------------------------------------------------------


def test_conv_steps_free_their_graphs_and_do_not_grow_memory():
    """20 small SimpleConvNet-shaped steps with gc off: each step's graph dies, traced memory stays flat."""
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((8, 1, 12, 12)), rng.integers(0, 10, 8)
    params = {"W1": rng.standard_normal((4, 1, 5, 5)) * 0.1, "b1": np.zeros(4),
              "W2": rng.standard_normal((4 * 4 * 4, 10)) * 0.1, "b2": np.zeros(10)}
    params = {k: tk.Tensor(v, requires_grad=True) for k, v in params.items()}
    optimizer = tk.optim.SGD(lr=0.01)

    def step():
        conv = F.conv2d(x, params["W1"], params["b1"])
        pooled = F.max_pool2d(F.relu(conv), 2)
        loss = F.softmax_cross_entropy(F.linear(F.flatten(pooled), params["W2"], params["b2"]), t)
        refs = [weakref.ref(a) for a in (conv, pooled, loss, conv.grad_fn, pooled.grad_fn, loss.grad_fn)]
        for p in params.values():
            p.grad = None
        loss.backward()
        optimizer.update(params, {k: p.grad for k, p in params.items()})
        return refs

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(5):  # warm-up: caches, the first gradients
            step()
        tracemalloc.start()
        sizes = []
        for _ in range(20):
            refs = step()
            assert all(ref() is None for ref in refs), "a tensor or Function of the step outlived it"
            sizes.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
    finally:
        if was_enabled:
            gc.enable()
    # A step allocates about 200 KB of arrays (the columns alone are 8*8*8*25*8 bytes = 102 KB): a step
    # that kept any of them would add that much every step. The median step-to-step change is used, not
    # max - min: CPython and NumPy keep a few small blocks for reuse (tuples, cached buffers), which here
    # added about 300 bytes a step for the first ~2000 steps (as much without convolutions) and once,
    # after ~2500 steps, one block of about 0.9 MB.
    assert np.median(np.diff(sizes)) < 4096, sizes


# --- the benchmark's reference: the book's layers compute what the ops compute --------------


def test_the_books_convolution_and_pooling_layers_match_the_ops():
    from tinygrad_ko import _bench_reference as ref

    rng = np.random.default_rng(7)
    x, W, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    conv, pool = ref.Convolution(W, b, stride=2, pad=1), ref.Pooling(2, 2, stride=2)
    y = pool.forward(conv.forward(x))
    gy = rng.standard_normal(y.shape)
    dx = conv.backward(pool.backward(gy))
    tx, tW, tb = (tk.Tensor(a, requires_grad=True) for a in (x, W, b))
    ty = F.max_pool2d(F.conv2d(tx, tW, tb, stride=2, pad=1), 2)
    ty.backward(gy)
    np.testing.assert_allclose(ty.numpy(), y, rtol=1e-12, atol=1e-12)
    for ours, books in ((tx, dx), (tW, conv.dW), (tb, conv.db)):
        np.testing.assert_allclose(ours.grad.numpy(), books, rtol=1e-12, atol=1e-12)
