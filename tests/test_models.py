"""The book's nets: SimpleNet, TwoLayerNet, MultiLayerNet with the book's interface."""

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import optim

BOOK_W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])
BOOK_X = np.array([0.6, 0.9])
BOOK_T = np.array([0, 0, 1])
KEYS = ["W1", "b1", "W2", "b2"]
LOSSES = ["softmax_cross_entropy", "cross_entropy_error"]


def small_problem(seed=0, n=3, input_size=4, classes=3, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, input_size)).astype(dtype)
    t = rng.integers(0, classes, n)
    return x, t


def one_hot(t, classes):
    return np.eye(classes)[t]


def snapshot(net):
    """Bytes of every parameter array: equal means bitwise unchanged."""
    return {k: v.tobytes() for k, v in net.params.items()}


def assert_grads_match(backprop, numerical, keys, atol=1e-7):
    assert list(backprop) == list(keys) and list(numerical) == list(keys)
    for k in keys:
        assert backprop[k].shape == numerical[k].shape
        np.testing.assert_allclose(backprop[k], numerical[k], rtol=0, atol=atol, err_msg=k)


# --- SimpleNet (4.4.2) ---


def test_simplenet_W_shape_from_standard_normal():
    np.random.seed(0)
    net = tk.SimpleNet()
    assert net.W.shape == (2, 3) and net.W.dtype == np.float64 and net.W.requires_grad
    np.random.seed(0)
    np.testing.assert_array_equal(net.W.data, np.random.randn(2, 3))
    assert [name for name, _ in net.named_parameters()] == ["W"]


def book_simplenet():
    net = tk.SimpleNet()
    net.W.data[...] = BOOK_W
    return net


def test_simplenet_book_predict_and_loss():
    net = book_simplenet()
    p = net.predict(BOOK_X)
    np.testing.assert_allclose(p.data, [1.05414809, 0.63071653, 1.1328074], rtol=0, atol=1e-8)
    assert int(np.argmax(p.data)) == 2
    y = np.exp(p.data) / np.exp(p.data).sum()
    expected = -np.log(y[2] + 1e-7)  # the book's cross_entropy_error
    assert net.loss(BOOK_X, BOOK_T).item() == pytest.approx(expected, rel=1e-12)
    assert net.loss(BOOK_X, BOOK_T).item() == pytest.approx(0.92806853663411326, abs=1e-6)


def test_simplenet_numerical_gradient_matches_backprop():
    net = book_simplenet()
    dW = tk.numerical_gradient(lambda W: net.loss(BOOK_X, BOOK_T), net.W)
    np.testing.assert_allclose(dW, [[0.21924763, 0.14356247, -0.36281009],
                                    [0.32887144, 0.2153437, -0.54421514]], atol=1e-6)
    backprop = net.gradient(BOOK_X, BOOK_T)
    assert list(backprop) == ["W"]
    np.testing.assert_allclose(dW, backprop["W"], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(net.W.data, BOOK_W)  # restored after the perturbations
    np.testing.assert_allclose(net.numerical_gradient(BOOK_X, BOOK_T)["W"], backprop["W"], rtol=0, atol=1e-7)


# --- TwoLayerNet: params ---


def test_twolayernet_params_keys_and_shapes():
    net = tk.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    assert list(net.params) == KEYS
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    for k in KEYS:
        assert isinstance(net.params[k], np.ndarray) and net.params[k].dtype == np.float64
    assert not np.any(net.params["b1"]) and not np.any(net.params["b2"])
    assert [name for name, _ in net.named_parameters()] == KEYS


def test_twolayernet_params_share_memory_with_parameters():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3)
    for k in KEYS:
        tensor = getattr(net, k)
        assert np.shares_memory(net.params[k], tensor.data)
        assert net.params[k] is tensor.data
    x, _ = small_problem()
    before = net.predict(x).data.copy()
    net.params["b2"] += 1.0  # in place through params: seen by predict
    np.testing.assert_allclose(net.predict(x).data, before + 1.0, rtol=1e-12)
    net.params["W2"][...] = 0.0
    np.testing.assert_allclose(net.predict(x).data, np.ones((3, 3)) * net.params["b2"], rtol=0)


