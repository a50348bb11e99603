"""Factories (tk.zeros ... tk.randn), dtype conversion (float, double), integer tensors as
labels and indices, and the constructor's refusals (None, strings, complex)."""

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F

FACTORIES = {
    "zeros": (lambda **kw: tk.zeros(2, 3, **kw), np.zeros((2, 3))),
    "zeros tuple": (lambda **kw: tk.zeros((2, 3), **kw), np.zeros((2, 3))),
    "ones": (lambda **kw: tk.ones(4, **kw), np.ones(4)),
    "ones tuple": (lambda **kw: tk.ones([2, 1], **kw), np.ones((2, 1))),
    "full": (lambda **kw: tk.full((2, 2), 1.5, **kw), np.full((2, 2), 1.5)),
    "full int shape": (lambda **kw: tk.full(3, -2.0, **kw), np.full(3, -2.0)),
    "zeros_like": (lambda **kw: tk.zeros_like(np.ones((2, 2)), **kw), np.zeros((2, 2))),
    "ones_like": (lambda **kw: tk.ones_like(tk.Tensor(np.ones(3)), **kw), np.ones(3)),
    "full_like": (lambda **kw: tk.full_like([[1.0, 2.0]], 3.0, **kw), np.full((1, 2), 3.0)),
    "arange": (lambda **kw: tk.arange(5, **kw), np.arange(5.0)),
    "arange start stop step": (lambda **kw: tk.arange(1, 2, 0.25, **kw), np.arange(1, 2, 0.25)),
    "eye": (lambda **kw: tk.eye(3, **kw), np.eye(3)),
    "eye n m": (lambda **kw: tk.eye(2, 3, **kw), np.eye(2, 3)),
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_factories_make_float64_values_and_take_dtype_and_requires_grad(name):
    make, expected = FACTORIES[name]
    t = make()
    assert isinstance(t, tk.Tensor) and t.dtype == np.float64 and not t.requires_grad and t.is_leaf
    np.testing.assert_array_equal(t.numpy(), expected)
    t32 = make(dtype=np.float32)
    assert t32.dtype == np.float32
    np.testing.assert_array_equal(t32.numpy(), expected.astype(np.float32))
    leaf = make(requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf
    (leaf * 2.0).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.full(expected.shape, 2.0))
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        make(dtype=np.int64, requires_grad=True)


def test_like_factories_keep_the_dtype_of_their_model_as_pytorch():
    assert tk.zeros_like(tk.Tensor(np.ones(2, np.float32))).dtype == np.float32
    assert tk.ones_like(np.arange(3)).dtype == np.arange(3).dtype
    assert tk.zeros_like(np.arange(3), dtype=np.float64).dtype == np.float64


def test_arange_with_an_integer_dtype_makes_indices():
    idx = tk.arange(3, dtype=int)
    assert idx.dtype.kind == "i"
    x = tk.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    picked = x[idx, tk.Tensor(np.array([0, 3, 1]))]
    np.testing.assert_array_equal(picked.numpy(), [0.0, 7.0, 9.0])


@pytest.mark.parametrize("factory", [tk.randn, tk.rand])
def test_randn_and_rand_repeat_after_np_random_seed(factory):
    np.random.seed(0)
    a = factory(2, 3)
    np.random.seed(0)
    b = factory((2, 3), dtype=np.float32, requires_grad=True)
    np.random.seed(0)
    reference = (np.random.randn if factory is tk.randn else np.random.rand)(2, 3)
    assert a.shape == (2, 3) and a.dtype == np.float64
    np.testing.assert_array_equal(a.numpy(), reference)
    assert b.dtype == np.float32 and b.requires_grad
    np.testing.assert_array_equal(b.numpy(), reference.astype(np.float32))
    assert factory().shape == ()


def test_rand_is_uniform_in_zero_one_and_randn_is_standard_normal():
    np.random.seed(1)
    u, z = tk.rand(10000).numpy(), tk.randn(10000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02 and abs(z.mean()) < 0.05 and abs(z.std() - 1.0) < 0.05


@pytest.mark.parametrize("bad", [(-1, 2), (2.5,), (True,)])
def test_factories_refuse_a_bad_shape(bad):
    with pytest.raises(ValueError, match="zeros: a shape holds non-negative ints"):
        tk.zeros(*bad)


# --- float() and double() ---


def test_float_and_double_convert_and_send_gradients_back_in_the_original_dtype():
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 3.0).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert x.double() is x   # already float64, as PyTorch returns the tensor itself
    assert y.float() is y
    z = tk.Tensor(np.arange(3)).float()
    assert z.dtype == np.float32 and not z.requires_grad
    np.testing.assert_array_equal(tk.Tensor(np.ones(2, np.float32)).double().numpy(), [1.0, 1.0])


# --- integer tensors as the book's labels and indices ---

LOGITS = np.random.default_rng(0).normal(size=(4, 3))
LABELS = np.array([2, 0, 1, 2])


def test_an_int_label_tensor_works_in_the_losses_as_an_ndarray_does():
    labels = tk.Tensor(LABELS)
    assert labels.dtype.kind == "i"
    expected = F.softmax_cross_entropy(LOGITS, LABELS).item()
    assert F.softmax_cross_entropy(LOGITS, labels).item() == expected
    x = tk.Tensor(LOGITS, requires_grad=True)
    F.softmax_cross_entropy(x, labels).backward()
    probs = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), (probs - np.eye(3)[LABELS]) / 4, rtol=1e-12)
    y = F.softmax(LOGITS)
    assert F.cross_entropy_error(y, labels).item() == F.cross_entropy_error(y, LABELS).item()
    assert F.cross_entropy_error(y, tk.Tensor(np.eye(3)[LABELS])).item() == pytest.approx(
        F.cross_entropy_error(y, LABELS).item(), rel=1e-15)


