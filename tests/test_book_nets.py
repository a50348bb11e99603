"""The book's chapter 6-8 nets: SimpleConvNet, DeepConvNet and MultiLayerNetExtend.

Each net's ``gradient`` (backprop by tinygrad_ko) is checked two ways: against
its ``numerical_gradient`` (central differences, float64, small sizes) and
against a direct backprop written the book's way, layer by layer in NumPy
(``tinygrad_ko._bench_reference``'s Convolution, Pooling, Affine, Relu and
SoftmaxWithLoss, and the book's BatchNormalization and Dropout below), from the
same weights and the same dropout masks.
"""

import pickle

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import _bench_reference as book


def max_relative_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


# --- the book's BatchNormalization and Dropout, written as the book writes them ---


class BookDropout:
    def __init__(self, ratio=0.5):
        self.ratio, self.mask = ratio, None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.ratio
            return x * self.mask
        return x * (1.0 - self.ratio)

    def backward(self, dout):
        return dout * self.mask


class BookBatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean = self.running_var = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if self.running_mean is None:
            self.running_mean, self.running_var = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + 10e-7)
            xn = xc / std
            self.batch_size, self.xc, self.xn, self.std = x.shape[0], xc, xn, std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + 10e-7)
        return (self.gamma * xn + self.beta).reshape(*self.input_shape)

    def backward(self, dout):
        dout = dout.reshape(dout.shape[0], -1)
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size
        return dx.reshape(*self.input_shape)


def book_backprop(layers, last_layer, x, t, train_flg):
    """Forward through ``layers`` (Dropout/BatchNorm get train_flg) and the loss, then backward; the loss."""
    for layer in layers:
        x = layer.forward(x, train_flg) if isinstance(layer, (BookDropout, BookBatchNormalization)) \
            else layer.forward(x)
    loss = last_layer.forward(x, t)
    dout = last_layer.backward(1)
    for layer in reversed(layers):
        dout = layer.backward(dout)
    return loss


def images(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape)), rng.integers(0, 10, n)


# --- SimpleConvNet ---


def test_simple_convnet_has_the_books_params_and_predicts_scores():
    np.random.seed(0)
    net = tk.SimpleConvNet()
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (30, 1, 5, 5), "b1": (30,), "W2": (4320, 100), "b2": (100,), "W3": (100, 10), "b3": (10,)}
    assert 0.005 < net.params["W1"].std() < 0.015 and not net.params["b2"].any()
    x, _ = images(3, (1, 28, 28))
    assert net.predict(x).shape == (3, 10)
    np.testing.assert_allclose(net.predict(x.reshape(3, 784)).data, net.predict(x).data)  # rows are reshaped


def test_simple_convnet_gradient_matches_its_numerical_gradient():
    np.random.seed(1)
    net = tk.SimpleConvNet(input_dim=(2, 7, 7), conv_param={"filter_num": 3, "filter_size": 3, "pad": 1,
                                                            "stride": 1},
                           hidden_size=4, output_size=3, weight_init_std=0.3)
    x, t = np.random.rand(2, 2, 7, 7), np.array([0, 2])
    grads, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    assert list(grads) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for key in grads:
        assert grads[key].shape == net.params[key].shape
        np.testing.assert_allclose(grads[key], numerical[key], rtol=1e-5, atol=1e-8)


def test_simple_convnet_gradient_equals_the_books_backprop():
    np.random.seed(2)
    net = tk.SimpleConvNet(weight_init_std=0.1)
    reference = book.SimpleConvNet({k: v for k, v in net.params.items()})
    x, t = images(4, (1, 28, 28), seed=3)
    grads = net.gradient(x, t)
    expected = reference.gradient(x, t)
    # The book's loss adds 1e-7 inside the log; its gradient (y - t) / N is the exact one, as ours.
    assert net.loss(x, t).item() == pytest.approx(reference.loss(x, t), abs=1e-5)
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-9, atol=1e-14)


# --- DeepConvNet ---


def book_deep_convnet_layers(params, conv_params):
    layers = []
    for i, conv in enumerate(conv_params):
        layers += [book.Convolution(params[f"W{i + 1}"], params[f"b{i + 1}"], conv["stride"], conv["pad"]),
                   book.Relu()]
        if i % 2 == 1:
            layers.append(book.Pooling(2, 2, stride=2))
    layers += [book.Affine(params["W7"], params["b7"]), book.Relu(), BookDropout(0.5),
               book.Affine(params["W8"], params["b8"]), BookDropout(0.5)]
    return layers


def test_deep_convnet_has_the_books_params():
    net = tk.DeepConvNet()
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes["W1"] == (16, 1, 3, 3) and shapes["W4"] == (32, 32, 3, 3) and shapes["W6"] == (64, 64, 3, 3)
    assert shapes["W7"] == (1024, 50) and shapes["W8"] == (50, 10) and list(shapes)[-1] == "b8"
    assert len(shapes) == 16