def test_twolayernet_params_assignment_copies_in_place_and_checks_shape():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3)
    array = net.W1.data
    new = np.full((4, 5), 0.25)
    net.params["W1"] = new
    assert net.W1.data is array and net.params["W1"] is array
    np.testing.assert_array_equal(net.W1.data, new)
    with pytest.raises(ValueError, match="shape"):
        net.params["W1"] = np.zeros((5, 4))
    np.testing.assert_array_equal(net.W1.data, new)


def test_book_training_loop_lowers_the_loss_on_mnist_sample():
    (x_train, t_train), _ = tk.datasets.load_mnist(sample=True)
    rows = np.arange(0, x_train.shape[0], x_train.shape[0] // 100)[:100]  # 10 of each digit
    x, t = x_train[rows], t_train[rows]
    for lr in (0.1, 0.5):
        np.random.seed(0)
        net = tk.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
        before = net.loss(x, t).item()
        for step in range(50):
            grads = net.gradient(x, t)
            for key in ("W1", "b1", "W2", "b2"):
                net.params[key] -= lr * grads[key]
        after = net.loss(x, t).item()
        assert after < before - 1e-3, (lr, before, after)
    assert after < 2.1 and net.accuracy(x, t) > 0.5  # lr 0.5 learns visibly in 50 steps


# --- TwoLayerNet: gradients ---


def relu_problem(seed, loss_function, dtype=np.float64):
    """A 4-5-3 relu net whose hidden pre-activations are far (> 1e-2) from the kink at 0."""
    for s in range(seed, seed + 100):
        np.random.seed(s)
        net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0, activation="relu",
                             loss_function=loss_function, dtype=dtype)
        x, t = small_problem(s)
        pre = x @ net.params["W1"] + net.params["b1"]
        if np.abs(pre).min() > 1e-2 and (pre > 0).any():
            return net, x, t
    raise AssertionError("no relu problem away from the kink")


@pytest.mark.parametrize("loss_function", LOSSES)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_twolayernet_gradient_matches_numerical_gradient(activation, loss_function):
    if activation == "relu":
        net, x, t = relu_problem(0, loss_function)
    else:
        np.random.seed(0)
        net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0, activation=activation,
                             loss_function=loss_function)
        x, t = small_problem()
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    assert_grads_match(backprop, numerical, KEYS)
    assert max(np.abs(backprop[k]).max() for k in KEYS) > 1e-3  # not trivially zero


def test_twolayernet_default_init_gradient_matches_numerical_gradient():
    np.random.seed(1)
    net = tk.TwoLayerNet(6, 4, 3)
    x, t = small_problem(1, n=5, input_size=6)
    assert_grads_match(net.gradient(x, t), net.numerical_gradient(x, t), KEYS)


def test_gradient_returns_new_arrays_each_call():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem()
    x2, t2 = small_problem(7)
    first = net.gradient(x, t)
    kept = {k: v.copy() for k, v in first.items()}
    second = net.gradient(x2, t2)
    for k in KEYS:
        assert first[k] is not second[k]
        assert not np.shares_memory(first[k], second[k])
        assert not np.shares_memory(first[k], net.params[k])
        assert not np.shares_memory(second[k], net.params[k])
        np.testing.assert_array_equal(first[k], kept[k])  # the later call did not overwrite it
    second["W1"][...] = 123.0  # writing into a result changes neither the net nor the next result
    third = net.gradient(x2, t2)
    assert not np.any(net.params["W1"] == 123.0)
    assert not np.any(third["W1"] == 123.0)


def test_numerical_gradient_returns_new_arrays_each_call():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem()
    first = net.numerical_gradient(x, t)
    kept = {k: v.copy() for k, v in first.items()}
    second = net.numerical_gradient(x, t)
    for k in KEYS:
        assert first[k] is not second[k]
        assert not np.shares_memory(first[k], second[k])
        assert not np.shares_memory(first[k], net.params[k])
        np.testing.assert_array_equal(first[k], kept[k])
        np.testing.assert_array_equal(first[k], second[k])


