"""Numerical differentiation (the book's chapter 4) and gradient checks against it.

``numerical_diff``, ``numerical_gradient`` and ``gradient_descent`` reproduce
the book's functions and numbers; ``gradcheck`` and ``gradgradcheck`` compare
every entry of the Jacobian from backprop with central differences, as
PyTorch's checks of the same names do.
"""

import warnings

import numpy as np

from ._checks import is_int, positive_number
from .autograd import enable_grad, grad
from .tensor import Tensor


def _value(v):
    """The ndarray (or number) inside a Tensor."""
    return v.data if isinstance(v, Tensor) else v


def _scalar(value, where):
    """f's result as a float; a clear error unless it holds exactly one element."""
    array = np.asarray(_value(value))
    if array.size != 1:
        raise ValueError(
            f"{where}: f must return a scalar (a float, or a one-element array or Tensor), "
            f"got an array of shape {array.shape}; reduce it first, e.g. with .sum()")
    return array.reshape(()).item()


def numerical_diff(f, x, h=1e-4, method="central"):
    """The derivative of ``f`` at ``x`` by finite differences (the book's 4.3.1).

    method="central": (f(x+h) - f(x-h)) / 2h, error O(h**2) (the book's final version).
    method="forward": (f(x+h) - f(x)) / h, error O(h) (the book's first version).
    Warns (once per call) when x or f's result is float16 or float32: there the
    rounding error eps / h swamps the result (about 1e-3 relative for float32
    with h = 1e-4).

    >>> numerical_diff(lambda x: 0.01 * x**2 + 0.1 * x, 5)
    0.1999999999990898
    """
    h = positive_number(h, "h", "numerical_diff", usual=1e-4)
    if method == "central":
        first, second = _value(f(x + h)), _value(f(x - h))
    elif method == "forward":
        first, second = _value(f(x + h)), _value(f(x))
    else:
        raise ValueError(f"numerical_diff: method must be 'central' or 'forward', got {method!r}")
    _warn_if_low_precision_diff(x, (first, second), h)
    result = (first - second) / (h if method == "forward" else 2 * h)
    return float(result) if np.ndim(result) == 0 else result


# --- precision: central differences need float64 ---


def _float_dtype(value):
    """The floating dtype of an array, NumPy scalar or Tensor; None for Python numbers and the rest."""
    dtype = getattr(_value(value), "dtype", None)
    return dtype if dtype is not None and dtype.kind == "f" else None


def _is_low_precision(dtype):
    return dtype is not None and dtype.kind == "f" and dtype.itemsize < 8


def _difference_error(dtype, h):
    """The rough relative error of a central difference with step h in dtype: rounding eps/h + truncation h**2."""
    return float(np.finfo(dtype).eps) / h + h * h


def _warn_low_precision(where, what, dtype, h, step_name, advice, stacklevel=3):
    """One UserWarning: central differences in ``dtype`` are off by orders of magnitude; says by how much.

    ``stacklevel`` counts from this function: 3 points at the caller of a public function that calls it.
    """
    dtype = np.dtype(dtype)
    warnings.warn(
        f"{where}: {what}; in {dtype}, central differences with {step_name}={h:g} are off by about "
        f"{_difference_error(dtype, h):.0e} relative (machine epsilon {np.finfo(dtype).eps:.1e} / {step_name} "
        f"+ {step_name}**2; about {_difference_error(np.float64, h):.0e} in float64). {advice}",
        UserWarning, stacklevel=stacklevel)


def _warn_if_low_precision_diff(x, results, h):
    x_dtype = _float_dtype(x)
    if _is_low_precision(x_dtype):
        what, dtype = f"x has dtype {x_dtype}", x_dtype
    else:
        dtype = next((d for d in map(_float_dtype, results) if _is_low_precision(d)), None)
        if dtype is None:
            return
        what = f"f returns dtype {dtype}"
    _warn_low_precision("numerical_diff", what, dtype, h, "h",
                        "Pass x as a Python or float64 number and compute f in float64 for an accurate derivative.",
                        stacklevel=4)


def _warn_if_low_precision_inputs(where, named_tensors, step):
    """One warning for all the float16/float32 tensors that gradcheck checks on float64 copies."""
    low = [(name, t.dtype) for name, t in named_tensors if _is_low_precision(_float_dtype(t))]
    if not low:
        return
    dtypes = sorted({str(d) for _, d in low})
    names = ", ".join(name for name, _ in low)
    worst = max((d for _, d in low), key=lambda d: np.finfo(d).eps)
    _warn_low_precision(
        where, f"{names} {'has' if len(low) == 1 else 'have'} dtype {' and '.join(dtypes)}", worst, step,
        "eps", "So float64 copies are checked; pass float64 inputs to check exactly what you pass.",
        stacklevel=4)


