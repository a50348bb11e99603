"""Tensor construction, dtype rules, properties, repr, operators and their error messages."""

import numpy as np
import pytest

import tinygrad_ko as tk


def test_python_numbers_and_lists_become_float64():
    assert tk.Tensor(3).dtype == np.float64
    assert tk.Tensor([[1, 2], [3, 4]]).dtype == np.float64
    assert tk.Tensor(True).dtype == np.float64


def test_ndarrays_keep_their_dtype_and_memory():
    a32 = np.ones(3, dtype=np.float32)
    t = tk.Tensor(a32)
    assert t.dtype == np.float32 and np.shares_memory(t.data, a32)
    assert tk.Tensor(np.arange(3)).dtype == np.arange(3).dtype
    assert tk.Tensor(np.float32(2.0)).dtype == np.float32
    assert tk.Tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_tensor_from_tensor_is_a_new_leaf():
    x = tk.Tensor([1.0], requires_grad=True)
    y = tk.Tensor(x * 2)
    assert y.is_leaf and not y.requires_grad


def test_only_float_tensors_can_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        tk.Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point"):
        tk.Tensor(np.arange(3)).requires_grad_()


def test_properties():
    t = tk.Tensor(np.zeros((2, 3)), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert t.T.shape == (3, 2) and t.is_leaf and t.grad is None
    assert t.numpy() is t.data
    assert tk.Tensor([[7.0]]).item() == 7.0
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert len(t) == 2 and [row.shape for row in t] == [(3,), (3,)]


def test_repr_follows_numpy_with_the_graph_state():
    assert repr(tk.Tensor([[1.0, 2.0]], requires_grad=True)) == "Tensor([[1., 2.]], requires_grad=True)"
    assert repr(tk.Tensor([3.0, 4.0])) == "Tensor([3., 4.])"
    x = tk.Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "Tensor([2., 4.], grad_fn=<Mul>)"
    assert repr(tk.Tensor(np.ones(2, np.float32))) == "Tensor([1., 1.], dtype=float32)"
    assert repr(tk.Tensor(np.eye(2))) == "Tensor([[1., 0.],\n        [0., 1.]])"
    assert repr(tk.Tensor(2.5)) == "Tensor(2.5)"


def test_zero_d_results_are_arrays_not_numpy_scalars():
    x = tk.Tensor(2.0, requires_grad=True)
    y = x * 3.0
    assert type(y.data) is np.ndarray and y.shape == ()
    assert type((tk.Tensor([1.0, 2.0]) @ tk.Tensor([3.0, 4.0])).data) is np.ndarray


def test_operators_with_scalars_and_arrays_on_either_side():
    x = tk.Tensor([1.0, 2.0])
    a = np.array([10.0, 20.0])
    np.testing.assert_array_equal((x + 1).data, [2, 3])
    np.testing.assert_array_equal((1 + x).data, [2, 3])
    np.testing.assert_array_equal((a + x).data, [11, 22])
    np.testing.assert_array_equal((a - x).data, [9, 18])
    np.testing.assert_array_equal((x - a).data, [-9, -18])
    np.testing.assert_array_equal((2 / x).data, [2, 1])
    np.testing.assert_array_equal((a * x).data, [10, 40])
    np.testing.assert_array_equal((-x).data, [-1, -2])
    np.testing.assert_array_equal((x ** 2).data, [1, 4])
    assert isinstance(a + x, tk.Tensor) and isinstance(a @ x, tk.Tensor)
    assert (a @ x).item() == 50.0
    np.testing.assert_array_equal((np.eye(2) @ x).data, [1, 2])


def test_float32_stays_float32_with_python_scalars():
    x = tk.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = ((x * 2.0 + 1) / 3.0 - 0.5) ** 2
    assert y.dtype == np.float32
    assert (1.0 - x).dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_pow_refuses_an_exponent_that_is_not_a_number_or_tensor():
    x = tk.Tensor([1.0, 2.0])
    np.testing.assert_array_equal((x ** x).data, [1.0, 4.0])  # a Tensor exponent works (ops breadth)
    with pytest.raises(TypeError):
        x ** "2"


def test_comparisons_are_plain_elementwise_arrays():
    x = tk.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert isinstance(x == 2.0, np.ndarray)
    np.testing.assert_array_equal(x == 2.0, [False, True, False])
    np.testing.assert_array_equal(x < tk.Tensor([2.0, 2.0, 2.0]), [True, False, False])
    np.testing.assert_array_equal(x >= 2, [False, True, True])
    np.testing.assert_array_equal(x != 1, [False, True, True])
    assert x.argmax() == 2
    np.testing.assert_array_equal(tk.Tensor([[1.0, 5.0], [7.0, 0.0]]).argmax(axis=1), [1, 0])
    assert len({x, x}) == 1  # still hashable, by identity


def test_reshape_and_transpose_call_styles():
    t = tk.Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert t.reshape(6, 4).shape == (6, 4)
    assert t.reshape((4, -1)).shape == (4, 6)
    assert t.reshape(-1).shape == (24,)
    assert t.transpose().shape == (4, 3, 2)
    assert t.transpose(1, 0, 2).shape == (3, 2, 4)
    assert t.transpose((2, 0, 1)).shape == (4, 2, 3)


def test_reductions_take_int_tuple_negative_axes_and_keepdims():
    t = tk.Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert t.sum(axis=-1).shape == (2, 3)
    assert t.sum(axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    np.testing.assert_allclose(t.mean(axis=(0, -1)).data, t.data.mean(axis=(0, 2)))
    np.testing.assert_array_equal(t.max(axis=1).data, t.data.max(axis=1))
    np.testing.assert_array_equal(t.min(axis=0, keepdims=True).data, t.data.min(axis=0, keepdims=True))
    assert t.sum().shape == ()


def test_indexing_with_slices_arrays_masks_and_tensors():
    t = tk.Tensor(np.arange(12.0).reshape(3, 4))
    np.testing.assert_array_equal(t[1].data, [4, 5, 6, 7])
    np.testing.assert_array_equal(t[:, ::-2].data, t.data[:, ::-2])
    np.testing.assert_array_equal(t[[0, 0, 2]].data, t.data[[0, 0, 2]])
    np.testing.assert_array_equal(t[t.data > 5].data, t.data[t.data > 5])
    np.testing.assert_array_equal(t[np.arange(3), tk.Tensor(np.array([0, 1, 2]))].data, [0, 5, 10])
    assert t[..., None].shape == (3, 4, 1)


# --- errors name the op, the shapes and what to do ---


def test_matmul_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned \(4 != 5\)"):
        tk.Tensor(np.ones((3, 4))) @ tk.Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match="matmul.*use \\*"):
        tk.Tensor(2.0) @ tk.Tensor(np.ones(2))


def test_broadcast_error_names_the_op_and_both_shapes():
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        tk.Tensor(np.ones((2, 3))) * tk.Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(2,\)"):
        tk.Tensor(np.ones((2, 3))) + np.ones(2)


def test_reshape_and_axis_errors_name_the_op():
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\)"):
        tk.Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for a tensor with 2 dimensions"):
        tk.Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(ValueError, match="max: cannot take the maximum over an empty axis"):
        tk.Tensor(np.ones((0, 3))).max(axis=0)
