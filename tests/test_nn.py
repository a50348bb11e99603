"""tinygrad_ko.nn: parameter registration, Linear/ReLU/Sigmoid/Sequential, state dicts, save/load."""

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import nn
from tinygrad_ko.tensor import Tensor


def param(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


class Block(nn.Module):
    def __init__(self, shared=None):
        super().__init__()
        self.W = param(2, 3, seed=1)
        self.scale = Tensor(np.ones(3))  # a constant: not a parameter
        self.shared = shared if shared is not None else param(3, seed=2)

    def forward(self, x):
        return (x @ self.W) * self.scale + self.shared


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = param(4, seed=3)
        shared = param(3, seed=4)
        self.a = Block(shared)
        self.b = Block(shared)
        self.derived = self.first * 2  # made by an op: not a leaf, not a parameter
        self.last = param(1, seed=5)
        self.alias = self.last  # the same tensor twice: listed once

    def forward(self, x):
        return (self.a(x) + self.b(x)).sum() + self.first.sum() + self.last.sum()


# --- registration ---


def test_named_parameters_are_dotted_in_assignment_order_each_once():
    model = Outer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["first", "a.W", "a.shared", "b.W", "last"]
    assert all(p is q for (_, p), q in zip(model.named_parameters(), model.parameters()))
    assert len({id(p) for p in model.parameters()}) == len(model.parameters())


def test_shared_tensor_listed_once_under_its_first_name():
    model = Outer()
    named = dict(model.named_parameters())
    assert named["a.shared"] is model.a.shared is model.b.shared
    assert "b.shared" not in named


def test_constants_and_non_leaf_tensors_are_not_parameters():
    model = Outer()
    params = model.parameters()
    assert not any(p is model.a.scale for p in params)
    assert not any(p is model.derived for p in params)
    assert model.derived.requires_grad and not model.derived.is_leaf
    names = [name for name, _ in model.named_parameters()]
    assert "derived" not in names and "a.scale" not in names and "alias" not in names


def test_parameters_are_requires_grad_leaves():
    for p in Outer().parameters():
        assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf


def test_zero_grad_clears_every_grad():
    model = Outer()
    model(np.ones((5, 2))).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    for p in model.parameters():
        assert p.grad is None or not np.any(p.grad.data)


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(np.ones(2))


# --- Linear ---


def test_linear_shapes_and_bias():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)  # PyTorch's (out, in)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None
    assert [name for name, _ in no_bias.named_parameters()] == ["weight"]
    x = np.random.default_rng(0).standard_normal((2, 4))
    np.testing.assert_allclose(no_bias(x).data, x @ no_bias.weight.data.T, rtol=1e-12)


def test_linear_forward_is_x_at_weight_T_plus_bias():
    np.random.seed(0)
    layer = nn.Linear(5, 2)
    x = np.random.default_rng(1).standard_normal((7, 5))
    y = layer(x)
    assert y.shape == (7, 2)
    np.testing.assert_allclose(y.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-12, atol=1e-12)
    y_tensor = layer(Tensor(x))
    np.testing.assert_array_equal(y_tensor.data, y.data)


def test_linear_passes_gradcheck():
    np.random.seed(0)
    layer = nn.Linear(3, 4)
    x = Tensor(np.random.default_rng(2).standard_normal((5, 3)), requires_grad=True)

    def fn(x, weight, bias):  # gradcheck perturbs float64 copies: route them through the layer
        layer.weight, layer.bias = weight, bias
        return layer(x)

    assert tk.gradcheck(fn, x, layer.weight, layer.bias)


def test_linear_backward_fills_weight_and_bias_grads():
    np.random.seed(0)
    layer = nn.Linear(3, 2)
    x = np.random.default_rng(3).standard_normal((4, 3))
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data, np.ones((2, 1)) * x.sum(axis=0)[None, :], rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, np.full(2, 4.0))


def test_linear_init_bounded_by_one_over_sqrt_fan_in():
    np.random.seed(0)
    layer = nn.Linear(100, 50)
    bound = 1 / np.sqrt(100)
    for p in (layer.weight, layer.bias):
        assert np.all(np.abs(p.data) <= bound)
        assert p.dtype == np.float64
    assert np.abs(layer.weight.data).max() > 0.9 * bound  # uses the range, not a tiny corner of it
    assert layer.weight.data.std() > 0.4 * bound