def _check_perturbable(x, where):
    if isinstance(x, Tensor):
        x = x.data
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{where}: x must be a NumPy array, because it is perturbed in place; "
            f"got {type(x).__name__}. Pass np.array(x, dtype=np.float64)")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{where}: x has dtype {x.dtype}, and x + h would be rounded back to an integer; "
            f"pass a float array, e.g. x.astype(np.float64)")
    if not x.flags.writeable:
        raise ValueError(
            f"{where}: x is read-only, but it is perturbed in place (and restored); "
            f"pass a writable array, e.g. x.copy()")
    return x


def numerical_gradient(f, x, h=1e-4):
    """The gradient of the scalar function ``f`` at ``x`` by central differences (the book's 4.4).

    x: a float ndarray of any shape (or a Tensor, whose ``.data`` is used).
    Each element is perturbed in place, so ``f`` may ignore its argument and
    read the same array, as in the book's
    ``numerical_gradient(lambda W: net.loss(x, t), net.W)``. Every element is
    restored exactly, also when ``f`` raises (Ctrl-C included).
    Returns an ndarray of x's shape: 2 evaluations of ``f`` per element.
    Warns (once per call) when x is float16 or float32: there central
    differences are off by orders of magnitude (about 1e-3 relative for
    float32 with h = 1e-4, against 1e-8 in float64).

    >>> numerical_gradient(lambda x: x[0]**2 + x[1]**2, np.array([3.0, 4.0]))
    array([6., 8.])
    """
    x = _check_perturbable(x, "numerical_gradient")
    h = positive_number(h, "h", "numerical_gradient", usual=1e-4)
    if _is_low_precision(x.dtype):
        _warn_low_precision(
            "numerical_gradient", f"x has dtype {x.dtype}", x.dtype, h, "h",
            "Use float64 for an accurate gradient: x.astype(np.float64) if f reads its argument, "
            "float64 parameters (e.g. a net made with dtype=np.float64) if f reads them itself.")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = float(original) + h
            f_plus = _scalar(f(x), "numerical_gradient")
            x[index] = float(original) - h
            f_minus = _scalar(f(x), "numerical_gradient")
        finally:
            x[index] = original  # bitwise the value it had, whatever happened
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100, return_history=False):
    """Minimise ``f`` by ``step_num`` steps of x -= lr * numerical_gradient(f, x) (the book's 4.4.1).

    Works on a float64 copy: ``init_x`` is never modified. Returns x, or
    ``(x, history)`` where ``history[i]`` is x before step i, of shape
    ``(step_num, *x.shape)``; without ``return_history`` nothing is kept, so
    memory does not grow with ``step_num``.

    >>> gradient_descent(lambda x: x[0]**2 + x[1]**2, np.array([-3.0, 4.0]), lr=0.1)
    array([-6.11110793e-10,  8.14814391e-10])
    """
    _check_descent(lr, step_num)
    x = np.array(_value(init_x), dtype=np.float64)  # a copy
    history = np.empty((step_num,) + x.shape) if return_history else None
    for step in range(step_num):
        if history is not None:
            history[step] = x
        x -= lr * numerical_gradient(f, x)
    return (x, history) if return_history else x


def _check_descent(lr, step_num):
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.integer, np.floating)) or not np.isfinite(lr) \
            or lr < 0:
        raise ValueError(f"gradient_descent: lr must be a finite number >= 0, got {lr!r}; the book uses 0.1")
    if not is_int(step_num) or step_num < 0:
        raise ValueError(f"gradient_descent: step_num must be an int >= 0 (the number of steps), got {step_num!r}; "
                         f"the book uses 100")


# --- gradient checks ---


class GradcheckError(RuntimeError):
    """Backprop disagrees with central differences (raised by gradcheck and gradgradcheck).

    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor(np.array([1.0]), requires_grad=True)
    >>> try:
    ...     tk.gradcheck(lambda t: tk.Tensor(t.data ** 2, requires_grad=True) + t, x)
    ... except tk.GradcheckError as error:
    ...     print(str(error).splitlines()[1].strip())
    analytic (backward):            1.0
    """


GradcheckError.__module__ = "tinygrad_ko"  # tracebacks show tinygrad_ko.GradcheckError, its public name


def _flat_outputs(result, where):
    outputs = result if isinstance(result, (tuple, list)) else (result,)
    for out in outputs:
        if not isinstance(out, Tensor):
            raise TypeError(f"{where}: fn must return a Tensor or a tuple of Tensors, "
                            f"got {type(out).__name__}")
    return list(outputs)


