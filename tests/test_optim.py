"""tinygrad_ko.optim: the book's update rules, in place, dtype-keeping, with clear errors."""

import math

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import optim
from tinygrad_ko.optim import SGD, AdaGrad, Adam, Momentum, RMSprop

ALL = [SGD, Momentum, AdaGrad, RMSprop, Adam]
# learning rates that reach the minimum of f(x) = sum((x - 3)**2) in a few hundred steps
GOOD_LR = [(SGD, 0.1), (Momentum, 0.05), (AdaGrad, 1.0), (RMSprop, 0.05), (Adam, 0.1)]


def random_problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((3, 4)).astype(dtype), "b1": rng.standard_normal(4).astype(dtype)}
    grads_per_step = [{k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
                      for _ in range(4)]
    return params, grads_per_step


# --- the update rules, written out by hand (scalar Python math, element by element) ---

def by_hand(name, hyper, p0, gs):
    """Apply the book's formula to the 1-D list of floats p0 for each grad list in gs."""
    p = list(p0)
    n = len(p)
    v, h, m = [0.0] * n, [0.0] * n, [0.0] * n
    for step, g in enumerate(gs, start=1):
        for i in range(n):
            if name == "SGD":
                p[i] = p[i] - hyper["lr"] * g[i]
            elif name == "Momentum":
                v[i] = hyper["momentum"] * v[i] - hyper["lr"] * g[i]
                p[i] = p[i] + v[i]
            elif name == "AdaGrad":
                h[i] = h[i] + g[i] * g[i]
                p[i] = p[i] - hyper["lr"] * g[i] / (math.sqrt(h[i]) + 1e-7)
            elif name == "RMSprop":
                h[i] = hyper["decay_rate"] * h[i] + (1 - hyper["decay_rate"]) * g[i] * g[i]
                p[i] = p[i] - hyper["lr"] * g[i] / (math.sqrt(h[i]) + 1e-7)
            elif name == "Adam":
                b1, b2 = hyper["beta1"], hyper["beta2"]
                lr_t = hyper["lr"] * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
                m[i] = m[i] + (1 - b1) * (g[i] - m[i])
                v[i] = v[i] + (1 - b2) * (g[i] ** 2 - v[i])
                p[i] = p[i] - lr_t * m[i] / (math.sqrt(v[i]) + 1e-7)
    return p


HYPER = {
    "SGD": {"lr": 0.1},
    "Momentum": {"lr": 0.1, "momentum": 0.8},
    "AdaGrad": {"lr": 0.3},
    "RMSprop": {"lr": 0.05, "decay_rate": 0.9},
    "Adam": {"lr": 0.01, "beta1": 0.8, "beta2": 0.95},
}


@pytest.mark.parametrize("cls", ALL)
def test_first_steps_follow_the_books_formula(cls):
    params, grads_per_step = random_problem()
    start = {k: v.copy() for k, v in params.items()}
    opt = cls(**HYPER[cls.__name__])
    for step in range(1, len(grads_per_step) + 1):
        opt.update(params, grads_per_step[step - 1])
        for key in params:
            expected = by_hand(cls.__name__, HYPER[cls.__name__], start[key].ravel().tolist(),
                               [g[key].ravel().tolist() for g in grads_per_step[:step]])
            np.testing.assert_allclose(params[key].ravel(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", ALL)
def test_defaults_are_the_books(cls):
    defaults = {"SGD": {"lr": 0.01}, "Momentum": {"lr": 0.01, "momentum": 0.9}, "AdaGrad": {"lr": 0.01},
                "RMSprop": {"lr": 0.01, "decay_rate": 0.99},
                "Adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}}
    opt = cls()
    for name, value in defaults[cls.__name__].items():
        assert getattr(opt, name) == value
    params, grads_per_step = random_problem(1)
    start = params["b1"].tolist()
    for g in grads_per_step:
        opt.update(params, g)
    expected = by_hand(cls.__name__, defaults[cls.__name__], start, [g["b1"].tolist() for g in grads_per_step])
    np.testing.assert_allclose(params["b1"], expected, rtol=1e-12)


def test_adam_counts_one_step_per_update_call_shared_by_all_keys():
    params, grads_per_step = random_problem()
    opt = Adam()
    opt.update(params, grads_per_step[0])
    opt.update(params, grads_per_step[1])
    assert opt.iter == 2


def test_adam_first_step_moves_each_element_by_about_lr():
    p = np.zeros(3)
    Adam(lr=0.01).update({"p": p}, {"p": np.array([1e-2, -5.0, 100.0])})
    np.testing.assert_allclose(p, [-0.01, 0.01, -0.01], rtol=1e-3)


# --- in place, dtype, state ---

@pytest.mark.parametrize("cls", ALL)
def test_update_is_in_place(cls):
    params, grads_per_step = random_problem()
    W = params["W1"]
    row = W[1]                          # a view into the parameter, like a net's shared params
    before = row.copy()
    cls(lr=0.1).update(params, grads_per_step[0])
    assert params["W1"] is W            # never rebound
    assert not np.array_equal(row, before)
    np.testing.assert_array_equal(row, params["W1"][1])


@pytest.mark.parametrize("cls", ALL)
def test_float32_stays_float32(cls):
    params, grads_per_step = random_problem(dtype=np.float32)
    opt = cls()
    for g in grads_per_step:
        g = {k: v.astype(np.float64) for k, v in g.items()}   # a float64 grad does not promote the param
        opt.update(params, g)
    assert all(v.dtype == np.float32 for v in params.values())
    for attr in ("v", "h", "m"):
        for state in getattr(opt, attr, {}).values():
            assert state.dtype == np.float32


@pytest.mark.parametrize("cls", ALL)
def test_float32_results_match_float64_closely(cls):
    p64, grads_per_step = random_problem()
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    o64, o32 = cls(**HYPER[cls.__name__]), cls(**HYPER[cls.__name__])
    for g in grads_per_step:
        o64.update(p64, g)
        o32.update(p32, g)
    for key in p64:
        np.testing.assert_allclose(p32[key], p64[key], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [Momentum, AdaGrad, RMSprop, Adam])
def test_state_is_created_lazily_per_key_with_the_params_shape(cls):
    opt = cls()
    stores = [getattr(opt, name) for name in cls._state_names]
    assert all(store == {} for store in stores)
    opt.update({"a": np.zeros((2, 3))}, {"a": np.ones((2, 3))})
    opt.update({"a": np.zeros((2, 3)), "b": np.zeros(4)}, {"a": np.ones((2, 3)), "b": np.ones(4)})
    for store in stores:
        assert sorted(store) == ["a", "b"]
        assert store["a"].shape == (2, 3) and store["b"].shape == (4,)


@pytest.mark.parametrize("cls", ALL)
def test_none_grad_skips_the_param(cls):
    params = {"W": np.ones(3), "frozen": np.ones(2)}
    opt = cls(lr=0.1)
    opt.update(params, {"W": np.ones(3), "frozen": None})
    np.testing.assert_array_equal(params["frozen"], [1.0, 1.0])
    assert not np.array_equal(params["W"], np.ones(3))
    for name in cls._state_names:
        assert "frozen" not in getattr(opt, name)


# --- each one minimises a simple quadratic ---

@pytest.mark.parametrize("cls, lr", GOOD_LR)
def test_minimises_a_quadratic(cls, lr):
    # f(x) = sum((x - 3)**2), gradient 2 (x - 3), minimum at x = 3
    x = np.array([-2.0, 0.0, 1.0, 5.0, 10.0])
    opt = cls(lr=lr)
    for _ in range(300):
        opt.update({"x": x}, {"x": 2 * (x - 3)})
    np.testing.assert_allclose(x, 3.0, atol=1e-3)


# --- Tensors ---

@pytest.mark.parametrize("cls, lr", GOOD_LR)
def test_trains_tensors_with_autograd_grads(cls, lr):
    x = tk.Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    data = x.data
    opt = cls(lr=lr)
    for _ in range(300):
        x.zero_grad()
        ((x - 3.0) ** 2).sum().backward()
        opt.update({"x": x}, {"x": x.grad})       # Tensor param, Tensor grad
    assert x.data is data and x.dtype == np.float32
    np.testing.assert_allclose(x.data, 3.0, atol=1e-3)


def test_params_dict_sharing_memory_with_a_tensor_trains_the_tensor():
    w = tk.Tensor(np.ones((2, 2)), requires_grad=True)
    params = {"W": w.data}                          # as a net's params share memory with its Tensors
    SGD(lr=0.5).update(params, {"W": np.ones((2, 2))})
    np.testing.assert_array_equal(w.data, 0.5)


def test_mixing_ndarray_and_tensor_values():
    params = {"a": tk.Tensor([1.0, 2.0]), "b": np.array([1.0, 2.0])}
    SGD(lr=1.0).update(params, {"a": np.array([1.0, 1.0]), "b": tk.Tensor([1.0, 1.0])})
    np.testing.assert_array_equal(params["a"].data, [0.0, 1.0])
    np.testing.assert_array_equal(params["b"], [0.0, 1.0])


# --- errors ---

@pytest.mark.parametrize("cls", ALL)
def test_shape_mismatch_names_optimizer_key_and_shapes(cls):
    params = {"W1": np.ones((2, 3)), "b1": np.ones(3)}
    with pytest.raises(ValueError) as info:
        cls().update(params, {"W1": np.ones((2, 3)), "b1": np.ones((1, 3))})   # no broadcasting
    for word in [cls.__name__, "'b1'", "(1, 3)", "(3,)"]:
        assert word in str(info.value)


@pytest.mark.parametrize("cls", ALL)
def test_missing_grad_key_names_optimizer_and_key(cls):
    with pytest.raises(KeyError) as info:
        cls().update({"W1": np.ones(2), "b1": np.ones(2)}, {"W1": np.ones(2)})
    for word in [cls.__name__, "'b1'", "grads"]:
        assert word in str(info.value)


def test_grad_key_without_a_param_is_an_error():
    with pytest.raises(KeyError, match="'W2'.*params lacks"):
        SGD().update({"W1": np.ones(2)}, {"W1": np.ones(2), "W2": np.ones(2)})


class ListKeys:
    """A mapping that is not a dict: keys() is a list, in its own order."""

    def __init__(self, items):
        self._items = dict(items)

    def keys(self):
        return list(self._items)[::-1]

    def __getitem__(self, key):
        return self._items[key]

    def __contains__(self, key):
        return key in self._items


def test_mappings_with_the_same_keys_in_another_order_are_accepted():
    params = {"W": np.ones(2), "b": np.ones(1)}
    SGD(lr=0.5).update(params, ListKeys({"W": np.ones(2), "b": np.full(1, 2.0)}))
    np.testing.assert_array_equal(params["W"], [0.5, 0.5])
    np.testing.assert_array_equal(params["b"], [0.0])
    with pytest.raises(KeyError, match="'b'"):
        SGD().update(params, ListKeys({"W": np.ones(2)}))


def test_one_update_marks_every_param_it_changed():
    net = tk.TwoLayerNet(3, 2, 2)
    y = net.loss(np.ones((1, 3)), np.array([1]))
    grads = {k: np.ones_like(v) for k, v in net.params.items()}
    grads["b2"] = None  # skipped: not changed, not marked
    SGD(lr=0.1).update(net.params, grads)
    table = net.parameter_table()
    assert all(table[k]._version > 0 for k in ("W1", "b1", "W2"))
    assert table["b2"]._version == 0
    with pytest.raises(RuntimeError, match="by SGD.update"):
        y.backward()


@pytest.mark.parametrize("cls", ALL)
def test_nothing_is_updated_when_any_key_is_bad(cls):
    params = {"a": np.ones(2), "b": np.ones(2)}
    opt = cls(lr=0.1)
    with pytest.raises(ValueError):
        opt.update(params, {"a": np.ones(2), "b": np.ones(5)})
    np.testing.assert_array_equal(params["a"], [1.0, 1.0])
    assert getattr(opt, "iter", 0) == 0


@pytest.mark.parametrize("param, error, words", [
    (1.0, TypeError, ["float", "in place"]),
    ([1.0, 2.0], TypeError, ["list", "in place"]),
    (np.array([1, 2]), TypeError, ["int64", "floating-point"]),
])
def test_params_that_cannot_be_updated_in_place(param, error, words):
    with pytest.raises(error) as info:
        SGD().update({"w": param}, {"w": np.ones(2) if np.ndim(param) else 1.0})
    for word in words + ["SGD", "'w'"]:
        assert word in str(info.value)


def test_read_only_param_is_an_error():
    p = np.ones(2)
    p.flags.writeable = False
    with pytest.raises(ValueError, match="'w' is a read-only array"):
        SGD().update({"w": p}, {"w": np.ones(2)})


def test_complex_or_object_grad_is_an_error():
    with pytest.raises(TypeError, match="grad 'w' has dtype complex128"):
        SGD().update({"w": np.ones(2)}, {"w": np.ones(2) * 1j})


def test_not_dicts_is_an_error():
    with pytest.raises(TypeError, match="params must be a dict"):
        SGD().update([np.ones(2)], [np.ones(2)])


def test_state_from_another_net_is_an_error():
    opt = Momentum()
    opt.update({"W": np.ones((2, 2))}, {"W": np.ones((2, 2))})
    with pytest.raises(ValueError, match="Momentum.*'W'.*state 'v'.*new optimizer"):
        opt.update({"W": np.ones(3)}, {"W": np.ones(3)})


@pytest.mark.parametrize("make", [
    lambda: SGD(lr=-0.1), lambda: SGD(lr=float("nan")), lambda: SGD(lr=float("inf")), lambda: SGD(lr="0.1"),
    lambda: Momentum(momentum=1.5), lambda: RMSprop(decay_rate=-0.1),
    lambda: Adam(beta1=1.0), lambda: Adam(beta2=1.2),
])
def test_bad_hyperparameters_are_refused(make):
    with pytest.raises(ValueError, match="must be a finite number in"):
        make()


def test_repr_shows_hyperparameters():
    assert repr(Adam()) == "Adam(lr=0.001, beta1=0.9, beta2=0.999)"
    assert repr(optim.SGD(lr=0.1)) == "SGD(lr=0.1)"


# --- weight decay: weight_decay * p added to the gradient, in every optimizer ---


@pytest.mark.parametrize("cls", ALL)
def test_weight_decay_adds_wd_times_param_to_the_gradient(cls):
    params, grads_per_step = random_problem(5)
    start = {k: v.copy() for k, v in params.items()}
    wd = 0.3
    opt = cls(weight_decay=wd, **HYPER[cls.__name__])
    assert opt.weight_decay == wd
    # by hand, element by element: each step's gradient is g + wd * p with p the current value
    p = {k: v.ravel().tolist() for k, v in start.items()}
    seen = {k: [] for k in params}
    for step, g in enumerate(grads_per_step, start=1):
        for key in params:
            seen[key].append([gi + wd * pi for gi, pi in zip(g[key].ravel().tolist(), p[key])])
            p[key] = by_hand(cls.__name__, HYPER[cls.__name__], start[key].ravel().tolist(), seen[key])
        opt.update(params, g)
        for key in params:
            np.testing.assert_allclose(params[key].ravel(), p[key], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cls", ALL)
def test_weight_decay_defaults_to_zero_and_leaves_the_callers_grads_alone(cls):
    assert cls().weight_decay == 0
    params, grads_per_step = random_problem(6)
    g_before = {k: v.copy() for k, v in grads_per_step[0].items()}
    cls(weight_decay=0.5).update(params, grads_per_step[0])
    for key in g_before:
        np.testing.assert_array_equal(grads_per_step[0][key], g_before[key])


@pytest.mark.parametrize("cls", ALL)
def test_weight_decay_keeps_float32(cls):
    params, grads_per_step = random_problem(dtype=np.float32)
    opt = cls(weight_decay=0.1)
    for g in grads_per_step:
        opt.update(params, g)
    assert all(v.dtype == np.float32 for v in params.values())


def test_weight_decay_shrinks_a_param_with_zero_gradient():
    p = np.array([2.0, -4.0])
    SGD(lr=0.1, weight_decay=0.5).update({"p": p}, {"p": np.zeros(2)})
    np.testing.assert_allclose(p, [2.0 * 0.95, -4.0 * 0.95], rtol=1e-15)


def test_weight_decay_matches_the_books_weight_decay_lambda_on_the_weights():
    # The book's MultiLayerNet adds lambda * W to dW (via 0.5 * lambda * sum(W**2) in the loss).
    x, t = np.random.default_rng(0).standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    np.random.seed(0)
    book = tk.MultiLayerNet(4, [3], 3, weight_decay_lambda=0.2)
    plain = tk.MultiLayerNet(4, [3], 3)
    for key in book.params:
        plain.params[key][...] = book.params[key]
    g_book, g_plain = book.gradient(x, t), plain.gradient(x, t)
    weights = {k: plain.params[k] for k in plain.params if k.startswith("W")}
    SGD(lr=0.1, weight_decay=0.2).update(weights, {k: g_plain[k] for k in weights})
    SGD(lr=0.1).update(book.params, g_book)
    for key in weights:
        np.testing.assert_allclose(plain.params[key], book.params[key], rtol=1e-12)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_weight_decay_is_refused(cls, bad):
    with pytest.raises(ValueError, match=f"{cls.__name__}: weight_decay must be a finite number in"):
        cls(weight_decay=bad)


def test_repr_shows_weight_decay_when_set():
    assert repr(SGD(lr=0.1, weight_decay=0.01)) == "SGD(lr=0.1, weight_decay=0.01)"


# --- against torch.optim (where torch is installed) ---


def _torch_run(make_torch_opt, p0, grads):
    torch = pytest.importorskip("torch", reason="torch is not installed; the comparison with torch.optim needs it")
    p = torch.tensor(p0, requires_grad=True)
    opt = make_torch_opt(torch, [p])
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    return p.detach().numpy()


TORCH_TWINS = [  # (ours, torch's that computes the same update)
    (lambda: SGD(lr=0.1, weight_decay=0.3), lambda torch, ps: torch.optim.SGD(ps, lr=0.1, weight_decay=0.3)),
    (lambda: Momentum(lr=0.1, momentum=0.8, weight_decay=0.3),   # v = -lr * torch's momentum buffer
     lambda torch, ps: torch.optim.SGD(ps, lr=0.1, momentum=0.8, weight_decay=0.3)),
    (lambda: AdaGrad(lr=0.3, weight_decay=0.3),
     lambda torch, ps: torch.optim.Adagrad(ps, lr=0.3, eps=1e-7, weight_decay=0.3)),
    (lambda: RMSprop(lr=0.05, decay_rate=0.9, weight_decay=0.3),
     lambda torch, ps: torch.optim.RMSprop(ps, lr=0.05, alpha=0.9, eps=1e-7, weight_decay=0.3)),
]


@pytest.mark.parametrize("ours, theirs", TORCH_TWINS, ids=["SGD", "Momentum", "AdaGrad", "RMSprop"])
def test_updates_with_weight_decay_equal_torch_optims(ours, theirs):
    rng = np.random.default_rng(7)
    p0, grads = rng.standard_normal(6), [rng.standard_normal(6) for _ in range(5)]
    expected = _torch_run(theirs, p0, grads)
    p = p0.copy()
    opt = ours()
    for g in grads:
        opt.update({"p": p}, {"p": g})
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)


def test_books_adam_differs_from_torchs_only_in_where_eps_goes():
    # The book adds 1e-7 to sqrt(v); torch adds eps to sqrt(v / (1 - beta2**t)). With gradients far
    # from 0 the two agree closely (not exactly); the weight decay is the same L2 term.
    rng = np.random.default_rng(8)
    p0, grads = rng.standard_normal(6), [rng.standard_normal(6) + 3.0 for _ in range(5)]
    expected = _torch_run(lambda torch, ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.95), eps=1e-7,
                                                              weight_decay=0.3), p0, grads)
    p = p0.copy()
    opt = Adam(lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.3)
    for g in grads:
        opt.update({"p": p}, {"p": g})
    np.testing.assert_allclose(p, expected, rtol=1e-6, atol=1e-8)
    assert not np.array_equal(p, expected)


# --- learning-rate schedulers ---

from tinygrad_ko.optim import lr_scheduler  # noqa: E402


def test_lr_scheduler_is_importable_as_pytorchs():
    import tinygrad_ko.optim.lr_scheduler as module

    assert module is tk.optim.lr_scheduler is lr_scheduler
    assert module.StepLR and module.CosineAnnealingLR


def _lrs(scheduler, steps=30):
    """The optimizer's lr at epochs 0 .. steps - 1, calling step() after each, as a training loop does."""
    lrs = []
    for _ in range(steps):
        lrs.append(scheduler.optimizer.lr)
        assert scheduler.get_last_lr() == [scheduler.optimizer.lr]
        scheduler.step()
    return lrs


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    lrs = _lrs(lr_scheduler.StepLR(SGD(lr=0.5), step_size=4, gamma=0.5), steps=12)
    np.testing.assert_allclose(lrs, [0.5] * 4 + [0.25] * 4 + [0.125] * 4, rtol=1e-15)


def test_cosine_annealing_follows_half_a_cosine_then_rises_again():
    lrs = _lrs(lr_scheduler.CosineAnnealingLR(Adam(lr=0.1), T_max=10, eta_min=0.01), steps=21)
    epochs = np.arange(21)
    np.testing.assert_allclose(lrs, 0.01 + 0.09 * (1 + np.cos(np.pi * epochs / 10)) / 2, rtol=1e-14)
    assert lrs[0] == 0.1 and abs(lrs[10] - 0.01) < 1e-15 and abs(lrs[20] - 0.1) < 1e-15


@pytest.mark.parametrize("cls", ALL)
def test_scheduled_lr_is_what_the_next_update_uses(cls):
    opt = cls(lr=1.0, **({"beta1": 0.5} if cls is Adam else {}))
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    scheduler.step()
    reference = cls(lr=0.5, **({"beta1": 0.5} if cls is Adam else {}))
    a, b = np.ones(3), np.ones(3)
    opt.update({"p": a}, {"p": np.array([1.0, -2.0, 3.0])})
    reference.update({"p": b}, {"p": np.array([1.0, -2.0, 3.0])})
    np.testing.assert_array_equal(a, b)


SCHEDULERS = [  # (ours, torch's)
    (lambda opt: lr_scheduler.StepLR(opt, step_size=7, gamma=0.3),
     lambda torch, opt: torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3)),
    (lambda opt: lr_scheduler.StepLR(opt, step_size=1),
     lambda torch, opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1)),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=12),
     lambda torch, opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12)),
    (lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.002),
     lambda torch, opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.002)),
]


