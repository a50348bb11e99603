"""The error catalogue: every mistake a learner makes gets an error that names the op, the shapes and the fix.

Each test asserts the key words of one message. Where another test file already
pins a message, it is listed here (not copied), so that this file reads as the
whole catalogue:

matmul / broadcasting
    - test_tensor.py::test_matmul_error_names_both_shapes
      "matmul: shapes (3, 4) and (5, 2) are not aligned (4 != 5)"; a 0-d operand says "use *"
    - test_tensor.py::test_broadcast_error_names_the_op_and_both_shapes   (mul, add)
    - test_tensor.py::test_reshape_and_axis_errors_name_the_op   (reshape, sum axis, max over an empty axis)
    - test_tensor.py::test_pow_refuses_an_exponent_that_is_not_a_number_or_tensor
backward
    - test_engine.py::test_backward_needs_scalar_or_grad   ("one-element" and the shape; grad of the wrong shape)
    - test_engine.py::test_backward_on_a_constant_says_what_to_do
    - test_engine.py::test_grad_unused_input   (tk.grad: "allow_unused")
dtypes
    - test_tensor.py::test_only_float_tensors_can_require_grad   (int array; requires_grad_() on an int tensor)
state dicts and files
    - test_nn.py::test_load_state_dict_reports_every_problem_at_once_and_changes_nothing
      (missing, unexpected, shape and dtype mismatches listed in one ValueError)
    - test_nn.py::test_load_state_dict_each_mismatch_alone_is_a_value_error
    - test_io.py::test_load_refuses_pickled_objects_without_running_them   (+ its control test)
    - test_io.py::test_non_array_entry_is_refused, ::test_entry_named_npy_that_is_not_an_array_is_refused
    - test_io.py::test_truncated_file_is_refused, ::test_not_a_zip_file_is_refused,
      ::test_crafted_huge_header_is_refused_before_allocating, ::test_load_refuses_non_numeric_dtypes
    - test_io.py::test_save_refuses_bad_entries_and_leaves_the_old_file
    - test_datasets.py::test_idx_wrong_magic, ::test_idx_unknown_type_code, ::test_idx_too_short_for_magic,
      ::test_idx_wrong_ndim, ::test_idx_truncated_data, ::test_idx_gzip_stream_cut_off,
      ::test_idx_truncated_header, ::test_idx_extra_data, ::test_idx_huge_header_is_refused_before_allocating,
      ::test_idx_damaged_gzip, ::test_images_labels_count_mismatch, ::test_images_labels_bad_label_and_dtype
numerical differentiation
    - test_numerical.py::test_numerical_gradient_rejects_non_scalar_f, ::test_numerical_gradient_rejects_integer_arrays,
      ::test_numerical_gradient_rejects_read_only_arrays, ::test_numerical_gradient_rejects_lists,
      ::test_numerical_diff_rejects_unknown_method
    - test_gradcheck.py::test_gradcheck_warns_on_float32_and_checks_in_float64,
      ::test_gradcheck_needs_an_input_that_requires_grad
models, optimizers
    - test_models.py::test_invalid_string_arguments_name_the_choices,
      ::test_twolayernet_params_assignment_copies_in_place_and_checks_shape
    - test_nn.py::test_module_without_forward_says_so
    - test_optim.py (bad params/grads: "in place")

Everything below is what those files do not cover yet.
"""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko import Tensor
from tinygrad_ko.datasets import read_idx, write_idx


def message_of(error_type, fn, *args, **kwargs):
    with pytest.raises(error_type) as info:
        fn(*args, **kwargs)
    return str(info.value)


def assert_words(message, *words):
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"


# --- shapes: matmul and broadcasting ---


@pytest.mark.parametrize("left, right", [
    (lambda a: a, lambda b: b),                   # Tensor @ Tensor is in test_tensor.py; these are the rest:
    (np.asarray, lambda b: b),                    # ndarray @ Tensor (__rmatmul__)
    (lambda a: a, np.asarray),                    # Tensor @ ndarray
])
def test_matmul_misaligned_with_an_ndarray_on_either_side(left, right):
    a, b = left(Tensor(np.ones((3, 4)))), right(Tensor(np.ones((5, 2))))
    message = message_of(ValueError, lambda: a @ b)
    assert "matmul: shapes (3, 4) and (5, 2) are not aligned (4 != 5)" in message


