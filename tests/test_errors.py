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
import warnings

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


# --- sizes: a layer size, a class count, a channel count is a positive int (issue 15, point 7) ---


SIZE_REFUSALS = [
    # (what is made, error, words the message must hold)
    (lambda: tk.TwoLayerNet(784, 0, 10), ValueError, ["TwoLayerNet", "hidden_size", "positive int", "got 0"]),
    (lambda: tk.TwoLayerNet(784, 10, 0), ValueError, ["TwoLayerNet", "output_size", "number of classes", "got 0"]),
    (lambda: tk.TwoLayerNet(784, -5, 10), ValueError, ["TwoLayerNet", "hidden_size", "got -5"]),
    (lambda: tk.TwoLayerNet(0, 5, 10), ValueError, ["TwoLayerNet", "input_size", "got 0"]),
    (lambda: tk.TwoLayerNet(784, 2.5, 10), TypeError, ["TwoLayerNet", "hidden_size", "2.5 (float)", "such as 2"]),
    (lambda: tk.TwoLayerNet(784, 50.0, 10), TypeError, ["TwoLayerNet", "hidden_size", "50.0 (float)", "pass 50"]),
    (lambda: tk.TwoLayerNet(784, "50", 10), TypeError, ["TwoLayerNet", "hidden_size", "'50' (str)", "pass 50"]),
    (lambda: tk.TwoLayerNet(True, 5, 10), TypeError, ["TwoLayerNet", "input_size", "True (bool)"]),
    (lambda: tk.MultiLayerNet(784, [0], 10), ValueError, ["MultiLayerNet", "hidden_size_list[0]", "got 0"]),
    (lambda: tk.MultiLayerNet(784, [50, -1], 10), ValueError, ["MultiLayerNet", "hidden_size_list[1]", "got -1"]),
    (lambda: tk.MultiLayerNet(784, [50], 0), ValueError, ["MultiLayerNet", "output_size", "got 0"]),
    (lambda: tk.MultiLayerNet(784, 50, 10), TypeError, ["MultiLayerNet", "hidden_size_list", "list", "[50]"]),
    (lambda: tk.MultiLayerNetExtend(784, [0], 10), ValueError, ["MultiLayerNetExtend", "hidden_size_list[0]"]),
    (lambda: tk.nn.Linear(0, 3), ValueError, ["Linear", "in_features", "positive int", "got 0"]),
    (lambda: tk.nn.Linear(3, -1), ValueError, ["Linear", "out_features", "got -1"]),
    (lambda: tk.nn.Linear(3, 2.0), TypeError, ["Linear", "out_features", "2.0 (float)", "pass 2"]),
    (lambda: tk.nn.BatchNorm1d(0), ValueError, ["BatchNorm1d", "num_features", "got 0"]),
    (lambda: tk.nn.BatchNorm2d(-1), ValueError, ["BatchNorm2d", "num_features", "got -1"]),
    (lambda: tk.nn.Conv2d(1, 0, 3), ValueError, ["Conv2d: out_channels must be a positive int, got 0"]),
    (lambda: tk.SimpleConvNet(output_size=0), ValueError, ["SimpleConvNet", "output_size", "got 0"]),
    (lambda: tk.SimpleConvNet(hidden_size=0), ValueError, ["SimpleConvNet", "hidden_size", "got 0"]),
    (lambda: tk.SimpleConvNet(conv_param={"filter_num": 0, "filter_size": 5, "pad": 0, "stride": 1}), ValueError,
     ["SimpleConvNet", "conv_param['filter_num']", "got 0"]),
    (lambda: tk.SimpleConvNet(conv_param={"filter_num": 3, "filter_size": 5, "pad": 0, "stride": 0}), ValueError,
     ["SimpleConvNet", "conv_param['stride']", "got 0"]),
    (lambda: tk.SimpleConvNet(conv_param={"filter_num": 3, "filter_size": 5, "pad": -1, "stride": 1}), ValueError,
     ["SimpleConvNet", "conv_param['pad']", "non-negative", "got -1"]),
    (lambda: tk.SimpleConvNet(conv_param={"filter_num": 3, "filter_size": 2.5, "pad": 0, "stride": 1}), TypeError,
     ["SimpleConvNet", "conv_param['filter_size']", "2.5 (float)"]),
    (lambda: tk.SimpleConvNet(conv_param={"filter_nums": 3}), ValueError,
     ["SimpleConvNet", "conv_param", "unknown 'filter_nums'"]),
    (lambda: tk.SimpleConvNet(input_dim=(28, 28)), ValueError, ["SimpleConvNet", "input_dim", "(1, 28, 28)"]),
    (lambda: tk.SimpleConvNet(input_dim=(0, 28, 28)), ValueError, ["SimpleConvNet", "input_dim[0]", "got 0"]),
    (lambda: tk.DeepConvNet(hidden_size=0), ValueError, ["DeepConvNet", "hidden_size", "got 0"]),
    (lambda: tk.DeepConvNet(output_size=0), ValueError, ["DeepConvNet", "output_size", "got 0"]),
    (lambda: tk.DeepConvNet(conv_param_1={"filter_num": 4}), ValueError,
     ["DeepConvNet", "conv_param_1", "missing 'filter_size', 'pad', 'stride'"]),
]


