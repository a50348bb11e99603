"""The ops of the "ops breadth" issue against PyTorch, kinks and ties included (extra: needs torch).

The central-difference tests (test_ops_breadth_*.py) prove the gradients
without torch; these pin the conventions where the derivative is not defined
(clip at its bounds, maximum at ties, abs at 0, prod at zeros, ...) to what
PyTorch computes, and the argument names and semantics (repeat, split, var).
"""

import operator

import numpy as np
import pytest

import tinygrad_ko as tk
import tinygrad_ko.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def run_both(tk_fn, torch_fn, *values, second_order=False):
    """tk_fn and torch_fn on float64 leaves holding ``values``; compare outputs and gradients
    (for a random upstream gradient), and with second_order the gradient of sum(grad * v)."""
    rng = np.random.default_rng(0)
    tk_in = [tk.Tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
    th_in = [torch.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in values]
    tk_out, th_out = tk_fn(*tk_in), torch_fn(*th_in)
    np.testing.assert_allclose(tk_out.numpy(), th_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.normal(size=tuple(th_out.shape))
    tk_grads = tk.grad(tk_out, tk_in, tk.Tensor(w), create_graph=second_order)
    th_grads = torch.autograd.grad(th_out, th_in, torch.tensor(w), create_graph=second_order)
    for g, h in zip(tk_grads, th_grads):
        np.testing.assert_allclose(g.numpy(), h.detach().numpy(), rtol=1e-12, atol=1e-14)
    if second_order:
        vs = [rng.normal(size=np.shape(v)) for v in values]
        tk_total = sum((g * v).sum() for g, v in zip(tk_grads, vs))
        th_total = sum((h * torch.tensor(v)).sum() for h, v in zip(th_grads, vs))
        for g, h in zip(tk.grad(tk_total, tk_in, allow_unused=True),
                        torch.autograd.grad(th_total, th_in, allow_unused=True)):
            expected = np.zeros(g.shape) if h is None else h.numpy()
            np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12, atol=1e-14)


KINKS = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
TIES_X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
TIES_Y = np.array([[1.0, 1.0, 4.0], [0.0, -1.0, 2.0]])

CASES = {
    "clip at the bounds": (lambda x: x.clip(0.0, 2.0), lambda x: torch.clamp(x, 0.0, 2.0), [KINKS]),
    "clip min only": (lambda x: tk.clip(x, min=1.0), lambda x: torch.clamp(x, min=1.0), [KINKS]),
    "clip max only": (lambda x: F.clip(x, max=0.5), lambda x: torch.clip(x, max=0.5), [KINKS]),
    "clip min above max": (lambda x: x.clip(2.0, 1.0), lambda x: torch.clamp(x, 2.0, 1.0), [KINKS]),
    "maximum at ties": (tk.maximum, torch.maximum, [TIES_X, TIES_Y]),
    "minimum at ties": (tk.minimum, torch.minimum, [TIES_X, TIES_Y]),
    "maximum broadcast ties": (tk.maximum, torch.maximum, [TIES_X, np.array([1.0, 2.0, 5.0])]),
    "abs at 0": (abs, torch.abs, [KINKS]),
    "sign": (lambda x: x.sign() * x, lambda x: torch.sign(x) * x, [KINKS]),
    "leaky_relu at 0": (lambda x: x.leaky_relu(0.2), lambda x: TF.leaky_relu(x, 0.2), [KINKS]),
    "leaky_relu default": (F.leaky_relu, TF.leaky_relu, [KINKS]),
    "elu at 0": (lambda x: x.elu(0.5), lambda x: TF.elu(x, alpha=0.5), [KINKS]),
    "elu": (F.elu, TF.elu, [np.array([-3.0, -0.5, 0.5, 2.0])]),
    "gelu": (F.gelu, TF.gelu, [KINKS * 1.7]),
    "gelu tanh": (lambda x: x.gelu(approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), [KINKS * 1.7]),
    "softplus at the threshold": (F.softplus, TF.softplus, [np.array([-30.0, 0.0, 19.0, 20.0, 20.5, 40.0])]),
    "softplus beta threshold": (lambda x: x.softplus(beta=2.0, threshold=3.0),
                                lambda x: TF.softplus(x, beta=2.0, threshold=3.0), [KINKS]),
    "sin cos": (lambda x: x.sin() * x.cos(), lambda x: torch.sin(x) * torch.cos(x), [KINKS]),
    "log1p expm1": (lambda x: (x + 2.5).log1p() + x.expm1(), lambda x: torch.log1p(x + 2.5) + torch.expm1(x), [KINKS]),
    "square reciprocal": (lambda x: x.square() + (x + 2.5).reciprocal(),
                          lambda x: torch.square(x) + torch.reciprocal(x + 2.5), [KINKS]),
    "logsumexp at 1e4": (lambda x: x.logsumexp(axis=1, keepdims=True), lambda x: torch.logsumexp(x, 1, keepdim=True),
                         [np.array([[1e4, 1e4, 0.0], [-1e4, 0.0, 1.0]])]),
    "pow at zeros": (lambda x, y: x ** y, torch.pow, [np.array([0.0, 0.0, 2.0, 0.0, 1.5]),
                                                       np.array([0.0, 2.0, 0.0, 3.0, -1.5])]),
    "rpow": (lambda x: 2 ** x, lambda x: 2 ** x, [KINKS]),
    "where": (lambda a, b: tk.where(KINKS > 0, a, b), lambda a, b: torch.where(torch.tensor(KINKS > 0), a, b),
              [KINKS, -KINKS]),
    "var ddof 1": (lambda x: x.var(axis=1, ddof=1), lambda x: torch.var(x, dim=1, correction=1), [TIES_X]),
    "var ddof 0": (lambda x: x.var(), lambda x: torch.var(x, correction=0), [TIES_X]),
    "std at zero spread": (lambda x: x.std(axis=1), lambda x: torch.std(x, dim=1, correction=0),
                           [np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])]),
    "prod with zeros": (lambda x: x.prod(axis=1), lambda x: torch.prod(x, dim=1),
                        [np.array([[0.0, 0.0, 2.0, 3.0], [1.0, 0.0, 2.0, 3.0], [1.0, -2.0, 2.0, 3.0]])]),
    "prod of all": (lambda x: x.prod(), torch.prod, [np.array([[1.5, 0.0], [2.0, 3.0]])]),
    "cumsum": (lambda x: x.cumsum(axis=1), lambda x: torch.cumsum(x, 1), [TIES_X]),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [TIES_X]),
    "tile": (lambda x: x.tile((2,)), lambda x: torch.tile(x, (2,)), [TIES_X]),
    "flatten": (lambda x: x.reshape(2, 1, 3).flatten(1), lambda x: torch.flatten(x.reshape(2, 1, 3), 1), [TIES_X]),
    "squeeze unsqueeze": (lambda x: x.unsqueeze(1).squeeze(), lambda x: x.unsqueeze(1).squeeze(), [TIES_X]),
    "swapaxes permute": (lambda x: x.reshape(1, 2, 3).swapaxes(0, 2).permute(1, 0, 2),
                         lambda x: x.reshape(1, 2, 3).swapaxes(0, 2).permute(1, 0, 2), [TIES_X]),
    "concatenate": (lambda a, b: tk.concatenate([a, b], axis=1), lambda a, b: torch.cat([a, b], 1), [TIES_X, TIES_Y]),
    "stack": (lambda a, b: tk.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], -1), [TIES_X, TIES_Y]),
    "split sizes": (lambda x: tk.split(x, [1, 2], axis=1)[1], lambda x: torch.split(x, [1, 2], 1)[1], [TIES_X]),
    "split size": (lambda x: tk.split(x.reshape(-1), 4)[1], lambda x: torch.split(x.reshape(-1), 4)[1], [TIES_X]),
    "broadcast_to sum_to": (lambda x: x.broadcast_to(4, 2, 3).sum_to((1, 3)),
                            lambda x: x.broadcast_to(4, 2, 3).sum(dim=(0, 1), keepdim=True)[0], [TIES_X]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_pytorch(name):
    tk_fn, torch_fn, values = CASES[name]
    run_both(tk_fn, torch_fn, *values)


# (Linear ops have no second derivative to compare; at x == 0 PyTorch's second derivative of elu is 0,
# though its first derivative there is alpha: ours is alpha * exp(0), the same branch as the first.)
SECOND_ORDER = ["gelu", "gelu tanh", "softplus beta threshold", "sin cos", "log1p expm1", "square reciprocal",
                "logsumexp at 1e4", "var ddof 1", "std at zero spread", "prod with zeros", "prod of all", "elu"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivatives_match_pytorch(name):
    tk_fn, torch_fn, values = CASES[name]
    run_both(tk_fn, torch_fn, *values, second_order=True)


def test_pow_second_derivatives_match_pytorch_away_from_zero():
    run_both(lambda x, y: x ** y, torch.pow, np.array([0.5, 1.5, 2.0]), np.array([-1.5, 0.5, 2.0]),
             second_order=True)


@pytest.mark.parametrize("op", [operator.floordiv, operator.mod])
def test_floordiv_and_mod_values_match_pytorch(op):
    a, b = np.array([7.0, -7.0, 7.5, -7.5]), np.array([2.0, 2.0, -2.0, -2.0])
    np.testing.assert_array_equal(op(tk.Tensor(a), tk.Tensor(b)).numpy(), op(torch.tensor(a), torch.tensor(b)).numpy())