@pytest.mark.parametrize("x_shape, y_shape, k", [((3,), (4,), "3 != 4"), ((2, 3), (4,), "3 != 4"),
                                                  ((3,), (4, 2), "3 != 4"), ((2, 2, 3), (2, 4, 5), "3 != 4")])
def test_matmul_misaligned_1d_and_batched_operands(x_shape, y_shape, k):
    message = message_of(ValueError, lambda: Tensor(np.ones(x_shape)) @ Tensor(np.ones(y_shape)))
    assert_words(message, "matmul", str(x_shape), str(y_shape), "not aligned", k)


def test_matmul_batch_axes_that_do_not_broadcast():
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 4))))
    assert_words(message, "matmul", "(2, 2, 3)", "(3, 3, 4)", "broadcast")


@pytest.mark.parametrize("name, op", [
    ("sub", lambda x, y: x - y),
    ("div", lambda x, y: x / y),
])
@pytest.mark.parametrize("ndarray_side", ["none", "left", "right"])
def test_broadcast_mismatch_names_the_op_and_both_shapes(name, op, ndarray_side):
    # add and mul are in test_tensor.py; here: sub, div, and an ndarray on either side of each.
    x, y = Tensor(np.ones((2, 3))), Tensor(np.ones(4))
    if ndarray_side == "left":
        x = x.data
    elif ndarray_side == "right":
        y = y.data
    message = message_of(ValueError, op, x, y)
    assert message.startswith(f"{name}: shapes (2, 3) and (4,) cannot be broadcast"), message


@pytest.mark.parametrize("op", [lambda x, y: x + y, lambda x, y: x * y])
def test_broadcast_mismatch_with_the_ndarray_on_the_left(op):
    message = message_of(ValueError, op, np.ones(4), Tensor(np.ones((2, 3))))
    assert_words(message, "(4,) and (2, 3)", "cannot be broadcast")


def test_linear_names_its_shapes():
    assert_words(message_of(ValueError, F.linear, np.ones((2, 3)), np.ones((4, 5)), np.zeros(5)),
                 "linear", "(2, 3)", "(4, 5)", "not aligned", "3 != 4")
    assert_words(message_of(ValueError, F.linear, np.ones((2, 3)), np.ones((3, 4)), np.zeros(5)),
                 "linear", "(3, 4)", "(5,)")


# --- axes and indices ---


@pytest.mark.parametrize("name, call", [
    ("mean", lambda x: x.mean(axis=2)),
    ("max", lambda x: x.max(axis=-3)),
    ("min", lambda x: x.min(axis=(0, 5))),        # the op the user called, though min is -max(-x) inside
])
def test_reduction_axis_out_of_range_names_the_op_and_the_axis(name, call):
    message = message_of(ValueError, call, Tensor(np.ones((2, 3))))
    assert message.startswith(f"{name}: axis"), message
    assert_words(message, "out of range", "2 dimensions")


def test_min_over_an_empty_axis_says_minimum():
    # test_tensor.py pins max's message; min must not speak of "the maximum".
    message = message_of(ValueError, lambda: Tensor(np.ones((0, 3))).min(axis=0))
    assert message.startswith("min:"), message
    assert_words(message, "minimum", "empty", "(0, 3)")


@pytest.mark.parametrize("call", [lambda x: x.sum(axis=(0, -2)), lambda x: x.max(axis=(1, 1))])
def test_reduction_with_a_repeated_axis(call):
    assert "repeats an axis" in message_of(ValueError, call, Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("name, fn", [("softmax", F.softmax), ("log_softmax", F.log_softmax)])
def test_softmax_axis_out_of_range_names_the_function_called(name, fn):
    message = message_of(ValueError, fn, np.ones((2, 3)), axis=2)
    assert message.startswith(f"{name}:"), message
    assert_words(message, "axis 2", "(2, 3)")


@pytest.mark.parametrize("axes, words", [((0, 0), ["repeated axis"]), ((0, 2), ["axis 2"]), ((0,), ["axes"])])
def test_transpose_with_a_bad_permutation(axes, words):
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 3))).transpose(*axes))
    assert_words(message, "transpose", "(2, 3)", *words)


