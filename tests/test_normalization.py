"""Batch normalisation and dropout: tk.functional.batch_norm / dropout and tk.nn.BatchNorm1d, BatchNorm2d,
Dropout. Values, running statistics and gradients against NumPy references written here (and against
torch where it is installed), train/eval modes, state dicts, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import numeric_vjp

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko import nn
from tinygrad_ko.tensor import Tensor

SMALL = settings(max_examples=25)  # each example runs several central-difference gradients


# --- references: PyTorch's formulas transcribed into NumPy ---


def channel_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def per_channel(v, ndim):
    """A (C,) vector shaped to broadcast against (N, C, ...)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def np_batch_norm(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    """y and the new running statistics, as torch.nn.functional.batch_norm documents them."""
    axes = channel_axes(x.ndim)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        unbiased = x.var(axis=axes, ddof=1)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * unbiased
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean, running_var
    y = (x - per_channel(mean, x.ndim)) / np.sqrt(per_channel(var, x.ndim) + eps)
    return y * per_channel(gamma, x.ndim) + per_channel(beta, x.ndim), new_mean, new_var


@st.composite
def batch_norm_cases(draw, min_dims=2, max_dims=4):
    """x of shape (N, C, ...), gamma, beta, running statistics and an upstream gradient."""
    ndim = draw(st.integers(min_dims, max_dims))
    shape = (draw(st.integers(2, 4)), draw(st.integers(1, 3))) + tuple(
        draw(st.integers(1, 3)) for _ in range(ndim - 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0]))
    c = shape[1]
    return dict(
        x=rng.standard_normal(shape) * scale + rng.standard_normal(),
        gamma=rng.standard_normal(c), beta=rng.standard_normal(c),
        running_mean=rng.standard_normal(c), running_var=rng.uniform(0.5, 2.0, c),
        gy=rng.standard_normal(shape),
        momentum=draw(st.sampled_from([0.1, 0.5, 1.0])), eps=draw(st.sampled_from([1e-5, 1e-3])))


# --- batch_norm: values and running statistics ---


@SMALL
@given(case=batch_norm_cases(), training=st.booleans())
def test_batch_norm_values_and_running_stats_match_the_formula(case, training):
    running_mean, running_var = case["running_mean"].copy(), case["running_var"].copy()
    y = F.batch_norm(case["x"], case["gamma"], case["beta"], running_mean, running_var,
                     training=training, momentum=case["momentum"], eps=case["eps"])
    expected, new_mean, new_var = np_batch_norm(case["x"], case["gamma"], case["beta"], case["running_mean"],
                                                case["running_var"], training, case["momentum"], case["eps"])
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(running_mean, new_mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(running_var, new_var, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(6, 3), (5, 2, 7), (4, 3, 5, 6)])
def test_batch_norm_training_output_has_mean_zero_variance_one_per_channel(shape):
    x = np.random.default_rng(0).standard_normal(shape) * 3 + 2
    y = F.batch_norm(x, None, None, eps=0.0).data
    axes = channel_axes(len(shape))
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), 1.0, rtol=1e-12)  # biased variance normalises


def test_batch_norm_updates_running_tensors_in_place_and_leaves_the_rest_alone():
    rng = np.random.default_rng(1)
    x, gamma, beta = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)
    mean, var = Tensor(np.zeros(3)), Tensor(np.ones(3))
    mean_array, var_array = mean.data, var.data
    copies = [a.copy() for a in (x, gamma, beta)]
    F.batch_norm(x, gamma, beta, mean, var)
    assert mean.data is mean_array and var.data is var_array
    np.testing.assert_allclose(mean.data, 0.1 * x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(var.data, 0.9 + 0.1 * x.var(axis=(0, 2), ddof=1), rtol=1e-12)
    for before, after in zip(copies, (x, gamma, beta)):
        np.testing.assert_array_equal(before, after)


def test_batch_norm_eval_uses_running_stats_and_changes_nothing():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 2, 2))
    mean, var = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    y = F.batch_norm(x, None, None, mean, var, training=False, eps=0.0)
    np.testing.assert_allclose(y.data, (x - per_channel(mean, 4)) / np.sqrt(per_channel(var, 4)), rtol=1e-12)
    np.testing.assert_array_equal(mean, [0.5, -1.0])
    np.testing.assert_array_equal(var, [2.0, 0.25])


def test_batch_norm_without_running_stats_in_training_and_without_affine():
    x = np.random.default_rng(3).standard_normal((5, 4))
    y = F.batch_norm(x, None, None)
    expected = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