def _float64_inputs(inputs, where):
    """float64 copies of the Tensor inputs (other inputs pass through unchanged)."""
    copies = []
    for x in inputs:
        if not isinstance(x, Tensor):
            copies.append(x)
            continue
        copy = Tensor(np.array(x.data, dtype=np.float64) if x.dtype.kind == "f" else x.data.copy())
        copy.requires_grad = x.requires_grad
        copies.append(copy)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in copies):
        raise ValueError(f"{where}: no input requires grad; pass Tensors created with requires_grad=True")
    return copies


def _analytic_jacobians(fn, inputs, checked):
    """One (total output size, input size) matrix per checked input, row by row with backward."""
    with enable_grad():
        outputs = _flat_outputs(fn(*inputs), "gradcheck")
    total = sum(out.size for out in outputs)
    jacobians = [np.zeros((total, inputs[i].size)) for i in checked]
    row = 0
    for out in outputs:
        if not out.requires_grad:  # a constant output: its rows stay zero
            row += out.size
            continue
        for j in range(out.size):
            unit = np.zeros(out.size)
            unit[j] = 1.0
            grads = grad(out, [inputs[i] for i in checked], unit.reshape(out.shape).astype(out.dtype),
                         retain_graph=True, allow_unused=True)  # one pass per row, through one graph
            for jac, g in zip(jacobians, grads):
                if g is not None:
                    jac[row] = g.data.reshape(-1)
            row += 1
    return outputs, jacobians


def _numerical_jacobian(fn, inputs, i, eps):
    """The (total output size, input size) Jacobian for input i by central differences."""
    data = inputs[i].data
    flat = data.reshape(-1)  # a view: the copy made by _float64_inputs is perturbed
    columns = []
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = _evaluate(fn, inputs)
        flat[k] = original - eps
        minus = _evaluate(fn, inputs)
        flat[k] = original
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _evaluate(fn, inputs):
    """fn's outputs, flattened into one float64 vector."""
    outputs = _flat_outputs(fn(*inputs), "gradcheck")
    return np.concatenate([np.asarray(o.data, dtype=np.float64).reshape(-1) for o in outputs])


def _mismatch_message(where, i, inputs, outputs, analytic, numerical, atol, rtol, input_names):
    excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
    excess = np.where(np.isnan(excess), np.inf, excess)
    row, col = np.unravel_index(np.argmax(excess), excess.shape)
    a, n = float(analytic[row, col]), float(numerical[row, col])
    abs_err = abs(a - n)
    rel_err = abs_err / abs(n) if n != 0 else float("inf")
    element = tuple(int(k) for k in np.unravel_index(col, inputs[i].shape))
    out_index, offset = 0, row
    while offset >= outputs[out_index].size:
        offset -= outputs[out_index].size
        out_index += 1
    out_element = tuple(int(k) for k in np.unravel_index(offset, outputs[out_index].shape))
    bad = int(np.count_nonzero(excess > 0))
    name = input_names(i)
    return (
        f"{where}: backward does not match central differences for {name} (shape {inputs[i].shape}), "
        f"element {element}, output {out_index} element {out_element}:\n"
        f"    analytic (backward):            {a!r}\n"
        f"    numerical (central difference): {n!r}\n"
        f"    absolute error {abs_err:.3g}, relative error {rel_err:.3g} "
        f"(allowed: atol {atol:g} + rtol {rtol:g} * |numerical|); "
        f"{bad} of {excess.size} Jacobian entries of this input differ")


