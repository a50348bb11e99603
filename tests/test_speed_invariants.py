"""What the speed work must never change: the benchmark nets' gradients, dtypes, and the fast paths' values.

The gradients of the nets the benchmarks time (TwoLayerNet, SimpleConvNet,
DeepConvNet) on fixed seeded batches are compared in float64 with the book's
own layers written out in NumPy (``tinygrad_ko._bench_reference``: im2col,
col2im, argmax pooling, hand-written backward): an independent reference,
recomputed here, never a stored file. Float32 in must stay float32 throughout.
The paths that exist only for speed (no argmax when nothing is recorded, the
transposed convolution as a plain one, the plain backward on arrays) must give
what the general paths give.
"""

import numpy as np
import pytest
from conv_layouts import LAYOUTS, use_conv_layout

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko import _bench_reference as ref
from tinygrad_ko.ops import conv as conv_ops

RTOL = 1e-12  # float64 gradients: equal to the reference up to rounding


def assert_same_gradients(grads, expected):
    assert sorted(grads) == sorted(expected)
    for key, g in expected.items():
        scale = np.abs(g).max()
        np.testing.assert_allclose(grads[key], g, rtol=RTOL, atol=RTOL * scale, err_msg=key)


def images(n, seed, dtype=np.float64):
    """n MNIST-like images: the package's real sample digits, a fixed seeded choice."""
    (x, t), _ = tk.datasets.load_mnist(sample=True)
    idx = np.random.default_rng(seed).choice(len(x), n, replace=False)
    return x[idx].reshape(n, 1, 28, 28).astype(dtype), t[idx].astype(np.intp)


def load(net, params):
    for key, value in params.items():
        net.params[key] = value
    return net


def test_two_layer_net_gradients_equal_the_books_layers():
    x, t = images(100, seed=1)
    x = x.reshape(100, 784)
    for activation in ("sigmoid", "relu"):
        init = ref.init_params((784, 100, 10), 0.01, seed=2)
        book = ref.TwoLayerNet(784, 100, 10, activation=activation, params=init)
        ours = load(tk.TwoLayerNet(784, 100, 10, activation=activation), init)
        assert_same_gradients(ours.gradient(x, t), book.gradient(x, t))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("chunk_bytes", [None, 350_000])
def test_simple_conv_net_gradients_equal_the_books_layers(chunk_bytes, layout, monkeypatch):
    use_conv_layout(monkeypatch, layout)
    if chunk_bytes is not None:
        monkeypatch.setattr(conv_ops, "COLUMN_CHUNK_BYTES", chunk_bytes)
    x, t = images(20, seed=3)
    init = ref.init_convnet_params(seed=4)
    book = ref.SimpleConvNet(init)
    ours = load(tk.SimpleConvNet(), init)
    assert_same_gradients(ours.gradient(x, t), book.gradient(x, t))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("save_columns, chunk_bytes", [(False, None), (True, None), (False, 1_000_000), (True, 1_000_000)])
def test_deep_conv_net_gradients_equal_the_books_layers(save_columns, chunk_bytes, layout, monkeypatch):
    """Also with the columns kept from forward, and built a few images at a time (a small chunk size
    forces that path here, which only large batches take), in both of conv2d's layouts."""
    use_conv_layout(monkeypatch, layout)
    monkeypatch.setattr(conv_ops.Conv2d, "save_columns", save_columns)
    if chunk_bytes is not None:
        monkeypatch.setattr(conv_ops, "COLUMN_CHUNK_BYTES", chunk_bytes)
    x, t = images(4, seed=5)
    init = ref.init_deep_convnet_params(seed=6)
    book = ref.DeepConvNet(init)
    ours = load(tk.DeepConvNet(), init)
    np.random.seed(7)  # the same dropout masks: both draw them with np.random.rand, in the same order
    expected = book.gradient(x, t)
    np.random.seed(7)
    assert_same_gradients(ours.gradient(x, t), expected)