def test_batch_norm_empty_batch_gives_empty_output_and_keeps_running_stats():
    mean, var = np.zeros(3), np.ones(3)
    y = F.batch_norm(np.zeros((0, 3)), np.ones(3), np.zeros(3), mean, var)
    assert y.shape == (0, 3)
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_array_equal(var, 1.0)


def test_batch_norm_marks_running_tensors_changed():
    mean, var = Tensor(np.zeros(2)), Tensor(np.ones(2))
    w = Tensor(np.ones(2), requires_grad=True)
    used = (w * mean).sum()  # Mul's backward reads mean
    F.batch_norm(np.array([[1.0, 2.0], [3.0, 5.0]]), None, None, mean, var)
    with pytest.raises(RuntimeError, match="modified in place.*batch_norm"):
        used.backward()


# --- batch_norm: gradients ---


@SMALL
@given(case=batch_norm_cases(), training=st.booleans())
def test_batch_norm_grads_match_central_differences(case, training):
    x, gamma, beta, gy = case["x"], case["gamma"], case["beta"], case["gy"]
    mean, var, eps = case["running_mean"], case["running_var"], case["eps"]
    tensors = [Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    F.batch_norm(*tensors, mean.copy(), var.copy(), training=training, eps=eps).backward(gy)

    def reference(x, gamma, beta):
        return np_batch_norm(x, gamma, beta, mean, var, training, eps=eps)[0]

    for i, t in enumerate(tensors):
        expected = numeric_vjp(reference, [x, gamma, beta], gy, i)
        scale = np.abs(expected).max() + 1.0
        np.testing.assert_allclose(t.grad.data, expected, rtol=1e-5, atol=1e-6 * scale)


def test_batch_norm_training_grad_sums_to_zero_per_channel():
    # with eps = 0, y does not change when a channel of x is shifted or scaled: no gradient that way
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((6, 3, 2)), requires_grad=True)
    F.batch_norm(x, rng.standard_normal(3), None, eps=0.0).backward(rng.standard_normal((6, 3, 2)))
    np.testing.assert_allclose(x.grad.data.sum(axis=(0, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose((x.grad.data * x.data).sum(axis=(0, 2)), 0.0, atol=1e-10)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 2, 2)])
def test_batch_norm_gradgradcheck(shape, training):
    rng = np.random.default_rng(5)
    c = shape[1]
    x, gamma, beta = (Tensor(a, requires_grad=True) for a in (
        rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c)))
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)

    def fn(x, gamma, beta):
        return F.batch_norm(x, gamma, beta, mean.copy(), var.copy(), training=training, eps=1e-3)

    assert tk.gradcheck(fn, x, gamma, beta)
    assert tk.gradgradcheck(fn, x, gamma, beta)


def test_batch_norm_plain_and_create_graph_backward_agree():
    rng = np.random.default_rng(6)
    x, gamma, beta = (Tensor(a, requires_grad=True) for a in (
        rng.standard_normal((5, 2, 3)), rng.standard_normal(2), rng.standard_normal(2)))
    gy = rng.standard_normal((5, 2, 3))
    plain = tk.grad(F.batch_norm(x, gamma, beta), [x, gamma, beta], gy)
    recorded = tk.grad(F.batch_norm(x, gamma, beta), [x, gamma, beta], gy, create_graph=True)
    assert recorded[0].requires_grad and recorded[1].requires_grad  # dbeta = sum(gy) is a constant here
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(p.data, r.data, rtol=1e-12, atol=1e-14)


def test_batch_norm_refuses_backward_after_x_changed_in_place():
    x = Tensor(np.random.default_rng(7).standard_normal((4, 2)), requires_grad=True)
    y = F.batch_norm(x, None, None)
    with tk.no_grad():
        x -= 1.0
    with pytest.raises(RuntimeError, match="batch_norm.*modified in place"):
        y.backward(np.ones((4, 2)))


# --- batch_norm: errors ---