def test_numerical_gradient_leaves_params_bitwise_unchanged():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem()
    before = snapshot(net)
    arrays = {k: v for k, v in net.params.items()}
    net.numerical_gradient(x, t)
    assert snapshot(net) == before
    assert all(net.params[k] is arrays[k] for k in KEYS)


@pytest.mark.parametrize("stop_at", [1, 2, 3, 40, 41, 57, 61, 81, 86])
def test_numerical_gradient_interrupted_leaves_params_bitwise_unchanged(monkeypatch, stop_at):
    # 4-5-3: W1 has 20 elements (calls 1-40), b1 5 (41-50), W2 15 (51-80), b2 3 (81-86)
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem()
    before = snapshot(net)
    original_loss = net.loss
    calls = []

    def loss(x, t):
        calls.append(1)
        if len(calls) == stop_at:
            raise KeyboardInterrupt
        return original_loss(x, t)

    monkeypatch.setattr(net, "loss", loss)
    with pytest.raises(KeyboardInterrupt):
        net.numerical_gradient(x, t)
    assert len(calls) == stop_at
    assert snapshot(net) == before
    monkeypatch.undo()
    grads = net.numerical_gradient(x, t)  # still usable afterwards
    assert_grads_match(net.gradient(x, t), grads, KEYS)


# --- TwoLayerNet: accuracy, labels vs one-hot, dtype, init ---


def test_accuracy_with_labels_and_one_hot_is_a_python_float():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem(n=50)
    predicted = np.argmax(net.predict(x).data, axis=1)
    expected = np.mean(predicted == t)
    for labels in (t, one_hot(t, 3), t.astype(np.uint8)):
        acc = net.accuracy(x, labels)
        assert type(acc) is float
        assert acc == pytest.approx(expected, abs=1e-12)
    assert net.accuracy(x, predicted) == 1.0
    assert net.accuracy(x, (predicted + 1) % 3) == 0.0


@pytest.mark.parametrize("loss_function", LOSSES)
def test_one_hot_and_label_targets_give_same_loss_and_gradient(loss_function):
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0, loss_function=loss_function)
    x, t = small_problem(n=6)
    loss_labels, loss_one_hot = net.loss(x, t).item(), net.loss(x, one_hot(t, 3)).item()
    assert loss_labels == pytest.approx(loss_one_hot, rel=1e-12)
    g_labels, g_one_hot = net.gradient(x, t), net.gradient(x, one_hot(t, 3))
    for k in KEYS:
        np.testing.assert_allclose(g_labels[k], g_one_hot[k], rtol=1e-10, atol=1e-14)


def test_loss_matches_numpy_softmax_cross_entropy():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem(n=6)
    h = 1 / (1 + np.exp(-(x @ net.params["W1"] + net.params["b1"])))
    scores = h @ net.params["W2"] + net.params["b2"]
    np.testing.assert_allclose(net.predict(x).data, scores, rtol=1e-12)
    np.testing.assert_allclose(net(x).data, scores, rtol=1e-12)
    y = np.exp(scores - scores.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(y[np.arange(6), t]))
    assert net.loss(x, t).item() == pytest.approx(expected, rel=1e-12)
    book = tk.TwoLayerNet(4, 5, 3, loss_function="cross_entropy_error")
    book.load_state_dict(net.state_dict())
    assert book.loss(x, t).item() == pytest.approx(-np.mean(np.log(y[np.arange(6), t] + 1e-7)), rel=1e-12)