def test_linear_init_repeatable_with_np_random_seed():
    np.random.seed(42)
    a = nn.Linear(6, 3)
    np.random.seed(42)
    b = nn.Linear(6, 3)
    c = nn.Linear(6, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(b.weight.data, c.weight.data)


# --- activations and Sequential ---


def test_relu_and_sigmoid_modules():
    x = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(nn.ReLU()(x).data, [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)), rtol=1e-12)
    assert nn.ReLU().parameters() == [] and nn.Sigmoid().parameters() == []


class Recorder(nn.Module):
    def __init__(self, name, log):
        super().__init__()
        self.name, self.log = name, log

    def forward(self, x):
        self.log.append(self.name)
        return x * 2 + 1


def test_sequential_calls_in_order():
    log = []
    seq = nn.Sequential(Recorder("a", log), Recorder("b", log), Recorder("c", log))
    out = seq(Tensor(np.array([1.0])))
    assert log == ["a", "b", "c"]
    np.testing.assert_array_equal(out.data, [15.0])  # ((1*2+1)*2+1)*2+1


def test_sequential_indexing_len_and_iteration():
    mods = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*mods)
    assert len(seq) == 3
    assert seq[0] is mods[0] and seq[1] is mods[1] and seq[2] is mods[2]
    assert seq[-1] is mods[2]
    assert [id(m) for m in seq] == [id(m) for m in mods]
    assert [type(m) for m in seq] == [nn.Linear, nn.ReLU, nn.Linear]
    with pytest.raises(IndexError):
        seq[3]


def test_sequential_parameter_names_nest():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.Sigmoid(), nn.Linear(2, 1, bias=False))
    assert [name for name, _ in nested.named_parameters()] == ["0.0.weight", "0.0.bias", "2.weight"]


def test_sequential_forward_matches_by_hand_and_backprops():
    np.random.seed(0)
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    x = np.random.default_rng(4).standard_normal((6, 4))
    h = np.maximum(x @ seq[0].weight.data.T + seq[0].bias.data, 0)
    np.testing.assert_allclose(seq(x).data, h @ seq[2].weight.data.T + seq[2].bias.data, rtol=1e-12)
    seq(x).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in seq.parameters())


# --- state_dict / load_state_dict ---


def make_model(seed=0):
    np.random.seed(seed)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_state_dict_keys_are_named_parameters():
    model = make_model()
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    for name, p in model.named_parameters():
        assert isinstance(state[name], np.ndarray)
        np.testing.assert_array_equal(state[name], p.data)
        assert state[name].dtype == p.dtype


def test_state_dict_values_are_copies():
    model = make_model()
    before = {name: p.data.copy() for name, p in model.named_parameters()}
    state = model.state_dict()
    for name, p in model.named_parameters():
        assert not np.shares_memory(state[name], p.data)
        state[name] += 100.0
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_load_state_dict_round_trip_keeps_memory_shared():
    source, target = make_model(0), make_model(1)
    arrays = {name: p.data for name, p in target.named_parameters()}
    tensors = dict(target.named_parameters())
    target.load_state_dict(source.state_dict())
    for name, p in target.named_parameters():
        assert p is tensors[name]
        assert p.data is arrays[name]  # loaded in place: the same array object
        np.testing.assert_array_equal(p.data, dict(source.named_parameters())[name].data)
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_array_equal(target(x).data, source(x).data)


def test_load_state_dict_copies_instead_of_aliasing():
    source, target = make_model(0), make_model(1)
    state = source.state_dict()
    target.load_state_dict(state)
    state["0.weight"][...] = 7.0
    assert not np.any(target[0].weight.data == 7.0)