@pytest.mark.parametrize("x, kwargs, error, words", [
    (np.ones(3), {}, ValueError, ["(3,)", "batch axis"]),
    (np.ones((4, 3)), dict(gamma=np.ones(2)), ValueError, ["gamma", "(2,)", "(3,)"]),
    (np.ones((4, 3)), dict(beta=np.ones((3, 1))), ValueError, ["beta", "(3, 1)"]),
    (np.ones((4, 3, 2)), dict(running_mean=np.zeros(2), running_var=np.ones(2)), ValueError,
     ["running_mean", "(2,)", "(3,)"]),
    (np.ones((4, 3)), dict(running_mean=np.zeros(3)), ValueError, ["running_var", "both"]),
    (np.ones((4, 3)), dict(training=False), ValueError, ["running_mean", "training=False"]),
    (np.ones((1, 3)), {}, ValueError, ["more than 1 value per channel", "(1, 3)"]),
    (np.ones((1, 3, 1, 1)), {}, ValueError, ["more than 1 value per channel"]),
    (np.ones((4, 3), dtype=np.int64), {}, TypeError, ["int64", "floating point"]),
    (np.ones((4, 3)), dict(gamma=np.ones(3, dtype=np.int32)), TypeError, ["gamma", "int32"]),
    (np.ones((4, 3)), dict(running_mean=[0.0] * 3, running_var=np.ones(3)), TypeError,
     ["running_mean", "list", "in place"]),
])
def test_batch_norm_errors_name_the_problem(x, kwargs, error, words):
    args = dict(gamma=None, beta=None)
    args.update(kwargs)
    with pytest.raises(error) as info:
        F.batch_norm(x, args.pop("gamma"), args.pop("beta"), **args)
    message = str(info.value)
    assert message.startswith("batch_norm:")
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_batch_norm_batch_of_one_is_fine_in_eval():
    y = F.batch_norm(np.ones((1, 3)), None, None, np.zeros(3), np.ones(3), training=False, eps=0.0)
    np.testing.assert_array_equal(y.data, np.ones((1, 3)))


def test_batch_norm_refused_input_changes_no_running_stat():
    mean, var = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError):
        F.batch_norm(np.ones((4, 3)), np.ones(2), None, mean, var)
    with pytest.raises(ValueError, match="read-only"):
        frozen = np.ones(3)
        frozen.flags.writeable = False
        F.batch_norm(np.ones((4, 3)), None, None, mean, frozen)
    np.testing.assert_array_equal(mean, 0.0)
    np.testing.assert_array_equal(var, 1.0)


# --- batch_norm against torch ---


def _torch_batch_norm(torch, case, training):
    tx, tg, tb = (torch.tensor(case[k], requires_grad=True) for k in ("x", "gamma", "beta"))
    mean, var = torch.tensor(case["running_mean"]), torch.tensor(case["running_var"])
    y = torch.nn.functional.batch_norm(tx, mean, var, tg, tb, training=training,
                                       momentum=case["momentum"], eps=case["eps"])
    y.backward(torch.tensor(case["gy"]))
    return y.detach().numpy(), [t.grad.numpy() for t in (tx, tg, tb)], mean.numpy(), var.numpy()


@settings(max_examples=40)
@given(case=batch_norm_cases(), training=st.booleans())
def test_batch_norm_matches_torch(case, training):
    torch = pytest.importorskip("torch")
    y_t, grads_t, mean_t, var_t = _torch_batch_norm(torch, case, training)
    tensors = [Tensor(case[k].copy(), requires_grad=True) for k in ("x", "gamma", "beta")]
    mean, var = case["running_mean"].copy(), case["running_var"].copy()
    y = F.batch_norm(*tensors, mean, var, training=training, momentum=case["momentum"], eps=case["eps"])
    y.backward(case["gy"])
    np.testing.assert_allclose(y.data, y_t, rtol=1e-12, atol=1e-12)
    for t, g in zip(tensors, grads_t):
        np.testing.assert_allclose(t.grad.data, g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(mean, mean_t, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(var, var_t, rtol=1e-12, atol=1e-12)


# --- dropout ---


def test_dropout_keep_rate_and_scaling():
    np.random.seed(0)
    n, p = 100_000, 0.3
    x = np.random.default_rng(8).uniform(1.0, 2.0, n)  # never 0: a zero output means dropped
    y = F.dropout(x, p).data
    kept = y != 0
    # the kept fraction is 0.7 +- 0.00145 (one standard deviation); 6 of them is a wide, fixed-seed bound
    assert abs(kept.mean() - (1 - p)) < 6 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_grad_is_the_scaled_mask_times_gy(p):
    rng = np.random.default_rng(9)
    x = Tensor(rng.uniform(1.0, 2.0, (4, 5, 3)), requires_grad=True)
    gy = rng.standard_normal((4, 5, 3))
    np.random.seed(1)
    y = F.dropout(x, p)
    mask = (y.data != 0) / (1 - p)
    y.backward(gy)
    np.testing.assert_allclose(x.grad.data, mask * gy, rtol=1e-15)


def test_dropout_is_repeatable_with_np_random_seed():
    x = np.ones((6, 7))
    np.random.seed(3)
    a = F.dropout(x, 0.5).data
    b = F.dropout(x, 0.5).data
    np.random.seed(3)
    c = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_eval_and_p_zero_return_x_itself():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    y = F.dropout(np.arange(3.0), 0.9, training=False)
    assert isinstance(y, Tensor)
    np.testing.assert_array_equal(y.data, [0.0, 1.0, 2.0])


def test_dropout_p_one_gives_zeros_and_zero_grads():
    x = Tensor(np.random.default_rng(10).standard_normal((3, 4)), requires_grad=True)
    y = F.dropout(x, 1.0)
    np.testing.assert_array_equal(y.data, 0.0)
    y.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad.data, 0.0)
    assert np.isfinite(x.grad.data).all()


def test_dropout_keeps_float32():
    x = np.ones((4, 4), dtype=np.float32)
    assert F.dropout(x, 0.3).dtype == np.float32


def test_dropout_gradcheck_and_gradgradcheck_with_a_fixed_mask():
    x = Tensor(np.random.default_rng(11).standard_normal((3, 4)), requires_grad=True)

    def fn(x):
        np.random.seed(0)  # the same mask on every call
        return F.dropout(x, 0.4) * x

    assert tk.gradcheck(fn, x)
    assert tk.gradgradcheck(fn, x)


@pytest.mark.parametrize("p, error", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError),
                                      ("0.5", TypeError), (None, TypeError)])