@pytest.mark.parametrize("make, error, words", SIZE_REFUSALS)
def test_a_size_that_is_not_a_positive_int_names_the_class_the_argument_and_the_value(make, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no divide-by-zero warning on the way to the error
        message = message_of(error, make)
    assert_words(message, *words)


def test_sizes_given_as_numpy_integers_are_fine():
    net = tk.TwoLayerNet(np.int64(4), np.int32(3), np.int64(2))
    assert {k: v.shape for k, v in net.params.items()} == {"W1": (4, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
    assert tk.nn.Linear(np.int64(3), np.uint8(2)).weight.shape == (2, 3)
    assert tk.MultiLayerNet(4, np.array([3, 2]), 2).params["W2"].shape == (3, 2)
    assert tk.nn.BatchNorm1d(np.int16(3)).weight.shape == (3,)


@pytest.mark.parametrize("make, words", [
    (lambda: tk.TwoLayerNet(4, 3, 2, weight_init_std=float("nan")), ["weight_init_std", "finite", "nan"]),
    (lambda: tk.nn.BatchNorm1d(3, eps=0), ["BatchNorm1d", "eps", "finite positive", "got 0", "1e-05"]),
    (lambda: tk.nn.BatchNorm2d(3, eps=-1e-5), ["BatchNorm2d", "eps", "got -1e-05"]),
    (lambda: tk.nn.BatchNorm1d(3, momentum=2), ["BatchNorm1d", "momentum", "[0, 1]", "got 2"]),
    (lambda: F.batch_norm(np.ones((2, 3)), None, None, eps=-1), ["batch_norm", "eps", ">= 0", "got -1"]),
    (lambda: F.batch_norm(np.ones((2, 3)), None, None, momentum=1.5), ["batch_norm", "momentum", "got 1.5"]),
])
def test_other_layer_settings_out_of_range(make, words):
    assert_words(message_of(ValueError, make), *words)


def test_batch_norm_with_momentum_none_and_no_running_statistics_works():
    # momentum=None (a plain average) has nothing to average when no statistics are tracked.
    bn = tk.nn.BatchNorm1d(3, momentum=None, track_running_stats=False)
    y = bn(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(y.numpy(), [[-1, -1, -1], [1, 1, 1]], atol=1e-4)


@pytest.mark.parametrize("make, error, words", [
    (lambda: tk.TwoLayerNet(4, 3, 2).accuracy(np.ones((2, 4)), np.array([0, 1]), batch_size=0),
     ValueError, ["accuracy", "batch_size", "got 0"]),
    (lambda: tk.eye(-1), ValueError, ["eye", "n", "got -1"]),
    (lambda: tk.eye(2.5), TypeError, ["eye", "n", "2.5 (float)"]),
    (lambda: tk.arange(0, 3, 0), ValueError, ["arange", "step must not be 0"]),
    (lambda: tk.gradient_descent(lambda x: (x ** 2).sum(), np.ones(2), lr=float("nan")), ValueError,
     ["gradient_descent", "lr", "nan"]),
    (lambda: tk.gradient_descent(lambda x: (x ** 2).sum(), np.ones(2), step_num=-1), ValueError,
     ["gradient_descent", "step_num", "-1"]),
])
def test_counts_and_steps_that_cannot_work(make, error, words):
    assert_words(message_of(error, make), *words)


def test_trainer_batch_size_zero_is_refused_by_name(tmp_path):
    (x, t), _ = tk.datasets.load_mnist(sample=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        message = message_of(ValueError, tk.Trainer, tk.TwoLayerNet(784, 3, 10), x, t, x, t, epochs=1,
                             mini_batch_size=0, verbose=False)
    assert_words(message, "Trainer", "mini_batch_size", "got 0")


# --- the step of a numerical derivative: a finite positive number ---


@pytest.mark.parametrize("name, call, step, value", [
    ("numerical_gradient", lambda h: tk.numerical_gradient(lambda x: (x ** 2).sum(), np.ones(2), h=h), "h", 0),
    ("numerical_gradient", lambda h: tk.numerical_gradient(lambda x: (x ** 2).sum(), np.ones(2), h=h), "h", -1e-4),
    ("numerical_diff", lambda h: tk.numerical_diff(lambda x: x ** 2, 1.0, h=h), "h", -1),
    ("numerical_diff", lambda h: tk.numerical_diff(lambda x: x ** 2, 1.0, h=h), "h", float("nan")),
    ("numerical_diff", lambda h: tk.numerical_diff(lambda x: x ** 2, 1.0, h=h), "h", float("inf")),
    ("gradcheck", lambda e: tk.gradcheck(lambda t: t * t, Tensor(np.ones(2), requires_grad=True), eps=e), "eps", 0),
    ("gradgradcheck", lambda e: tk.gradgradcheck(lambda t: t ** 3, Tensor(np.ones(2), requires_grad=True), eps=e),
     "eps", -1e-6),
])
def test_a_step_that_is_not_a_finite_positive_number_is_refused(name, call, step, value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # and no divide-by-zero warning before it
        message = message_of(ValueError, call, value)
    assert message.startswith(f"{name}: {step} must be a finite positive number, got {value!r}"), message
    assert "usual value" in message


def test_a_step_that_is_not_a_number_is_a_type_error():
    message = message_of(TypeError, tk.numerical_diff, lambda x: x ** 2, 1.0, h="1e-4")
    assert_words(message, "numerical_diff", "h", "'1e-4' (str)")


# --- an axis is an int (or a tuple of ints): never a string or a float ---


AXIS_OPS = {
    "sum": lambda x, a: x.sum(axis=a), "mean": lambda x, a: x.mean(axis=a), "max": lambda x, a: x.max(axis=a),
    "min": lambda x, a: x.min(axis=a), "var": lambda x, a: x.var(axis=a), "std": lambda x, a: x.std(axis=a),
    "prod": lambda x, a: x.prod(axis=a), "logsumexp": lambda x, a: x.logsumexp(axis=a),
    "cumsum": lambda x, a: x.cumsum(axis=a), "argmax": lambda x, a: x.argmax(axis=a),
    "argmin": lambda x, a: x.argmin(axis=a), "softmax": lambda x, a: F.softmax(x, axis=a),
    "log_softmax": lambda x, a: F.log_softmax(x, axis=a), "concatenate": lambda x, a: tk.concatenate([x, x], axis=a),
    "split": lambda x, a: tk.split(x, 1, axis=a), "swapaxes": lambda x, a: x.swapaxes(a, 0),
    "squeeze": lambda x, a: x.squeeze(axis=a), "unsqueeze": lambda x, a: x.unsqueeze(a),
    "expand_dims": lambda x, a: x.expand_dims(a), "stack": lambda x, a: tk.stack([x, x], axis=a),
    "np.sum": lambda x, a: np.sum(x, axis=a),
}


@pytest.mark.parametrize("name", AXIS_OPS)
@pytest.mark.parametrize("axis, shown", [("1", "'1' (str)"), (1.0, "1.0 (float)")])
def test_an_axis_that_is_not_an_int_names_the_op_the_axis_and_the_shape(name, axis, shown):
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    message = message_of(TypeError, AXIS_OPS[name], x, axis)
    op = "sum" if name == "np.sum" else name
    assert message.startswith(f"{op}: axis must be an int"), message
    assert_words(message, f"got {shown}", "shape (2, 3)", "use axis=1")
    assert "out of range" not in message and "interpreted" not in message and "iterable" not in message


def test_an_axis_tuple_with_a_string_names_the_entry_and_a_bool_is_not_an_axis():
    x = Tensor(np.ones((2, 3)))
    assert_words(message_of(TypeError, x.sum, axis=(0, "1")), "sum", "(0, '1')", "'1' (str)", "axis=(0, 1)")
    assert_words(message_of(TypeError, x.max, axis=True), "max", "True (bool)", "from -2 to 1")


def test_softmax_axis_out_of_range_speaks_of_the_tensor_not_numpy():
    message = message_of(ValueError, F.softmax, np.ones((2, 3)), axis=5)
    assert_words(message, "softmax: axis 5 is out of range", "(2, 3)", "from -2 to 1")
    assert "out of bounds" not in message and "array of dimension" not in message


@pytest.mark.parametrize("call, error, words", [
    (lambda x: x.reshape(3.0, 2), TypeError, ["reshape", "(3.0, 2)", "(2, 3)", "use (3, 2)"]),
    (lambda x: x.reshape(4, 4), ValueError, ["reshape", "(2, 3)", "6 elements", "(4, 4)", "multiply to 6"]),
    (lambda x: x.transpose("1", 0), TypeError, ["transpose", "('1', 0)", "(2, 3)", "use (1, 0)"]),
    (lambda x: x.broadcast_to(-1, 3), ValueError, ["broadcast_to", "(-1, 3)", "non-negative", "(2, 3)"]),
    (lambda x: x.broadcast_to(2.0, 3), TypeError, ["broadcast_to", "(2.0, 3)", "use (2, 3)"]),
    (lambda x: x.repeat(-1, 1), ValueError, ["repeat:", "(-1, 1)", "non-negative", "(2, 3)"]),
    (lambda x: tk.split(x, 1.5, axis=1), TypeError, ["split", "1.5", "(2, 3)"]),
])
def test_shapes_and_counts_of_the_wrong_kind_name_the_op_and_the_shape(call, error, words):
    message = message_of(error, call, Tensor(np.ones((2, 3))))
    assert_words(message, *words)
    assert "interpreted as an integer" not in message and "broadcast shape must be" not in message


# --- dtypes: complex values and foreign byte orders ---


def test_a_complex_array_is_refused_like_a_complex_number():
    message = message_of(TypeError, Tensor, np.ones(2) * 1j)
    assert_words(message, "Tensor", "complex values", "complex128", "x.real", "np.abs(x)")
    for make in (lambda: Tensor(np.ones(2)) + np.ones(2) * 1j, lambda: np.ones(2) * 1j * Tensor(np.ones(2)),
                 lambda: Tensor(np.ones(2)).astype(complex), lambda: tk.zeros(2, dtype=complex)):
        assert "real part" in message_of(TypeError, make)


@pytest.mark.parametrize("dtype, kind", [(">f8", "f"), (">f4", "f"), (">i4", "i"), (">u2", "u"), (">i8", "i")])
def test_a_big_endian_array_becomes_native_with_equal_values(dtype, kind):
    data = np.arange(6, dtype=dtype).reshape(2, 3)
    t = Tensor(data)
    assert t.dtype.isnative and t.dtype == data.dtype.newbyteorder("=") and t.dtype.kind == kind
    np.testing.assert_array_equal(t.numpy(), data)
    assert (t * 2).dtype == t.dtype
    if kind == "f":
        w = Tensor(data, requires_grad=True)
        (w * w).sum().backward()
        np.testing.assert_array_equal(w.grad.numpy(), 2 * data)
        assert Tensor(np.ones(2)).astype(dtype).dtype.isnative


@pytest.mark.parametrize("data, shown", [
    (np.arange(3, dtype=">c16"), "dtype >c16"),
    (np.array(["ab"], dtype=">U3"), "dtype >U3"),
    (np.array([1, None], dtype=object), "dtype object"),
])
def test_a_big_endian_or_non_numeric_array_tinygrad_cannot_hold_names_its_dtype(data, shown):
    message = message_of(TypeError, Tensor, data)
    assert_words(message, "Tensor: cannot hold", shown)
    assert "real part" in message or "convert" in message


# --- losses with no classes ---


@pytest.mark.parametrize("name, call, words", [
    ("softmax_cross_entropy", lambda: F.softmax_cross_entropy(np.zeros((2, 0)), np.array([0, 0])),
     ["logits of shape (2, 0) have no classes", "the last axis must hold one score per class"]),
    ("softmax_cross_entropy", lambda: F.softmax_cross_entropy(np.zeros((2, 0)), np.zeros((2, 0))),
     ["logits of shape (2, 0) have no classes"]),
    ("cross_entropy_error", lambda: F.cross_entropy_error(np.zeros((2, 0)), np.array([0, 0])),
     ["(2, 0) have no classes"]),
    ("cross_entropy_error", lambda: F.cross_entropy_error(np.zeros((2, 0)), np.zeros((2, 0))),
     ["(2, 0) have no classes"]),
    ("cross_entropy", lambda: F.cross_entropy(np.zeros((2, 0)), np.array([0, 0])),
     ["logits of shape (2, 0) have no classes", "axis 1"]),
    ("nll_loss", lambda: F.nll_loss(np.zeros((2, 0)), np.array([0, 0])), ["(2, 0) have no classes"]),
])
def test_scores_with_no_classes_say_so(name, call, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # no "divide by zero encountered in log" first
        message = message_of(ValueError, call)
    assert message.startswith(name + ":"), message
    assert_words(message, *words)
    assert "0 to -1" not in message


def test_targets_that_are_not_numbers_are_refused_by_the_loss():
    message = message_of(TypeError, F.cross_entropy, np.zeros((2, 3)), np.array(["a", "b"]))
    assert_words(message, "cross_entropy", "targets", "<U1")