def test_an_int_tensor_indexes_like_an_int_array_and_gradients_accumulate():
    x = tk.Tensor(LOGITS, requires_grad=True)
    t = tk.Tensor(np.array([0, 0, 3]))
    picked = x[t]
    np.testing.assert_array_equal(picked.numpy(), LOGITS[[0, 0, 3]])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [2.0, 0.0, 0.0, 1.0])
    rows = x[np.arange(4), tk.Tensor(LABELS)]   # the book's y[np.arange(batch_size), t]
    np.testing.assert_array_equal(rows.numpy(), LOGITS[np.arange(4), LABELS])


def test_a_float_index_tensor_says_to_use_integers():
    with pytest.raises(IndexError, match=r"getitem: an index tensor must hold integers .*\.astype\(int\)"):
        tk.Tensor(LOGITS)[tk.Tensor([0, 1])]


def test_accuracy_takes_int_label_tensors_and_one_hot_tensors():
    np.random.seed(0)
    net = tk.TwoLayerNet(input_size=3, hidden_size=5, output_size=3)
    x = np.random.default_rng(1).normal(size=(4, 3))
    expected = net.accuracy(x, LABELS)
    assert net.accuracy(x, tk.Tensor(LABELS)) == expected
    assert net.accuracy(tk.Tensor(x), tk.Tensor(np.eye(3)[LABELS])) == expected
    assert net.loss(x, tk.Tensor(LABELS)).item() == pytest.approx(net.loss(x, LABELS).item(), rel=1e-15)


# --- the constructor and the operators refuse what is not a number ---


@pytest.mark.parametrize("data, message", [
    (None, "cannot make a tensor from NoneType None"),
    ("1", "cannot make a tensor from str '1'"),
    (b"1", "cannot make a tensor from bytes"),
    ([1.0, None], "a list holding NoneType None"),
    (["1", "2"], "cannot make a tensor from <U1 values"),
    ([[1.0], ["a"]], "cannot make a tensor from <U32 values"),
    (1j, r"Python complex numbers are not supported .*\(z.real\)"),
    ([1.0, 2j], "Python complex numbers are not supported"),
    (np.array([1.0, 2j]), None),
])
def test_tensor_of_none_strings_or_python_complex_raises_type_error(data, message):
    if message is None:   # a complex ndarray is refused too, and says what to pass (issue 15 point 7)
        with pytest.raises(TypeError, match=r"cannot hold complex values \(dtype complex128\).*\(x.real\)"):
            tk.Tensor(data)
        with pytest.raises(TypeError, match=r"differentiates real numbers only; pass the real part \(x.real\)"):
            tk.Tensor(data, requires_grad=True)
        return
    with pytest.raises(TypeError, match=message):
        tk.Tensor(data)
    with pytest.raises(TypeError, match=message):
        tk.Tensor(data, dtype=np.float32)


def test_python_numbers_and_bools_still_become_float64():
    assert tk.Tensor(3).dtype == np.float64 and tk.Tensor(True).dtype == np.float64
    assert tk.Tensor([[1, 2]], dtype=np.float32).dtype == np.float32
    assert tk.Tensor(2 ** 70).item() == float(2 ** 70)   # too big for int64: still a number


@pytest.mark.parametrize("other", ["1", None, b"1", np.array(["a"]), 1j])
def test_operators_refuse_strings_none_and_complex(other):
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="cannot be combined with"):
        x + other
    with pytest.raises(TypeError, match="cannot be combined with"):
        x * other
    if not isinstance(other, np.ndarray):
        with pytest.raises(TypeError):
            other - x


def test_a_complex_array_cannot_join_a_tensor_that_requires_grad():
    with pytest.raises(TypeError, match="requires grad cannot be combined with complex values"):
        tk.Tensor([1.0], requires_grad=True) * np.array([1j])
    with pytest.raises(TypeError, match=r"a Tensor cannot be combined with complex values .*\(z.real\)"):
        tk.Tensor([1.0]) * np.array([1j])