def test_deep_convnet_gradient_equals_the_books_backprop_with_the_same_dropout_masks():
    np.random.seed(3)
    net = tk.DeepConvNet()
    params = {k: v.copy() for k, v in net.params.items()}
    layers = book_deep_convnet_layers(params, net.conv_params)
    conv_layers = [layer for layer in layers if isinstance(layer, (book.Convolution, book.Affine))]
    x, t = images(3, (1, 28, 28), seed=4)
    np.random.seed(10)
    grads = net.gradient(x, t)  # the book's loss: dropout in training mode
    np.random.seed(10)
    loss = book_backprop(layers, book.SoftmaxWithLoss(), x, t, train_flg=True)
    np.random.seed(10)
    assert net.loss(x, t).item() == pytest.approx(loss, abs=1e-5)  # the book's +1e-7 in the log
    for i, layer in enumerate(conv_layers, start=1):
        np.testing.assert_allclose(grads[f"W{i}"], layer.dW, rtol=1e-8, atol=1e-13)
        np.testing.assert_allclose(grads[f"b{i}"], layer.db, rtol=1e-8, atol=1e-13)


def test_deep_convnet_gradient_matches_central_differences_along_random_directions():
    np.random.seed(5)
    net = tk.DeepConvNet()
    x, t = images(2, (1, 28, 28), seed=6)

    def loss_with_fixed_masks():
        np.random.seed(11)  # the same dropout masks at every evaluation
        return net.loss(x, t).item()

    np.random.seed(11)
    grads = net.gradient(x, t)
    rng = np.random.default_rng(7)
    h = 1e-5
    for key in ("W1", "W4", "b5", "W7", "b8"):
        direction = rng.standard_normal(net.params[key].shape)
        direction /= np.linalg.norm(direction)  # a step of h in all: too small to cross a relu's corner
        original = net.params[key].copy()
        net.params[key] = original + h * direction
        up = loss_with_fixed_masks()
        net.params[key] = original - h * direction
        down = loss_with_fixed_masks()
        net.params[key] = original
        assert (up - down) / (2 * h) == pytest.approx(float(np.sum(grads[key] * direction)), rel=1e-5, abs=1e-9)


def test_deep_convnet_test_mode_scales_by_one_minus_the_ratio():
    np.random.seed(6)
    net = tk.DeepConvNet()
    x, _ = images(2, (1, 28, 28))
    params = {k: v.copy() for k, v in net.params.items()}
    layers = book_deep_convnet_layers(params, net.conv_params)
    expected = x
    for layer in layers:  # the book's Dropout takes train_flg: False, test mode
        expected = layer.forward(expected, False) if isinstance(layer, BookDropout) else layer.forward(expected)
    np.testing.assert_allclose(net.predict(x).data, expected, rtol=1e-10)


# --- MultiLayerNetExtend ---


def extend_net(seed=0, **options):
    np.random.seed(seed)
    return tk.MultiLayerNetExtend(6, [5, 4], 3, **options)