@pytest.mark.parametrize("ours, theirs", SCHEDULERS, ids=["step7", "step1", "cosine12", "cosine8-eta"])
def test_schedulers_equal_torchs_over_30_epochs(ours, theirs):
    torch = pytest.importorskip("torch", reason="torch is not installed; the comparison needs it")
    torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    torch_scheduler = theirs(torch, torch_opt)
    expected = []
    for _ in range(30):
        expected.append(torch_scheduler.get_last_lr()[0])
        torch_opt.step()
        torch_scheduler.step()
    np.testing.assert_allclose(_lrs(ours(Momentum(lr=0.1))), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("make, words", [
    (lambda: lr_scheduler.StepLR(SGD(), step_size=0), ["StepLR", "step_size", "integer > 0", "0"]),
    (lambda: lr_scheduler.StepLR(SGD(), step_size=2.5), ["StepLR", "step_size", "2.5"]),
    (lambda: lr_scheduler.StepLR(SGD(), step_size=2, gamma=-1), ["StepLR", "gamma", ">= 0"]),
    (lambda: lr_scheduler.CosineAnnealingLR(SGD(), T_max=0), ["CosineAnnealingLR", "T_max", "> 0"]),
    (lambda: lr_scheduler.CosineAnnealingLR(SGD(), T_max=5, eta_min=float("nan")), ["eta_min", "nan"]),
])
def test_bad_scheduler_arguments_are_refused(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_scheduler_needs_an_optimizer_with_an_lr():
    with pytest.raises(TypeError, match="StepLR: the optimizer must have a number attribute lr"):
        lr_scheduler.StepLR(object(), step_size=1)


def test_scheduler_repr_and_base_lrs():
    scheduler = lr_scheduler.CosineAnnealingLR(SGD(lr=0.2), T_max=5)
    assert repr(scheduler) == "CosineAnnealingLR(T_max=5, eta_min=0.0)"
    assert scheduler.base_lrs == [0.2] and scheduler.last_epoch == 0
