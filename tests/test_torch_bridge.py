"""The PyTorch bridge: tk.nn modules hold PyTorch's names, shapes and layouts, so state dicts move both ways.

``torch_module.load_state_dict({k: torch.from_numpy(v) for k, v in tk_module.state_dict().items()})``
gives a twin with the same outputs (1e-12 in float64), and a torch state dict
(``v.numpy()``) loads into the tk module. The torch tests run where torch is
installed and are skipped with that reason elsewhere; the first section
checks the layout nn.Linear needs for it without torch.
"""

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="torch is not installed; the bridge tests need it")


# --- nn.Linear holds PyTorch's weight (out, in) and bias (out,) (no torch needed) ---


def test_linear_holds_pytorchs_weight_and_bias_layout():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert (layer.in_features, layer.out_features) == (4, 3)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias"]
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and [name for name, _ in no_bias.named_parameters()] == ["weight"]
    assert repr(no_bias) == "Linear(in_features=4, out_features=3, bias=False)"
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False))
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight"]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(5, 4), (4,), (2, 3, 4)])
def test_linear_forward_is_x_times_weight_transposed_plus_bias(bias, x_shape):
    np.random.seed(0)
    layer = nn.Linear(4, 3, bias=bias)
    x = np.random.default_rng(1).standard_normal(x_shape)
    expected = x @ layer.weight.data.T + (layer.bias.data if bias else 0.0)
    y = layer(x)
    assert y.shape == x_shape[:-1] + (3,)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_grads_by_hand(bias):
    np.random.seed(0)
    layer = nn.Linear(3, 2, bias=bias)
    x = tk.Tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    gy = np.random.default_rng(3).standard_normal((4, 2))
    layer(x).backward(gy)
    np.testing.assert_allclose(layer.weight.grad.numpy(), gy.T @ x.data, rtol=1e-12)  # (out, in)
    np.testing.assert_allclose(x.grad.numpy(), gy @ layer.weight.data, rtol=1e-12)
    if bias:
        np.testing.assert_allclose(layer.bias.grad.numpy(), gy.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(3, 4), (2, 2, 4), (4,)])
def test_linear_passes_gradcheck_and_gradgradcheck(bias, x_shape):
    np.random.seed(1)
    layer = nn.Linear(4, 3, bias=bias)
    x = tk.Tensor(np.random.default_rng(4).standard_normal(x_shape), requires_grad=True)
    leaves = [x, layer.weight] + ([layer.bias] if bias else [])

    def fn(x, weight, bias=None):  # gradcheck perturbs copies: route them through the layer
        layer.weight, layer.bias = weight, bias
        return layer(x)

    assert tk.gradcheck(fn, *leaves)
    assert tk.gradgradcheck(fn, *leaves)


def test_linear_shape_error_names_in_features():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) has 5 features .* \(3, 4\) .* expects 4"):
        layer(np.ones((2, 5)))


def test_linear_float32_stays_float32():
    layer = nn.Linear(3, 2, dtype=np.float32)
    x = tk.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = layer(x)
    y.backward(np.ones((2, 2), np.float32))
    assert y.dtype == layer.weight.grad.dtype == x.grad.dtype == np.float32


# --- state dicts both ways, with torch ---


def _twins(torch, name):
    """(tk module, the same architecture in torch, input shape) for the bridge's modules."""
    tnn = torch.nn
    if name == "linear":
        return nn.Linear(4, 3), tnn.Linear(4, 3), (5, 4)
    if name == "linear-no-bias":
        return nn.Linear(4, 3, bias=False), tnn.Linear(4, 3, bias=False), (5, 4)
    if name == "mlp":
        return (nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2), nn.Sigmoid()),
                tnn.Sequential(tnn.Linear(4, 5), tnn.ReLU(), tnn.Linear(5, 2), tnn.Sigmoid()), (3, 4))
    if name == "conv2d":
        return nn.Conv2d(3, 4, 3, padding=1), tnn.Conv2d(3, 4, 3, padding=1), (2, 3, 5, 5)
    if name == "conv2d-stride-no-bias":
        return (nn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False),
                tnn.Conv2d(2, 3, 3, stride=2, padding=1, bias=False), (2, 2, 6, 7))
    if name == "batchnorm1d":
        return nn.BatchNorm1d(4), tnn.BatchNorm1d(4), (6, 4)
    if name == "batchnorm2d":
        return nn.BatchNorm2d(3, momentum=0.3), tnn.BatchNorm2d(3, momentum=0.3), (4, 3, 2, 3)
    if name == "convnet":
        ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.BatchNorm1d(10))
        theirs = tnn.Sequential(tnn.Conv2d(1, 4, 3, padding=1), tnn.BatchNorm2d(4), tnn.ReLU(), tnn.MaxPool2d(2),
                                tnn.Flatten(), tnn.Linear(4 * 4 * 4, 10), tnn.BatchNorm1d(10))
        return ours, theirs, (3, 1, 8, 8)
    raise KeyError(name)