def test_float32_stays_float32_through_every_benchmark_net():
    x, t = images(4, seed=8, dtype=np.float32)
    nets = [tk.TwoLayerNet(784, 20, 10, dtype=np.float32), tk.SimpleConvNet(dtype=np.float32),
            tk.DeepConvNet(dtype=np.float32)]
    for net in nets:
        data = x.reshape(4, 784) if isinstance(net, tk.TwoLayerNet) else x
        np.random.seed(0)
        loss, grads = net.loss_and_gradient(data, t)
        assert net.predict(data).dtype == np.float32
        assert net.loss(data, t).dtype == np.float32
        assert all(g.dtype == np.float32 for g in grads.values())
        tk.optim.SGD(lr=0.01).update(net.params, grads)
        assert all(p.dtype == np.float32 for p in net.params.values())
        with tk.no_grad():
            assert net.predict(data).dtype == np.float32


@pytest.mark.parametrize("net", ["simple", "deep"])
def test_float32_conv_nets_agree_with_float64_and_store_pixel_by_pixel(net):
    """Float32 convolutions of more than one input channel work pixel by pixel (NHWC memory); their
    gradients equal float64's to float32's precision, and the activations keep that memory order."""
    x, t = images(8, seed=12)
    init = ref.init_convnet_params(seed=13) if net == "simple" else ref.init_deep_convnet_params(seed=13)
    make = tk.SimpleConvNet if net == "simple" else tk.DeepConvNet
    ours64 = load(make(), init)
    ours32 = load(make(dtype=np.float32), {k: v.astype(np.float32) for k, v in init.items()})
    np.random.seed(14)
    expected = ours64.gradient(x, t)
    np.random.seed(14)
    grads = ours32.gradient(x.astype(np.float32), t)
    for key, g in expected.items():
        assert grads[key].dtype == np.float32
        np.testing.assert_allclose(grads[key], g, rtol=2e-3, atol=2e-4 * np.abs(g).max(), err_msg=key)
    if net == "deep":  # conv1 sees one channel (by channel); conv2 sees 16 (by pixel)
        first = F.conv2d(x[:, :1].astype(np.float32), ours32.W1, ours32.b1, pad=1)
        second = F.conv2d(F.relu(first), ours32.W2, ours32.b2, pad=1)
        assert conv_ops.memory_order(first.numpy()) == (1, 0, 2, 3)
        assert conv_ops.memory_order(second.numpy()) == (0, 2, 3, 1)
        assert conv_ops.memory_order(F.max_pool2d(F.relu(second), 2, 2).numpy()) == (0, 2, 3, 1)


def test_float32_images_into_a_float64_net_compute_in_float64():
    x, t = images(6, seed=9, dtype=np.float32)
    init = ref.init_convnet_params(seed=10)
    ours = load(tk.SimpleConvNet(), init)
    book = ref.SimpleConvNet(init)  # the book's layers promote float32 images to float64 too
    assert ours.predict(x).dtype == np.float64
    np.testing.assert_allclose(ours.predict(x).numpy(), book.predict(x), rtol=1e-12, atol=1e-14)
    assert_same_gradients(ours.gradient(x, t), book.gradient(x.astype(np.float64), t))


@pytest.mark.parametrize("net", ["simple", "deep"])
def test_inference_under_no_grad_equals_the_recorded_forward_exactly(net):
    """No argmax is kept when nothing is recorded (max pooling takes its rows first): same numbers."""
    x, _ = images(8, seed=11)
    model = tk.SimpleConvNet() if net == "simple" else tk.DeepConvNet()
    recorded = model.predict(x)
    assert recorded.requires_grad
    with tk.no_grad():
        plain = model.predict(x)
    assert not plain.requires_grad
    np.testing.assert_array_equal(plain.numpy(), recorded.numpy())