def test_dropout_refuses_p_outside_0_1(p, error):
    with pytest.raises(error, match="dropout"):
        F.dropout(np.ones(3), p)
    with pytest.raises(error, match="Dropout"):
        nn.Dropout(p)


def test_dropout_refuses_integer_input():
    with pytest.raises(TypeError, match="dropout.*int64"):
        F.dropout(np.ones(3, dtype=np.int64), 0.5)


# --- the modules ---


def test_batch_norm_module_parameters_buffers_and_defaults():
    bn = nn.BatchNorm2d(3)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(bn.weight.data, np.ones(3))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(3))
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(3))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(3))
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert not any(b.requires_grad for b in bn.buffers())
    assert all(p is not b for p in bn.parameters() for b in bn.buffers())
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert (bn.eps, bn.momentum, bn.training) == (1e-5, 0.1, True)


def test_batch_norm_module_reprs():
    assert repr(nn.BatchNorm1d(4)) == \
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert repr(nn.BatchNorm2d(8, eps=1e-3, momentum=None, affine=False)) == \
        "BatchNorm2d(8, eps=0.001, momentum=None, affine=False, bias=False, track_running_stats=True)"
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"


@pytest.mark.parametrize("module, shape", [(nn.BatchNorm1d, (5, 3)), (nn.BatchNorm1d, (5, 3, 4)),
                                           (nn.BatchNorm2d, (4, 3, 2, 3))])
def test_batch_norm_module_train_then_eval(module, shape):
    rng = np.random.default_rng(12)
    bn = module(3, momentum=0.2)
    bn.weight.data[...] = rng.standard_normal(3)
    bn.bias.data[...] = rng.standard_normal(3)
    gamma, beta = bn.weight.data.copy(), bn.bias.data.copy()
    mean, var = np.zeros(3), np.ones(3)
    for step in range(1, 3):
        x = rng.standard_normal(shape) + step
        y = bn(x)
        expected, mean, var = np_batch_norm(x, gamma, beta, mean, var, True, momentum=0.2)
        np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-12)
        assert bn.num_batches_tracked.data == step
    assert bn.eval() is bn and not bn.training
    x = rng.standard_normal(shape)
    expected, _, _ = np_batch_norm(x, gamma, beta, mean, var, False)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10, atol=1e-12)
    assert bn.num_batches_tracked.data == 2  # evaluation tracks nothing
    np.testing.assert_array_equal(bn.running_mean.data, mean)


def test_batch_norm_module_backward_reaches_weight_and_bias_only():
    bn = nn.BatchNorm1d(2)
    x = Tensor(np.random.default_rng(13).standard_normal((4, 2)), requires_grad=True)
    (bn(x) * np.array([1.0, 2.0])).sum().backward()
    assert bn.weight.grad is not None and bn.bias.grad is not None and x.grad is not None
    assert all(b.grad is None for b in bn.buffers())


def test_batch_norm_module_momentum_none_is_the_cumulative_average():
    rng = np.random.default_rng(14)
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = [rng.standard_normal((4, 3)) + k for k in range(3)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(axis=0) for x in batches], axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0),
                               rtol=1e-12)