@pytest.mark.parametrize("index, words", [
    (5, ["index 5", "axis 0", "size 2"]),
    ((slice(None), 7), ["index 7", "axis 1", "size 3"]),
    (np.array([0, 3]), ["index 3", "axis 0", "size 2"]),
])
def test_index_out_of_bounds_is_an_index_error_naming_getitem(index, words):
    message = message_of(IndexError, lambda: Tensor(np.ones((2, 3)), requires_grad=True)[index])
    assert_words(message, "getitem", "(2, 3)", *words)


# --- backward and tk.grad ---


def test_grad_of_a_non_scalar_without_grad_outputs():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert_words(message_of(ValueError, tk.grad, x * 2, x), "grad", "one-element", "(2, 3)")


def test_grad_outputs_of_the_wrong_shape_name_both_shapes():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    assert_words(message_of(ValueError, tk.grad, x * 2, x, grad_outputs=np.ones(3)),
                 "grad", "(3,)", "(2, 3)")


def test_backward_on_an_empty_tensor_needs_grad():
    x = Tensor(np.zeros((0, 2)), requires_grad=True)
    assert_words(message_of(ValueError, (x * 2).backward), "one-element", "(0, 2)")


def test_grad_outputs_count_must_match_the_outputs():
    x = Tensor(np.ones(2), requires_grad=True)
    assert_words(message_of(ValueError, tk.grad, [x * 2, x * 3], x, grad_outputs=[np.ones(2)]),
                 "2 outputs", "1 grad_outputs")


def test_in_place_update_of_a_tensor_that_requires_grad_says_to_use_no_grad():
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        w -= 0.1
    assert_words(str(info.value), "in-place", "no_grad")
    np.testing.assert_array_equal(w.data, np.ones(3))   # and nothing was changed
    with tk.no_grad():
        w -= 0.5
    np.testing.assert_array_equal(w.data, np.full(3, 0.5))


# --- dtypes ---


@pytest.mark.parametrize("array", [np.array([True, False]), np.array([1 + 2j]), np.array([1, 2], dtype=np.uint8)])
def test_only_floating_point_tensors_can_require_gradients_whatever_the_dtype(array):
    message = message_of(TypeError, Tensor, array, requires_grad=True)
    assert_words(message, "only floating-point tensors can require gradients", str(array.dtype))


def test_integer_dtype_argument_with_requires_grad():
    message = message_of(TypeError, Tensor, [1.5, 2.5], dtype=np.int32, requires_grad=True)
    assert_words(message, "only floating-point tensors can require gradients", "int32")


# --- losses: labels ---


LOSSES = {
    "softmax_cross_entropy": lambda y, t: F.softmax_cross_entropy(y, t),
    "cross_entropy_error": lambda y, t: F.cross_entropy_error(y, t),
    "sum_squared_error": lambda y, t: F.sum_squared_error(y, t),
    "mean_squared_error": lambda y, t: F.mean_squared_error(y, t),
}


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("labels, bad, index", [([0, 4, 1], 4, "(1,)"), ([0, 1, -1], -1, "(2,)"),
                                                ([9, 0, 0], 9, "(0,)")])
def test_label_out_of_range_names_the_label_its_index_and_the_valid_range(name, labels, bad, index):
    y = np.full((3, 4), 0.25)
    message = message_of(ValueError, LOSSES[name], y, np.array(labels))
    assert message.startswith(name + ":"), message
    assert_words(message, f"label {bad} at index {index}", "4 classes", "0 to 3")


@pytest.mark.parametrize("name", LOSSES)
def test_label_out_of_range_in_a_single_sample(name):
    message = message_of(ValueError, LOSSES[name], np.full(4, 0.25), np.array(7))
    assert_words(message, name, "label 7", "0 to 3")


def test_label_out_of_range_in_a_batch_of_sequences_gives_the_full_index():
    message = message_of(ValueError, F.softmax_cross_entropy, np.zeros((2, 3, 4)), np.array([[0, 1, 2], [0, 9, 1]]))
    assert_words(message, "label 9 at index (1, 1)", "0 to 3")


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "cross_entropy_error", "sum_squared_error",
                                  "mean_squared_error"])
def test_integer_labels_of_the_wrong_shape_name_expected_and_got(name):
    message = message_of(ValueError, LOSSES[name], np.full((3, 4), 0.25), np.array([0, 1]))
    assert_words(message, name, "must have shape (3,)", "got (2,)", "one-hot")


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "cross_entropy_error", "sum_squared_error",
                                  "mean_squared_error"])