def test_float32_net_gives_float32_grads():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0, dtype=np.float32)
    x, t = small_problem(dtype=np.float32)
    for k in KEYS:
        assert net.params[k].dtype == np.float32
    assert net.predict(x).dtype == np.float32
    assert net.loss(x, t).dtype == np.float32
    grads = net.gradient(x, t)
    for k in KEYS:
        assert grads[k].dtype == np.float32, k
    with pytest.warns(UserWarning, match="float32"):  # central differences are rough in float32, and say so
        numerical = net.numerical_gradient(x, t)
    for k in KEYS:
        assert numerical[k].dtype == np.float32, k
        np.testing.assert_allclose(grads[k], numerical[k], atol=2e-2)  # float32 differences are rough
    optim.SGD(lr=0.1).update(net.params, grads)
    assert all(net.params[k].dtype == np.float32 for k in KEYS)


def test_float32_multilayernet_with_weight_decay_stays_float32():
    np.random.seed(0)
    net = tk.MultiLayerNet(4, [5, 4], 3, weight_decay_lambda=0.1, dtype=np.float32)
    x, t = small_problem(dtype=np.float32)
    assert net.loss(x, t).dtype == np.float32
    grads = net.gradient(x, t)
    assert list(grads) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for k, g in grads.items():
        assert g.dtype == np.float32, k


def test_weight_init_std_number_he_and_xavier():
    np.random.seed(0)
    net = tk.TwoLayerNet(400, 300, 200, weight_init_std=0.05)
    assert net.params["W1"].std() == pytest.approx(0.05, rel=0.03)
    assert net.params["W2"].std() == pytest.approx(0.05, rel=0.03)
    for name, scale in (("he", 2.0), ("relu", 2.0), ("xavier", 1.0), ("sigmoid", 1.0)):
        net = tk.TwoLayerNet(400, 300, 200, weight_init_std=name)
        assert net.params["W1"].std() == pytest.approx(np.sqrt(scale / 400), rel=0.03), name
        assert net.params["W2"].std() == pytest.approx(np.sqrt(scale / 300), rel=0.03), name
        assert not np.any(net.params["b1"]) and not np.any(net.params["b2"])
    default = tk.TwoLayerNet(400, 300, 200)
    assert default.params["W1"].std() == pytest.approx(0.01, rel=0.03)  # the book's 0.01


def test_twolayernet_init_repeatable_with_np_random_seed():
    np.random.seed(3)
    a = tk.TwoLayerNet(4, 5, 3)
    np.random.seed(3)
    b = tk.TwoLayerNet(4, 5, 3)
    for k in KEYS:
        np.testing.assert_array_equal(a.params[k], b.params[k])


# --- MultiLayerNet (chapter 6) ---


@pytest.mark.parametrize("hidden", [[], [5], [5, 4], [6, 5, 4, 3]])
def test_multilayernet_params_keys_and_shapes(hidden):
    net = tk.MultiLayerNet(7, hidden, 3)
    sizes = [7, *hidden, 3]
    n = len(sizes) - 1
    expected = [name for i in range(1, n + 1) for name in (f"W{i}", f"b{i}")]
    assert list(net.params) == expected
    for i in range(1, n + 1):
        assert net.params[f"W{i}"].shape == (sizes[i - 1], sizes[i])
        assert net.params[f"b{i}"].shape == (sizes[i],)
        assert np.shares_memory(net.params[f"W{i}"], getattr(net, f"W{i}").data)
    x, _ = small_problem(input_size=7)
    assert net.predict(x).shape == (3, 3)


def test_multilayernet_default_init_is_he():
    np.random.seed(0)
    net = tk.MultiLayerNet(400, [300], 200)
    assert net.params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.03)
    assert net.params["W2"].std() == pytest.approx(np.sqrt(2 / 300), rel=0.03)
    net = tk.MultiLayerNet(400, [300], 200, activation="sigmoid", weight_init_std="xavier")
    assert net.params["W1"].std() == pytest.approx(np.sqrt(1 / 400), rel=0.03)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_multilayernet_predict_matches_numpy(activation):
    np.random.seed(0)
    net = tk.MultiLayerNet(4, [5, 6], 3, activation=activation)
    net.params["b1"] += 0.1
    x, _ = small_problem(n=8)
    act = (lambda a: np.maximum(a, 0)) if activation == "relu" else (lambda a: 1 / (1 + np.exp(-a)))
    p = net.params
    h = act(x @ p["W1"] + p["b1"])
    h = act(h @ p["W2"] + p["b2"])
    np.testing.assert_allclose(net.predict(x).data, h @ p["W3"] + p["b3"], rtol=1e-12, atol=1e-15)