@pytest.mark.parametrize("kernel, stride, pad", [(2, 2, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 1)), (3, 3, 0)])
def test_max_pool2d_unrecorded_values_equal_the_recorded_ones_with_nan_and_ties(kernel, stride, pad):
    rng = np.random.default_rng(12)
    x = rng.integers(-2, 3, (2, 3, 7, 8)).astype(np.float64)  # many ties
    x[0, 0, 1, 1] = np.nan
    x[1, 2, :, :2] = -np.inf
    channel_major = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    for data in (x, channel_major):
        kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        recorded = F.max_pool2d(tk.Tensor(data, requires_grad=True), kh, kw, stride=stride, pad=pad)
        plain = F.max_pool2d(data, kh, kw, stride=stride, pad=pad)
        np.testing.assert_array_equal(plain.numpy(), recorded.numpy())


@pytest.mark.parametrize("c, fn, pad", [(3, 2, 1), (2, 4, 1), (2, 2, 2), (2, 5, 0), (3, 3, 3)])
def test_conv2d_input_gradient_routes_agree(c, fn, pad):
    """gx as a plain convolution (stride 1, pad < kernel; conv2d takes that route only when FN < 2C,
    but it is exact for any FN) equals col2im(W^T gy), and both equal a direct loop over the definition."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, c, 5, 6))
    W = rng.standard_normal((fn, c, 3, 3))
    g = conv_ops.conv_geometry(x.shape, W.shape, None, (1, 1), (pad, pad))
    gy = rng.standard_normal((2, fn) + g.out)
    rows = conv_ops._rows(np.ascontiguousarray(gy.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3))
    by_columns = conv_ops.add_columns(conv_ops.dot2(W.reshape(fn, -1).T, rows), g)
    expected = np.zeros((2, c, 5 + 2 * pad, 6 + 2 * pad))
    for i in range(g.out[0]):
        for j in range(g.out[1]):
            expected[:, :, i:i + 3, j:j + 3] += np.einsum("nf,fcpq->ncpq", gy[:, :, i, j], W)
    expected = expected[:, :, pad:pad + 5, pad:pad + 6]
    np.testing.assert_allclose(by_columns, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv_ops._grad_input(rows, W, g), expected, rtol=1e-12, atol=1e-12)
    if pad < 3:  # the plain convolution needs pad < kernel
        np.testing.assert_allclose(conv_ops._grad_input_as_conv(rows, W, g), expected, rtol=1e-12, atol=1e-12)


def test_relu_backward_on_arrays_equals_the_recorded_one():
    x = tk.Tensor(np.array([-1.0, 0.0, 2.0, 3.0]), requires_grad=True)
    gy = np.array([np.inf, -5.0, 7.0, np.nan])
    with np.errstate(invalid="ignore"):  # inf * 0
        F.relu(x).backward(gy)
        plain = x.grad.numpy()
        x2 = tk.Tensor(x.numpy(), requires_grad=True)
        (g,) = tk.grad(F.relu(x2), x2, grad_outputs=gy, create_graph=True)
    np.testing.assert_array_equal(plain, g.numpy())  # inf * 0 is NaN in both: the same product


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_equals_maximum_with_zero_bit_for_bit_and_keeps_memory_order(dtype):
    special = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, -1.5, 2.5, np.finfo(dtype).tiny], dtype)
    values = np.resize(special, 2 * 3 * 4 * 5)
    x = values.reshape(2, 4, 5, 3).transpose(0, 3, 1, 2)  # (N, C, H, W) stored pixel by pixel
    for requires_grad in (True, False):
        y = F.relu(tk.Tensor(x, requires_grad=requires_grad)).numpy()
        expected = np.maximum(x, 0)
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.view(f"u{x.itemsize}"), expected.view(f"u{x.itemsize}"))
        assert conv_ops.memory_order(y) == (0, 2, 3, 1)
    assert F.relu(tk.Tensor(np.array([-2, 3]))).numpy().tolist() == [0, 3]  # integers: the plain path


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_forward_equals_the_reciprocal_formula_bit_for_bit(dtype):
    x = np.concatenate([np.random.default_rng(0).standard_normal(500) * 30,
                        [np.inf, -np.inf, np.nan, 0.0, -0.0, 800.0, -800.0]]).astype(dtype)
    with np.errstate(over="ignore"):
        expected = np.reciprocal(1 + np.exp(-x))
    y = F.sigmoid(tk.Tensor(x)).numpy()
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, expected)