def test_extend_params_are_named_as_the_books():
    net = extend_net(use_batchnorm=True)
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert "running_mean1" in net.state_dict() and "running_mean1" not in net.params
    assert list(extend_net().params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    with pytest.raises(ValueError, match="dropout_ration"):
        extend_net(use_dropout=True, dropout_ration=1.5)


@pytest.mark.parametrize("options", [{}, {"use_batchnorm": True}, {"use_batchnorm": True, "weight_decay_lambda": 0.1},
                                     {"activation": "sigmoid", "weight_init_std": "xavier", "use_batchnorm": True}])
def test_extend_gradient_matches_its_numerical_gradient(options):
    net = extend_net(seed=1, **options)
    x, t = np.random.rand(5, 6), np.array([0, 1, 2, 1, 0])
    grads, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    assert list(grads) == list(net.params)
    for key in grads:
        np.testing.assert_allclose(grads[key], numerical[key], rtol=1e-5, atol=1e-7)


def test_extend_gradient_equals_the_books_backprop_with_batchnorm_dropout_and_weight_decay():
    lam = 0.05
    net = extend_net(seed=2, use_batchnorm=True, use_dropout=True, dropout_ration=0.3, weight_decay_lambda=lam)
    params = {k: v.copy() for k, v in net.params.items()}
    layers = []
    for i in (1, 2):
        layers += [book.Affine(params[f"W{i}"], params[f"b{i}"]),
                   BookBatchNormalization(params[f"gamma{i}"], params[f"beta{i}"]), book.Relu(), BookDropout(0.3)]
    layers.append(book.Affine(params["W3"], params["b3"]))
    x, t = np.random.rand(5, 6), np.array([0, 1, 2, 1, 0])
    np.random.seed(20)
    grads = net.gradient(x, t)
    np.random.seed(20)
    book_backprop(layers, book.SoftmaxWithLoss(), x, t, train_flg=True)
    affines = [layer for layer in layers if isinstance(layer, book.Affine)]
    norms = [layer for layer in layers if isinstance(layer, BookBatchNormalization)]
    for i, layer in enumerate(affines, start=1):
        np.testing.assert_allclose(grads[f"W{i}"], layer.dW + lam * params[f"W{i}"], rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(grads[f"b{i}"], layer.db, rtol=1e-9, atol=1e-13)
    for i, layer in enumerate(norms, start=1):
        np.testing.assert_allclose(grads[f"gamma{i}"], layer.dgamma, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(grads[f"beta{i}"], layer.dbeta, rtol=1e-9, atol=1e-13)
        np.testing.assert_allclose(net.state_dict()[f"running_mean{i}"], layer.running_mean, rtol=1e-12)
        np.testing.assert_allclose(net.state_dict()[f"running_var{i}"], layer.running_var, rtol=1e-12)
    # Test mode: the running statistics and the 1 - ratio scaling, as the book's predict(train_flg=False).
    y = x
    for layer in layers:
        y = layer.forward(y, False) if isinstance(layer, (BookDropout, BookBatchNormalization)) else layer.forward(y)
    np.testing.assert_allclose(net.predict(x).data, y, rtol=1e-10)


def test_extend_loss_defaults_to_test_mode_as_the_book():
    net = extend_net(seed=3, use_dropout=True)
    x, t = np.random.rand(4, 6), np.array([0, 1, 2, 0])
    assert net.loss(x, t).item() == net.loss(x, t).item()  # no dropout drawn: the same number twice
    np.random.seed(0)
    first = net.loss(x, t, train_flg=True).item()
    np.random.seed(1)
    assert net.loss(x, t, train_flg=True).item() != first


# --- accuracy, save and load ---


def test_accuracy_in_batches_counts_a_last_partial_batch():
    np.random.seed(4)
    net = tk.SimpleConvNet(input_dim=(1, 8, 8), conv_param={"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1},
                           hidden_size=3, output_size=3, weight_init_std=1.0)
    x = np.random.rand(7, 1, 8, 8)
    predicted = np.argmax(net.predict(x).data, axis=1)
    t = predicted.copy()
    t[:2] = (t[:2] + 1) % 3
    assert net.accuracy(x, t, batch_size=3) == pytest.approx(5 / 7)
    assert net.accuracy(x, np.eye(3)[t]) == pytest.approx(5 / 7)  # one-hot labels


@pytest.mark.parametrize("name", ["params.pkl", "params.npz"])
def test_save_params_and_load_params_round_trip(tmp_path, name):
    np.random.seed(5)
    net = tk.SimpleConvNet(input_dim=(1, 8, 8), hidden_size=3, output_size=2,
                           conv_param={"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1})
    path = tmp_path / name
    net.save_params(path)
    other = tk.SimpleConvNet(input_dim=(1, 8, 8), hidden_size=3, output_size=2,
                             conv_param={"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1})
    params_before = other.params["W1"]
    other.load_params(path)
    assert other.params["W1"] is params_before or np.shares_memory(other.params["W1"], params_before)
    for key, value in net.params.items():
        np.testing.assert_array_equal(other.params[key], value)


def test_save_params_writes_what_the_books_pickle_load_reads(tmp_path):
    net = extend_net(seed=6, use_batchnorm=True)
    net.save_params(tmp_path / "params.pkl")
    with open(tmp_path / "params.pkl", "rb") as f:
        loaded = pickle.load(f)  # our own file: what the book's load_params does
    assert list(loaded) == list(net.params)
    for key, value in net.params.items():
        np.testing.assert_array_equal(loaded[key], value)


def test_load_params_checks_names_shapes_and_dtypes_and_changes_nothing(tmp_path):
    net = extend_net(seed=7)
    before = {k: v.copy() for k, v in net.params.items()}
    bad = {k: v.copy() for k, v in net.params.items()}
    bad["W1"] = bad["W1"][:, :4]
    bad["b2"] = bad["b2"].astype(np.float32)
    del bad["W3"]
    bad["W9"] = np.zeros(2)
    tk.save_book_params(bad, tmp_path / "bad.pkl")
    with pytest.raises(ValueError) as info:
        net.load_params(tmp_path / "bad.pkl")
    message = str(info.value)
    for part in ("load_params", "missing keys: W3", "unexpected keys: W9", "W1: shape (6, 4)", "b2: dtype float32"):
        assert part in message
    for key, value in before.items():
        np.testing.assert_array_equal(net.params[key], value)


def test_load_params_refuses_a_pickle_that_would_run_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (open, (str(tmp_path / "created"), "w"))

    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"W1": Payload()}))
    with pytest.raises(tk.UnsafePickleError, match="open"):
        extend_net().load_params(tmp_path / "evil.pkl")
    assert not (tmp_path / "created").exists()


def test_a_graph_recorded_before_load_params_refuses_backward(tmp_path):
    net = extend_net(seed=8)
    net.save_params(tmp_path / "p.pkl")
    loss = net.loss(np.random.rand(2, 6), np.array([0, 1]))
    net.load_params(tmp_path / "p.pkl")
    with pytest.raises(RuntimeError, match="by load_params"):
        loss.backward()