def _check(fn, inputs, eps, atol, rtol, raise_exception, where, input_names):
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outputs, analytic = _analytic_jacobians(fn, inputs, checked)
    for i, jac in zip(checked, analytic):
        numerical = _numerical_jacobian(fn, inputs, i, eps).reshape(jac.shape)
        if not np.allclose(jac, numerical, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(_mismatch_message(
                    where, i, inputs, outputs, jac, numerical, atol, rtol, input_names))
            return False
    return True


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check every entry of fn's Jacobian from backward against central differences, in float64.

    fn takes the inputs and returns a Tensor (any shape) or a tuple of Tensors.
    The inputs that are Tensors with ``requires_grad=True`` are checked (on
    float64 copies); others are passed through. An entry passes when
    ``|analytic - numerical| <= atol + rtol * |numerical|``. Returns True, or
    raises ``GradcheckError`` naming the input, the element, both values and
    the errors (returns False with ``raise_exception=False``).

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor(np.array([[0.5, -1.0, 2.0]]), requires_grad=True)
    >>> tk.gradcheck(lambda x: (x * x.sigmoid()).sum(axis=1), x)
    True
    """
    eps = positive_number(eps, "eps", "gradcheck", usual=1e-6)
    _warn_if_low_precision_inputs("gradcheck", _checked_inputs(inputs), eps)
    inputs = _float64_inputs(inputs, "gradcheck")
    return _check(fn, inputs, eps, atol, rtol, raise_exception, "gradcheck",
                  lambda i: f"input {i}")


def _checked_inputs(inputs):
    """(name, tensor) of each input that requires grad: the ones gradcheck differentiates."""
    return [(f"input {i}", x) for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _given_grad_outputs(grad_outputs, outputs):
    """gradgradcheck's ``grad_outputs`` as (label, ndarray or Tensor or None) per output that requires grad.

    Accepts None (all random), one Tensor or ndarray (fn with one output), or a
    list or tuple with one entry per output, or per output that requires grad;
    an entry may be None (random). Each given entry must have its output's shape.
    """
    differentiable = [j for j, out in enumerate(outputs) if out.requires_grad]
    if grad_outputs is None:
        return [(f"grad_outputs[{k}]", None) for k in range(len(differentiable))]
    if isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    elif not isinstance(grad_outputs, (list, tuple)):
        raise TypeError(f"gradgradcheck: grad_outputs must be a Tensor, an ndarray, a list or tuple of them "
                        f"(one per output of fn) or None, got {type(grad_outputs).__name__}")
    if len(grad_outputs) == len(outputs):
        indices = differentiable  # one per output: those of outputs that need no grad are not used
    elif len(grad_outputs) == len(differentiable):
        indices = list(range(len(differentiable)))
    else:
        raise ValueError(
            f"gradgradcheck: fn returns {len(outputs)} output(s), {len(differentiable)} of which require grad, "
            f"but {len(grad_outputs)} grad_outputs were given; pass one per output (a single Tensor or "
            f"ndarray for one output)")
    given = []
    for k, j in zip(indices, differentiable):
        v = grad_outputs[k]
        label = f"grad_outputs[{k}]"
        if v is not None:
            shape = np.shape(_value(v))
            if shape != outputs[j].shape:
                raise ValueError(f"gradgradcheck: {label} has shape {shape}, but output {j} of fn has shape "
                                 f"{outputs[j].shape}; pass one gradient of each output's shape")
            if np.asarray(_value(v)).dtype.kind not in "biuf":
                raise TypeError(f"gradgradcheck: {label} must hold real numbers, got dtype "
                                f"{np.asarray(_value(v)).dtype}")
        given.append((label, v))
    return given


def gradgradcheck(fn, *inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """Check second derivatives: gradcheck of the map (inputs, v) -> grad(fn(inputs), inputs, v).

    v (``grad_outputs``) defaults to random float64 tensors (from ``seed``), one
    per output of fn, so the whole second-order Jacobian is seen; it is an
    input of the checked map too. ``grad_outputs`` may be given as a Tensor or
    ndarray (fn with one output), or a list or tuple with one per output (or
    one per output that requires grad), each a Tensor, an ndarray or None
    (random); each of its output's shape. Failures name "input i" of fn or
    "grad_outputs[j]".

    >>> import tinygrad_ko as tk
    >>> x = tk.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    >>> tk.gradgradcheck(lambda x: x.tanh() * x, x)
    True
    """
    eps = positive_number(eps, "eps", "gradgradcheck", usual=1e-6)
    checked = _checked_inputs(inputs)
    inputs = _float64_inputs(inputs, "gradgradcheck")
    with enable_grad():
        outputs = _flat_outputs(fn(*inputs), "gradgradcheck")
    given = _given_grad_outputs(grad_outputs, outputs)  # (label, value or None) per differentiable output
    _warn_if_low_precision_inputs("gradgradcheck", checked + [(label, v) for label, v in given if v is not None],
                                  eps)
    rng = np.random.default_rng(seed)
    grad_outputs = [Tensor(rng.standard_normal(out.shape) if v is None else np.array(_value(v), dtype=np.float64),
                           requires_grad=True)
                    for (_, v), out in zip(given, [o for o in outputs if o.requires_grad])]
    n = len(inputs)

    def first_derivatives(*args):
        ins, vs = args[:n], args[n:]
        with enable_grad():
            outs = [o for o in _flat_outputs(fn(*ins), "gradgradcheck") if o.requires_grad]
        wrt = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        grads = grad(outs, wrt, list(vs), create_graph=True, allow_unused=True)
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g for x, g in zip(wrt, grads))

    def names(i):
        return f"input {i}" if i < n else given[i - n][0]

    return _check(first_derivatives, list(inputs) + list(grad_outputs), eps, atol, rtol,
                  raise_exception, "gradgradcheck", names)
