"""tk.detect_anomaly(): the first op that makes a NaN or an Inf raises, naming itself and the user's line.

Like PyTorch's ``torch.autograd.detect_anomaly``, but it checks the forward pass
too. The error is a ``FloatingPointError`` that names the op, its input shapes,
the pass ("forward" or "backward") and the line of user code that created the
op. An op whose input already held the NaN (from the data, or from an op run
before detection was on) is not blamed: the op that made it is. Detection is
thread-local, nests, and restores the previous state on exit, also after an
exception. Without it, NaN flows through silently, as in NumPy.
"""

import inspect
import os
import threading
import warnings

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F
from tinygrad_ko import Tensor

HERE = os.path.basename(__file__)


def next_line():
    """The number of the caller's next line: the line that creates the op under test."""
    return inspect.currentframe().f_back.f_lineno + 1


def assert_names_line(message, line):
    assert f"{HERE}:{line}" in message, f"expected {HERE}:{line} in {message!r}"


def is_detecting():
    """Whether detection is on in this thread, seen only through the public behaviour."""
    try:
        with np.errstate(all="ignore"):
            Tensor([0.0]).log()
    except FloatingPointError:
        return True
    return False


# --- forward ---


def test_log_of_zero_in_forward_names_op_pass_shapes_and_the_line():
    x = Tensor(np.array([[0.0, 1.0, 2.0]]), requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            line = next_line()
            x.log()
    message = str(info.value)
    for word in ("log", "forward", "(1, 3)", "-inf"):
        assert word in message, f"{word!r} missing from {message!r}"
    assert "backward" not in message
    assert_names_line(message, line)


def test_binary_op_names_both_input_shapes():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            line = next_line()
            x / np.zeros(3)
    message = str(info.value)
    for word in ("div", "forward", "(2, 3)", "(3,)", "inf"):
        assert word in message, f"{word!r} missing from {message!r}"
    assert_names_line(message, line)


def test_overflow_to_inf_is_an_anomaly_too():
    x = Tensor([1e200, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError, match=r"mul produced inf in forward") as info:
        with tk.detect_anomaly():
            line = next_line()
            x * x
    assert_names_line(str(info.value), line)


def test_an_op_made_inside_the_package_points_at_the_users_line():
    # The Pow that overflows is created in functional.py; the line reported is the caller's.
    y = Tensor([1e200, 0.5], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            line = next_line()
            F.mean_squared_error(y, np.zeros(2))
    message = str(info.value)
    assert "pow" in message and "forward" in message
    assert_names_line(message, line)
    assert "functional.py" not in message


def test_a_python_number_that_overflows_float32_is_the_ops_anomaly():
    # x + 1e300 on float32 is inf; the user passed only finite numbers, so add made the inf.
    x = Tensor(np.array([0.0, 1.0], dtype=np.float32), requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            line = next_line()
            x + 1e300
    assert str(info.value).startswith("add produced inf in forward")
    assert_names_line(str(info.value), line)


def test_anomaly_works_under_no_grad_too():
    with pytest.raises(FloatingPointError, match="sqrt produced nan in forward"):
        with tk.no_grad(), tk.detect_anomaly():
            Tensor([-1.0]).sqrt()


def test_clean_forward_raises_nothing_and_gives_numpys_values():
    x = Tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
    with tk.detect_anomaly():
        y = F.softmax(x.log() * 3 + x.sqrt(), axis=0)
    with np.errstate(all="raise"):
        expected = np.exp(3 * np.log(x.data) + np.sqrt(x.data))
    np.testing.assert_allclose(y.data, expected / expected.sum(), rtol=1e-12)


# --- backward ---


def test_sqrt_at_zero_in_backward_names_op_pass_shapes_and_the_line():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            line = next_line()
            y = x.sqrt().sum()
            y.backward()
    message = str(info.value)
    for word in ("sqrt", "backward", "(2,)", "inf"):
        assert word in message, f"{word!r} missing from {message!r}"
    assert "forward" not in message
    assert_names_line(message, line)


def test_backward_of_an_op_created_before_detection_says_so():
    x = Tensor([0.0, 1.0], requires_grad=True)
    y = x.sqrt().sum()
    with pytest.raises(FloatingPointError, match="sqrt produced inf in backward") as info:
        with tk.detect_anomaly():
            y.backward()
    assert "before detect_anomaly" in str(info.value)


def test_ops_run_by_a_create_graph_backward_are_checked_as_the_gradient_of_their_op():
    # The Div inside Sqrt.backward makes the inf; the error blames sqrt's backward,
    # not a "div in forward" that the user never wrote.
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            line = next_line()
            y = x.sqrt().sum()
            y.backward(create_graph=True)
    message = str(info.value)
    assert message.startswith("sqrt") and "backward" in message
    assert_names_line(message, line)


def test_pow_with_a_fractional_exponent_at_zero_fails_in_backward_only():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with tk.detect_anomaly():
        y = (x ** 0.5).sum()                      # forward: [0, 2], finite
        with pytest.raises(FloatingPointError, match=r"pow produced inf in backward.*\(2,\)"):
            y.backward()


def test_clean_backward_raises_nothing_and_gives_the_gradient():
    x = Tensor([1.0, 4.0], requires_grad=True)
    with tk.detect_anomaly():
        (x.sqrt() * x.log()).sum().backward()
    expected = np.log(x.data) / (2 * np.sqrt(x.data)) + np.sqrt(x.data) / x.data
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


# --- blame: the first op, never one that was only fed the NaN ---


def test_an_op_fed_nan_from_the_data_is_not_blamed_in_forward():
    x = Tensor([np.nan, 1.0, np.inf], requires_grad=True)
    with tk.detect_anomaly():
        y = ((x * 2).exp() - x).sigmoid().sum()   # nan and inf flow from x: no op made them
    assert np.isnan(y.item())


def test_an_op_fed_nan_made_before_detection_is_not_blamed_but_a_new_one_is():
    with np.errstate(divide="ignore"):
        y = Tensor([0.0, 1.0], requires_grad=True).log()      # -inf, made while detection was off
    with tk.detect_anomaly():
        z = (y * 0.0).exp()                                    # -inf * 0 = nan: fed by y, not blamed
        assert np.isnan(z.data[0])
        w = Tensor([2.0, 3.0], requires_grad=True)
        with pytest.raises(FloatingPointError, match="^log produced -inf in forward"):
            (w - 2.0).log()                                    # the first op to make one is named


def test_the_first_op_in_a_chain_is_named_not_the_ones_after_it():
    # log(0) = -inf would make the later mul give nan and the exp give 0; only log is named.
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            ((x * 1.0).log() * 0.0).exp()
    assert str(info.value).startswith("log produced -inf in forward")


def test_the_first_backward_op_is_named_not_the_ones_its_gradient_flows_into():
    # Backward visits sum, sqrt (makes inf), then mul and exp would only pass the inf on.
    x = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            ((x * 1.0).sqrt().exp()).sum().backward()
    assert str(info.value).startswith("sqrt produced inf in backward")


def test_a_nan_upstream_gradient_from_the_user_blames_no_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tk.detect_anomaly():
        (x * 2.0).exp().backward(np.array([np.nan, 1.0]))
    assert np.isnan(x.grad.data[0]) and np.isfinite(x.grad.data[1])


def test_backward_of_an_op_whose_input_already_held_nan_is_not_blamed():
    # Consistency with the forward rule above: forward let the NaN in x through without
    # blaming mul, so backward must not blame mul for the NaN in x * grad either.
    x = Tensor([np.nan, 2.0], requires_grad=True)
    with tk.detect_anomaly():
        y = (x * x).sum()
        y.backward()
    assert np.isnan(x.grad.data[0]) and x.grad.data[1] == 4.0


# --- switching it on and off ---


def test_without_detection_nan_flows_silently_like_numpy():
    x = Tensor([np.nan, 1.0, -2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # NumPy itself does not warn about NaN inputs
        y = (x.exp() * x).tanh().sigmoid() + x.relu() + F.softmax(x) + x.max()
        y.sum().backward()
    assert np.isnan(y.data).all()                     # x.max() and softmax spread the NaN to every entry
    assert np.isnan(x.grad.data[0])
    with np.errstate(all="ignore"):
        assert np.isnan(Tensor([np.nan]).log().data[0])
        assert np.isneginf(Tensor([0.0]).log().data[0])   # log(0) = -inf, as np.log


def test_detection_restores_the_previous_state_after_an_exception():
    errstate_before = np.geterr()
    with pytest.raises(FloatingPointError):
        with tk.detect_anomaly():
            Tensor([0.0]).log()
    assert not is_detecting()
    assert np.geterr() == errstate_before
    with pytest.raises(KeyError):
        with tk.detect_anomaly():
            raise KeyError("not an anomaly")
    assert not is_detecting()
    assert np.geterr() == errstate_before


def test_detection_nests_and_the_inner_exit_leaves_the_outer_on():
    with tk.detect_anomaly():
        with pytest.raises(FloatingPointError):
            with tk.detect_anomaly():
                Tensor([0.0]).log()
        assert is_detecting()                       # the outer block is still active
        with tk.detect_anomaly():
            pass
        assert is_detecting()
    assert not is_detecting()


def test_detection_in_one_thread_does_not_affect_another():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def detecting_thread():
        try:
            with tk.detect_anomaly():
                entered.set()
                checked.wait(10)
                try:
                    Tensor([0.0]).log()
                    seen["worker"] = "no error"
                except FloatingPointError as error:
                    seen["worker"] = str(error)
        finally:
            entered.set()

    thread = threading.Thread(target=detecting_thread)
    thread.start()
    try:
        assert entered.wait(10)
        with np.errstate(divide="ignore"):
            y = Tensor([0.0, 1.0], requires_grad=True).log()    # this thread is not detecting
        seen["main"] = y.data.tolist()
    finally:
        checked.set()
        thread.join(10)
    assert seen["main"] == [-np.inf, 0.0]
    assert seen["worker"].startswith("log produced -inf in forward")
    assert not is_detecting()


def test_detection_in_the_main_thread_does_not_reach_a_new_thread():
    seen = {}

    def worker():
        with np.errstate(divide="ignore"):
            seen["value"] = Tensor([0.0]).log().data[0]
        seen["detecting"] = is_detecting()

    with tk.detect_anomaly():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(10)
        assert is_detecting()
    assert seen == {"value": -np.inf, "detecting": False}


def test_user_code_in_a_folder_beside_the_package_is_still_user_code():
    # A learner's folder next to the package, e.g. <repo>/tinygrad_ko_notebooks/, shares the
    # package folder's name as a prefix; its lines are user code, not package internals.
    folder = os.path.dirname(os.path.abspath(tk.__file__)) + "_notebooks"
    filename = os.path.join(folder, "lesson.py")
    code = compile("x.log()\n", filename, "exec")
    with pytest.raises(FloatingPointError) as info:
        with tk.detect_anomaly():
            exec(code, {"x": Tensor([0.0, 1.0])})
    assert f"{filename}:1" in str(info.value)