def test_batch_norm_module_without_affine_or_tracking():
    plain = nn.BatchNorm1d(3, affine=False)
    assert plain.parameters() == [] and plain.weight is None and plain.bias is None
    assert list(plain.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    untracked = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert list(untracked.state_dict()) == ["weight", "bias"] and untracked.buffers() == []
    x = np.random.default_rng(15).standard_normal((5, 3))
    np.testing.assert_allclose(untracked(x).data, F.batch_norm(x, None, None).data, rtol=1e-12)  # batch stats
    assert list(nn.BatchNorm1d(3, bias=False).state_dict()) == [
        "weight", "running_mean", "running_var", "num_batches_tracked"]


@pytest.mark.parametrize("module, shape, words", [
    (nn.BatchNorm1d, (2, 3, 4, 5), ["BatchNorm1d", "2D or 3D", "4D"]),
    (nn.BatchNorm1d, (3,), ["BatchNorm1d", "1D"]),
    (nn.BatchNorm2d, (2, 3, 4), ["BatchNorm2d", "4D input", "3D"]),
])
def test_batch_norm_module_refuses_other_ndims(module, shape, words):
    with pytest.raises(ValueError) as info:
        module(3)(np.ones(shape))
    for word in words:
        assert word in str(info.value)


def test_batch_norm_module_refused_batch_changes_no_buffer():
    bn = nn.BatchNorm1d(3)
    before = bn.state_dict()
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(np.ones((1, 3)))
    for name, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_dropout_module_follows_train_and_eval():
    x = np.ones((5, 6))
    drop = nn.Dropout(0.5)
    np.random.seed(4)
    y = drop(x)
    np.random.seed(4)
    np.testing.assert_array_equal(y.data, F.dropout(x, 0.5).data)
    assert (y.data == 0).any()
    t = Tensor(x)
    assert drop.eval()(t) is t
    assert drop.train()(t) is not t
    assert drop.parameters() == [] and drop.state_dict() == {}


def test_dropout_module_refuses_inplace():
    with pytest.raises(ValueError, match="inplace"):
        nn.Dropout(0.5, inplace=True)


def test_sequential_train_and_eval_reach_every_layer():
    model = nn.Sequential(nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Sequential(nn.BatchNorm1d(4), nn.Dropout()))
    assert model.eval() is model
    assert not any(m.training for m in (model, model[0], model[1], model[2], model[2][0], model[2][1]))
    x = np.random.default_rng(16).standard_normal((3, 4))
    np.testing.assert_allclose(model(x).data, x / (1 + 1e-5), rtol=1e-12)  # fresh statistics, no dropout
    model.train()
    assert all(m.training for m in (model, model[0], model[1], model[2], model[2][0], model[2][1]))
    assert list(model.state_dict()) == [
        f"{prefix}.{name}" for prefix in ("0", "2.0")
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")]


# --- state dicts to and from torch ---


def _torch_bn2d_with_history(torch, channels=3):
    torch.manual_seed(0)
    bn = torch.nn.BatchNorm2d(channels, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1.0, 1.0)
    for _ in range(2):  # running statistics away from their start
        bn(torch.randn(4, channels, 3, 3, dtype=torch.float64) * 2 + 1)
    return bn


def _compare_bn2d(torch, ours, theirs):
    x = np.random.default_rng(17).standard_normal((4, 3, 3, 2)) * 1.5 - 0.5
    for train in (True, False):
        ours.train(train)
        theirs.train(train)
        expected = theirs(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(ours(x).data, expected, rtol=1e-12, atol=1e-12)
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-12, atol=1e-12)


def test_load_torch_batchnorm2d_state_dict_gives_torch_outputs():
    torch = pytest.importorskip("torch")
    theirs = _torch_bn2d_with_history(torch)
    ours = nn.BatchNorm2d(3, momentum=0.3)
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    assert ours.num_batches_tracked.data == 2
    _compare_bn2d(torch, ours, theirs)


def test_torch_loads_our_batchnorm2d_state_dict():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(18)
    ours = nn.BatchNorm2d(3, momentum=0.3)
    ours.weight.data[...] = rng.uniform(0.5, 1.5, 3)
    ours.bias.data[...] = rng.uniform(-1, 1, 3)
    for _ in range(2):
        ours(rng.standard_normal((4, 3, 3, 3)) * 2 + 1)
    theirs = torch.nn.BatchNorm2d(3, momentum=0.3, dtype=torch.float64)
    theirs.load_state_dict({name: torch.from_numpy(value) for name, value in ours.state_dict().items()})
    assert int(theirs.num_batches_tracked) == 2
    _compare_bn2d(torch, ours, theirs)