def test_load_state_dict_reports_every_problem_at_once_and_changes_nothing():
    model = make_model()
    before = model.state_dict()
    bad = model.state_dict()
    del bad["0.bias"]  # missing
    bad["extra.W"] = np.zeros(2)  # unexpected
    bad["0.weight"] = np.zeros((4, 3))  # wrong shape
    bad["2.weight"] = bad["2.weight"].astype(np.float32)  # wrong dtype
    bad["2.bias"] = bad["2.bias"] + 1.0  # a valid entry: must not be loaded either
    with pytest.raises(ValueError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    for word in ("0.bias", "extra.W", "0.weight", "(4, 3)", "(3, 4)", "2.weight", "float32", "float64"):
        assert word in message, f"{word!r} missing from {message!r}"
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


@pytest.mark.parametrize("change", ["missing", "unexpected", "shape", "dtype"])
def test_load_state_dict_each_mismatch_alone_is_a_value_error(change):
    model = make_model()
    before = model.state_dict()
    bad = {k: v + 1.0 for k, v in model.state_dict().items()}
    if change == "missing":
        del bad["2.bias"]
    elif change == "unexpected":
        bad["2.c"] = np.zeros(2)
    elif change == "shape":
        bad["2.bias"] = np.zeros(3)
    else:
        bad["2.bias"] = bad["2.bias"].astype(np.float32)
    with pytest.raises(ValueError, match="2\\.[bc]"):
        model.load_state_dict(bad)
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


# --- tk.save / tk.load ---


def test_save_load_round_trip_into_a_fresh_model(tmp_path):
    model = make_model(0)
    x = np.random.default_rng(5).standard_normal((8, 4))
    expected = model(x).data.copy()
    path = tmp_path / "model.npz"
    tk.save(model.state_dict(), path)
    loaded = tk.load(path)
    assert list(loaded) == list(model.state_dict())
    fresh = make_model(1)
    assert not np.array_equal(fresh(x).data, expected)
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(fresh(x).data, expected)


def test_save_load_round_trip_of_a_book_net(tmp_path):
    np.random.seed(0)
    net = tk.TwoLayerNet(6, 5, 3)
    net.params["b1"] += 0.5  # not all zeros, so a lost bias would show
    x = np.random.default_rng(6).standard_normal((4, 6))
    path = tmp_path / "net.npz"
    tk.save(net.state_dict(), path)
    np.random.seed(1)
    fresh = tk.TwoLayerNet(6, 5, 3)
    fresh.load_state_dict(tk.load(path))
    np.testing.assert_array_equal(fresh.predict(x).data, net.predict(x).data)


# --- train / eval ---


class Counter(nn.Module):
    """A parameter, a buffer and an optional child: the three kinds of state."""

    def __init__(self, child=None):
        super().__init__()
        self.w = param(2, seed=6)
        self.register_buffer("count", np.zeros((), dtype=np.int64))
        self.register_buffer("total", np.zeros(2))
        if child is not None:
            self.child = child

    def forward(self, x):
        if self.training:
            with tk.no_grad():
                self.count += 1
        return x * self.w


class NoSuperInit(nn.Module):
    def __init__(self):
        self.inner = Counter()  # no super().__init__(): still a module in training mode


def test_new_modules_are_in_training_mode():
    assert nn.Module().training
    assert Counter().training and NoSuperInit().training and nn.Sequential().training


def test_train_and_eval_return_the_module_and_reach_every_child():
    shared = Counter()
    model = nn.Sequential(Counter(Counter(shared)), nn.Sequential(shared, NoSuperInit()))
    everyone = [model, model[0], model[0].child, shared, model[1], model[1][1], model[1][1].inner]
    assert model.eval() is model
    assert not any(m.training for m in everyone)
    assert model.train() is model
    assert all(m.training for m in everyone)
    assert model.train(False) is model and not any(m.training for m in everyone)
    model[1].train()  # only that branch
    assert not model.training and not model[0].training and model[1].training and model[1][1].inner.training


def test_train_refuses_a_mode_that_is_not_a_bool():
    with pytest.raises(TypeError, match="train: mode must be True or False"):
        nn.Module().train("eval")


def test_train_and_eval_keep_the_parameter_table():
    model = nn.Sequential(Counter(), Counter())
    table = model.parameter_table()
    model.eval()
    assert model.parameter_table() is table


# --- buffers ---


def test_buffers_are_in_state_dict_after_their_modules_parameters_and_not_parameters():
    model = nn.Sequential(Counter(Counter()), Counter())
    assert [name for name, _ in model.named_parameters()] == ["0.w", "0.child.w", "1.w"]
    assert [name for name, _ in model.named_buffers()] == [
        "0.count", "0.total", "0.child.count", "0.child.total", "1.count", "1.total"]
    assert list(model.state_dict()) == ["0.w", "0.count", "0.total", "0.child.w", "0.child.count",
                                        "0.child.total", "1.w", "1.count", "1.total"]
    assert model.buffers() == [t for _, t in model.named_buffers()]
    assert all(isinstance(b, Tensor) and not b.requires_grad for b in model.buffers())
    assert not any(b is p for b in model.buffers() for p in model.parameters())


def test_buffers_of_a_module_without_own_parameters_come_before_its_children():
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Counter()
            self.register_buffer("steps", np.zeros(()))

    assert list(Holder().state_dict()) == ["steps", "inner.w", "inner.count", "inner.total"]


def test_buffer_state_is_a_copy():
    m = Counter()
    state = m.state_dict()
    state["total"] += 5.0
    np.testing.assert_array_equal(m.total.data, 0.0)


def test_register_buffer_rejects_bad_buffers():
    m = Counter()
    with pytest.raises(ValueError, match="requires grad"):
        m.register_buffer("trained", Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(ValueError, match="'w'.*not a buffer"):
        m.register_buffer("w", np.zeros(2))
    with pytest.raises(ValueError, match="identifier"):
        m.register_buffer("a.b", np.zeros(2))
    with pytest.raises(TypeError, match="Counter.total is a buffer"):
        m.total = np.zeros(2)
    assert [name for name, _ in m.named_parameters()] == ["w"]


def test_buffers_can_be_replaced_or_none():
    m = Counter()
    m.register_buffer("extra", None)
    assert "extra" not in m.state_dict() and m.extra is None
    m.extra = Tensor(np.arange(3.0))  # a buffer name keeps being a buffer
    assert list(m.state_dict()) == ["w", "count", "total", "extra"]
    m.register_buffer("total", np.ones(4))  # registering again replaces
    assert m.state_dict()["total"].shape == (4,)


def test_parameter_table_follows_later_assignments_and_ignores_buffers():
    m = Counter()
    assert [name for name, _ in m.named_parameters()] == ["w"]  # the table is cached now
    m.v = param(3, seed=7)
    m.register_buffer("b", np.zeros(1))
    assert [name for name, _ in m.named_parameters()] == ["w", "v"]
    m.w = Tensor(np.ones(2))  # a constant now
    assert [name for name, _ in m.named_parameters()] == ["v"]


def test_get_buffer_finds_buffers_by_dotted_name_only():
    model = nn.Sequential(Counter(Counter()))
    assert model.get_buffer("0.child.total") is model[0].child.total
    assert model[0].get_buffer("count") is model[0].count
    for target in ("0.w", "0.nothing", "1.count", "0.count.x"):
        with pytest.raises(AttributeError, match="get_buffer"):
            model.get_buffer(target)


def test_load_state_dict_loads_buffers_in_place_with_checks():
    source, target = Counter(Counter()), Counter(Counter())
    source(np.ones(2))
    source.child.total.data[...] = [1.0, 2.0]
    arrays = {name: t.data for name, t in target.named_buffers()}
    target.load_state_dict(source.state_dict())
    for name, t in target.named_buffers():
        assert t.data is arrays[name]
        np.testing.assert_array_equal(t.data, dict(source.named_buffers())[name].data)
    assert target.count.data == 1 and target.count.dtype == np.int64

    before = target.state_dict()
    bad = source.state_dict()
    bad["count"] = np.array(3.0)  # float64, not int64
    bad["child.total"] = np.zeros(3)
    del bad["total"]
    with pytest.raises(ValueError) as info:
        target.load_state_dict(bad)
    for word in ("count", "int64", "float64", "child.total", "(3,)", "missing keys: total"):
        assert word in str(info.value)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_marks_buffers_changed():
    m = Counter()
    w = Tensor(np.ones(2), requires_grad=True)
    used = (w * m.total).sum()  # Mul's backward reads the buffer
    m.load_state_dict(m.state_dict())
    with pytest.raises(RuntimeError, match="modified in place.*load_state_dict"):
        used.backward()