def pair_of_nets(lam, **kwargs):
    np.random.seed(0)
    plain = tk.MultiLayerNet(4, [5, 4], 3, weight_decay_lambda=0, **kwargs)
    np.random.seed(0)
    decayed = tk.MultiLayerNet(4, [5, 4], 3, weight_decay_lambda=lam, **kwargs)
    for k in plain.params:
        np.testing.assert_array_equal(plain.params[k], decayed.params[k])
    return plain, decayed


def test_weight_decay_adds_half_lambda_sum_of_squares_to_loss():
    lam = 0.1
    plain, decayed = pair_of_nets(lam)
    x, t = small_problem(n=5)
    penalty = 0.5 * lam * sum(np.sum(plain.params[f"W{i}"] ** 2) for i in (1, 2, 3))
    assert decayed.loss(x, t).item() - plain.loss(x, t).item() == pytest.approx(penalty, rel=1e-10)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_weight_decay_adds_lambda_W_to_gradient(activation):
    lam = 0.3
    plain, decayed = pair_of_nets(lam, activation=activation)
    x, t = small_problem(n=5)
    g0, g = plain.gradient(x, t), decayed.gradient(x, t)
    for i in (1, 2, 3):
        np.testing.assert_allclose(g[f"W{i}"], g0[f"W{i}"] + lam * plain.params[f"W{i}"],
                                   rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(g[f"b{i}"], g0[f"b{i}"], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation,lam,loss_function", [
    ("sigmoid", 0, "softmax_cross_entropy"), ("sigmoid", 0.1, "cross_entropy_error"),
    ("relu", 0, "softmax_cross_entropy"), ("relu", 0.1, "softmax_cross_entropy"),
])
def test_multilayernet_gradient_matches_numerical_gradient(activation, lam, loss_function):
    for seed in range(100):
        np.random.seed(seed)
        net = tk.MultiLayerNet(4, [5, 4], 3, activation=activation, weight_decay_lambda=lam,
                               loss_function=loss_function)
        for k in ("b1", "b2"):
            net.params[k] += np.random.uniform(-0.5, 0.5, net.params[k].shape)
        x, t = small_problem(seed)
        a1 = x @ net.params["W1"] + net.params["b1"]
        h1 = np.maximum(a1, 0) if activation == "relu" else a1
        a2 = h1 @ net.params["W2"] + net.params["b2"]
        if activation == "sigmoid" or min(np.abs(a1).min(), np.abs(a2).min()) > 1e-2:
            break  # relu: no pre-activation near the kink
    else:
        pytest.fail("no relu problem away from the kink")
    backprop, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    assert_grads_match(backprop, numerical, [f"{p}{i}" for i in (1, 2, 3) for p in "Wb"])


# --- optimizers update the nets through params ---


def test_one_sgd_step_moves_W1_by_exactly_minus_lr_grad():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3, weight_init_std=1.0)
    x, t = small_problem()
    grads = net.gradient(x, t)
    before = {k: v.copy() for k, v in net.params.items()}
    optim.SGD(lr=0.1).update(net.params, grads)
    for k in KEYS:
        np.testing.assert_array_equal(net.params[k], before[k] - 0.1 * grads[k])
        np.testing.assert_array_equal(getattr(net, k).data, before[k] - 0.1 * grads[k])