MODULES = ["linear", "linear-no-bias", "mlp", "conv2d", "conv2d-stride-no-bias", "batchnorm1d", "batchnorm2d",
           "convnet"]


def _to_torch(torch, state):
    return {k: torch.from_numpy(np.array(v)) for k, v in state.items()}


def _to_numpy(state):
    return {k: v.detach().numpy().copy() for k, v in state.items()}


def _randomize(torch, module):
    """Give batch-norm layers non-default running statistics and affine parameters (torch side)."""
    with torch.no_grad():
        for name, value in module.state_dict().items():
            if value.dtype == torch.float64 and ("running" in name or "weight" in name or "bias" in name):
                value.copy_(torch.rand(value.shape, dtype=torch.float64) + 0.5)


def _assert_same_outputs_and_grads(torch, ours, theirs, x, rng):
    y_ours = ours(tk.Tensor(x))
    x_t = torch.from_numpy(x.copy())
    y_theirs = theirs(x_t)
    assert y_ours.shape == tuple(y_theirs.shape) and y_ours.dtype == np.float64
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y_ours.shape)
    y_ours.backward(gy)
    y_theirs.backward(torch.from_numpy(gy))
    named_theirs = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), named_theirs[name].grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)
    state_ours, state_theirs = ours.state_dict(), _to_numpy(theirs.state_dict())
    for name, value in state_theirs.items():  # running statistics updated alike in training mode
        np.testing.assert_allclose(state_ours[name], value, rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("name", MODULES)
def test_state_dict_keys_shapes_and_dtypes_match_pytorchs(torch, name):
    ours, theirs, _ = _twins(torch, name)
    state_ours, state_theirs = ours.state_dict(), _to_numpy(theirs.double().state_dict())
    assert sorted(state_ours) == sorted(state_theirs)
    for key, value in state_theirs.items():
        assert state_ours[key].shape == value.shape, key
        assert state_ours[key].dtype == value.dtype, key
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("name", MODULES)
def test_tk_state_dict_loads_into_torch_with_the_same_outputs(torch, name, mode):
    np.random.seed(0)
    ours, theirs, x_shape = _twins(torch, name)
    theirs = theirs.double()
    if mode == "eval":
        ours.eval()
        theirs.eval()
        _randomize(torch, theirs)  # non-default statistics, moved into ours and back
        ours.load_state_dict(_to_numpy(theirs.state_dict()))
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))  # strict: every key, shape and layout
    rng = np.random.default_rng(1)
    _assert_same_outputs_and_grads(torch, ours, theirs, rng.standard_normal(x_shape), rng)


@pytest.mark.parametrize("name", MODULES)
def test_torch_state_dict_loads_into_tk_with_the_same_outputs(torch, name):
    torch.manual_seed(0)
    ours, theirs, x_shape = _twins(torch, name)
    theirs = theirs.double()
    _randomize(torch, theirs)
    rng = np.random.default_rng(2)
    theirs(torch.from_numpy(rng.standard_normal(x_shape)))  # a training step: num_batches_tracked = 1
    ours.load_state_dict(_to_numpy(theirs.state_dict()))
    for key, value in _to_numpy(theirs.state_dict()).items():
        np.testing.assert_array_equal(ours.state_dict()[key], value)
    _assert_same_outputs_and_grads(torch, ours, theirs, rng.standard_normal(x_shape), rng)


def test_a_trained_tk_model_keeps_its_predictions_in_torch(torch):
    np.random.seed(3)
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = tk.optim.Adam(lr=0.05)
    for _ in range(30):
        model.zero_grad()
        tk.functional.cross_entropy(model(x), t).backward()
        optimizer.update(dict(model.named_parameters()), {k: p.grad for k, p in model.named_parameters()})
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    twin.load_state_dict(_to_torch(torch, model.state_dict()))
    x_t = torch.from_numpy(x)
    np.testing.assert_allclose(model(x).numpy(), twin(x_t).detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tk.functional.cross_entropy(model(x), t).item(),
                               torch.nn.functional.cross_entropy(twin(x_t), torch.from_numpy(t)).item(),
                               rtol=1e-12)


def test_float32_state_dict_loads_into_a_float32_torch_module(torch):
    ours = nn.Linear(3, 2, dtype=np.float32)
    theirs = torch.nn.Linear(3, 2)  # float32, PyTorch's default
    theirs.load_state_dict(_to_torch(torch, ours.state_dict()))
    x = np.random.default_rng(5).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(x).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)