def test_one_hot_targets_of_the_wrong_shape_name_expected_and_got(name):
    message = message_of(ValueError, LOSSES[name], np.full((3, 4), 0.25), np.zeros((3, 5)))
    assert_words(message, name, "(3, 4)", "got (3, 5)")


def test_float_labels_are_told_to_be_integers():
    message = message_of(ValueError, F.softmax_cross_entropy, np.zeros((3, 4)), np.array([0.0, 1.0, 2.0]))
    assert_words(message, "softmax_cross_entropy", "(3, 4)", "got (3,)", "integer array of shape (3,)")


@pytest.mark.parametrize("targets", [np.array([True, False, True]), np.array(["a", "b", "c"])])
def test_targets_that_are_neither_labels_nor_one_hot(targets):
    message = message_of(TypeError, F.softmax_cross_entropy, np.zeros((3, 4)), targets)
    assert_words(message, "softmax_cross_entropy", "integer labels or float one-hot", str(targets.dtype))


def test_scores_without_a_class_axis():
    message = message_of(ValueError, F.softmax_cross_entropy, np.zeros(()), np.array(0))
    assert_words(message, "softmax_cross_entropy", "0-d")


# --- numerical differentiation ---


def test_gradgradcheck_warns_on_float32_too():
    x = Tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="gradgradcheck.*float32.*float64"):
        assert tk.gradgradcheck(lambda x: x.tanh() * x, x)


def test_numerical_gradient_of_a_tensor_valued_f_that_is_not_scalar():
    x = np.array([1.0, 2.0])
    message = message_of(ValueError, tk.numerical_gradient, lambda x: Tensor(x) * 2, x)
    assert_words(message, "numerical_gradient", "scalar", "(2,)", ".sum()")


def test_numerical_gradient_of_a_read_only_tensor():
    t = Tensor(np.array([1.0, 2.0]))
    t.data.flags.writeable = False
    message = message_of(ValueError, tk.numerical_gradient, lambda x: (x ** 2).sum(), t)
    assert_words(message, "read-only", "copy()")


# --- IDX files not covered by test_datasets.py ---


def test_idx_gzip_file_whose_header_was_cut(tmp_path):
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">I", 5), mtime=0))
    message = message_of(ValueError, read_idx, path)
    assert_words(message, str(path), "truncated header", "3 dimensions")


def test_idx_labels_given_where_images_were_expected(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    write_idx(path, np.array([1, 2, 3], dtype=np.uint8))
    message = message_of(ValueError, read_idx, path, ndim=3)
    assert_words(message, str(path), "says 1, expected 3")


# --- untrusted .npz files not covered by test_io.py ---


class _CreatesFileWhenUnpickled:
    """Unpickling this calls open(path, "w"), which creates the file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_payload_creates_a_file_when_unpickled(tmp_path):
    # The control for the two tests below: this payload is live.
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(_CreatesFileWhenUnpickled(str(marker)))).close()
    assert marker.exists()


def test_load_refuses_a_compressed_npz_with_a_pickled_object_without_running_it(tmp_path):
    marker = tmp_path / "created_by_unpickling"
    payload = np.empty(1, dtype=object)
    payload[0] = _CreatesFileWhenUnpickled(str(marker))
    path = tmp_path / "student.npz"
    np.savez_compressed(path, W1=np.ones(3), W2=payload)   # deflated members, one of them pickled
    message = message_of(ValueError, tk.load, path)
    assert_words(message, str(path), "'W2'", "pickled", "refused")
    assert not marker.exists()


def test_load_refuses_a_plain_pickle_file_named_npz_without_running_it(tmp_path):
    # A student's `pickle.dump(params, open("model.npz", "wb"))`, here with a payload.
    marker = tmp_path / "created_by_unpickling"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"W1": np.ones(3), "evil": _CreatesFileWhenUnpickled(str(marker))}))
    message = message_of(ValueError, tk.load, path)
    assert_words(message, str(path), "not an .npz file")
    assert not marker.exists()


def test_load_of_a_file_cut_inside_the_array_data(tmp_path):
    # test_io.py cuts at fixed fractions; here the cut falls inside the first array's bytes.
    path = tmp_path / "cut.npz"
    tk.save({"W1": np.arange(100.0)}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:raw.index(b"NUMPY") + 200])
    message = message_of(ValueError, tk.load, path)
    assert_words(message, str(path), "truncated")
    assert os.path.exists(path)