@pytest.mark.parametrize("name", ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"])
def test_every_optimizer_trains_a_net_through_params(name):
    np.random.seed(0)
    net = tk.MultiLayerNet(4, [8], 3)
    x, t = small_problem(n=20)
    arrays = {k: getattr(net, k).data for k in net.params}
    lr = {"SGD": 0.5, "Momentum": 0.1, "AdaGrad": 0.3, "RMSprop": 0.01, "Adam": 0.01}[name]
    optimizer = getattr(optim, name)(lr=lr)
    before = net.loss(x, t).item()
    for _ in range(30):
        optimizer.update(net.params, net.gradient(x, t))
    assert net.loss(x, t).item() < before
    for k, array in arrays.items():
        assert getattr(net, k).data is array  # updated in place, never rebound


# --- invalid arguments ---


@pytest.mark.parametrize("make", [
    lambda **kw: tk.TwoLayerNet(4, 5, 3, **kw),
    lambda **kw: tk.MultiLayerNet(4, [5], 3, **kw),
], ids=["TwoLayerNet", "MultiLayerNet"])
def test_invalid_string_arguments_name_the_choices(make):
    with pytest.raises(ValueError, match="activation") as info:
        make(activation="tanhh")
    assert "relu" in str(info.value) and "sigmoid" in str(info.value) and "tanhh" in str(info.value)
    with pytest.raises(ValueError, match="loss_function") as info:
        make(loss_function="mse")
    assert "softmax_cross_entropy" in str(info.value) and "cross_entropy_error" in str(info.value)
    with pytest.raises(ValueError, match="weight_init_std") as info:
        make(weight_init_std="kaiming")
    assert "he" in str(info.value) and "xavier" in str(info.value) and "kaiming" in str(info.value)


# --- ParamsView: behaviours a mutation test found unchecked (see tools/mutate.py) ---


def test_params_refuses_to_add_rebind_or_remove_keys():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3)
    params, before = net.params, snapshot(net)
    with pytest.raises(KeyError, match="W3"):
        params["W3"] = np.zeros((5, 3))
    with pytest.raises(KeyError, match="W3"):
        params.update(W3=np.zeros((5, 3)))
    refusals = [lambda: params.__delitem__("W1"), lambda: params.pop("W1"), params.popitem, params.clear,
                lambda: params.setdefault("W3", np.zeros((5, 3)))]
    for refuse in refusals:
        with pytest.raises(TypeError, match="cannot be removed or added"):
            refuse()
    assert list(params) == KEYS and list(net.params) == KEYS and "W3" not in dict(net.named_parameters())
    assert all(params[k] is getattr(net, k).data for k in KEYS)  # no key was rebound to another array
    assert snapshot(net) == before


def test_params_assignment_refuses_a_shape_that_would_broadcast():
    np.random.seed(0)
    net = tk.TwoLayerNet(4, 5, 3)
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"params\['W1'\]: shape \(5,\) does not match the parameter's \(4, 5\)"):
        net.params["W1"] = np.ones(5)  # NumPy alone would broadcast it over every row
    with pytest.raises(ValueError, match=r"params\['b1'\]: shape \(1, 5\)"):
        net.params.update(b1=np.ones((1, 5)))
    assert snapshot(net) == before
    net.params.update(b1=np.full(5, 0.5), b2=[1.0, 2.0, 3.0])  # update copies in place, as assignment does
    np.testing.assert_array_equal(net.b1.data, np.full(5, 0.5))
    np.testing.assert_array_equal(net.b2.data, [1.0, 2.0, 3.0])


def test_params_repr_names_every_parameter_with_its_shape():
    net = tk.TwoLayerNet(4, 5, 3)
    assert repr(net.params) == "ParamsView(W1: (4, 5), b1: (5,), W2: (5, 3), b2: (3,))"
    assert repr(tk.MultiLayerNet(2, [3], 4).params) == "ParamsView(W1: (2, 3), b1: (3,), W2: (3, 4), b2: (4,))"


def test_accuracy_refuses_a_different_number_of_inputs_and_labels():
    net = tk.TwoLayerNet(4, 5, 3)
    x, t = small_problem(n=3)
    with pytest.raises(ValueError, match="accuracy: 3 inputs but 2 labels"):
        net.accuracy(x, t[:2])
    with pytest.raises(ValueError, match="accuracy: 2 inputs but 3 labels"):
        net.accuracy(x[:2], one_hot(t, 3))
