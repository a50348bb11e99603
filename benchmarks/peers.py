"""One training step of the book's nets in each framework, from the same weights on the same batches.

Every contender is a ``Contender(step, params, prepare)``:
``prepare(x, t)`` turns a NumPy batch (float x, integer labels t) into the
framework's own inputs once, before any timing; ``step(x, t)`` runs forward,
backward and the SGD update ``p -= lr * grad``; ``params()`` returns the
weights as ``{"W1": ndarray (in, out), "b1": ..., ...}`` for the check that
all contenders compute the same step. Each peer is written the way its own
documentation writes a small net; none computes a gradient for the input
batch unless the framework always does (DeZero's Linear does).
"""

from collections import namedtuple

import numpy as np

from tinygrad_ko import _bench_reference as ref
from tinygrad_ko import bench

Contender = namedtuple("Contender", "step params prepare")


def _same(x, t):
    return x, t


def _layer_count(init):
    return len(init) // 2


def tinygrad_ko(init, activation, lr):
    """The book's loop on tinygrad_ko: ``grads = net.gradient(x, t)``, ``SGD.update(net.params, grads)``."""
    step, params = bench.tinygrad_ko_step(init, activation, lr)
    return Contender(step, params, _same)


def reference(init, activation, lr):
    """The book's chapter-5 layers and SGD (tinygrad_ko/_bench_reference.py)."""
    sizes = [init["W1"].shape[0]] + [init[f"W{i}"].shape[1] for i in range(1, _layer_count(init) + 1)]
    if len(sizes) == 3:
        net = ref.TwoLayerNet(*sizes, activation=activation, params=init)
    else:
        net = ref.MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation, params=init)
    optimizer = ref.SGD(lr=lr)

    def step(x, t):
        grads = net.gradient(x, t)
        optimizer.update(net.params, grads)

    return Contender(step, lambda: net.params, _same)


def hand_tuned(init, activation, lr, batch_size):
    net = ref.HandTunedNet(init, batch_size, activation=activation, lr=lr)
    return Contender(net.step, lambda: net.params, _same)


def floor(init, batch_size):
    net = ref.MatmulFloor(init, batch_size)
    return Contender(net.step, None, _same), net.matmul_count


def torch_peer(torch, init, activation, lr):
    """torch.nn.functional: F.linear with (out, in) weights as nn.Linear keeps them, F.cross_entropy."""
    import torch.nn.functional as F

    count = _layer_count(init)
    Ws = [torch.tensor(init[f"W{i}"].T.copy(), requires_grad=True) for i in range(1, count + 1)]
    bs = [torch.tensor(init[f"b{i}"].copy(), requires_grad=True) for i in range(1, count + 1)]
    params = Ws + bs
    act = torch.sigmoid if activation == "sigmoid" else F.relu

    def step(x, t):
        h = x
        for i in range(count):
            h = F.linear(h, Ws[i], bs[i])
            if i < count - 1:
                h = act(h)
        loss = F.cross_entropy(h, t)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-lr)  # what torch.optim.SGD does, without its bookkeeping
                p.grad = None

    def get():
        out = {}
        for i in range(count):
            out[f"W{i + 1}"] = Ws[i].detach().numpy().T
            out[f"b{i + 1}"] = bs[i].detach().numpy()
        return out

    def prepare(x, t):
        return torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))

    return Contender(step, get, prepare)


def autograd_peer(autograd, init, activation, lr):
    """HIPS autograd: ``grad`` of a loss function of a list of arrays (its own examples' style)."""
    import autograd.numpy as anp

    count = _layer_count(init)
    params = []
    for i in range(1, count + 1):
        params += [init[f"W{i}"].copy(), init[f"b{i}"].copy()]

    def act(z):
        if activation == "sigmoid":
            return 0.5 * (anp.tanh(0.5 * z) + 1.0)  # sigmoid, as autograd's examples write it
        return anp.maximum(z, 0.0)

    def loss(params, x, rows, t):
        h = x
        for i in range(count):
            h = anp.dot(h, params[2 * i]) + params[2 * i + 1]
            if i < count - 1:
                h = act(h)
        h = h - anp.max(h, axis=1, keepdims=True)
        log_p = h - anp.log(anp.sum(anp.exp(h), axis=1, keepdims=True))
        return -anp.sum(log_p[rows, t]) / x.shape[0]

    gradient = autograd.grad(loss)

    def step(x, t):
        rows, labels = t
        grads = gradient(params, x, rows, labels)
        for p, g in zip(params, grads):
            p -= lr * g

    def get():
        return {f"{name}{i // 2 + 1}": p for i, (name, p) in enumerate(zip("Wb" * count, params))}

    def prepare(x, t):
        return x, (np.arange(x.shape[0]), t)

    return Contender(step, get, prepare)


def mygrad_peer(mygrad, init, activation, lr):
    """mygrad with its memory guard off (``mygrad.turn_memory_guarding_off()``, global)."""
    from mygrad.nnet.activations import relu, sigmoid
    from mygrad.nnet.losses import softmax_crossentropy

    mygrad.turn_memory_guarding_off()
    count = _layer_count(init)
    Ws = [mygrad.Tensor(init[f"W{i}"].copy()) for i in range(1, count + 1)]
    bs = [mygrad.Tensor(init[f"b{i}"].copy()) for i in range(1, count + 1)]
    params = Ws + bs
    act = sigmoid if activation == "sigmoid" else relu

    def step(x, t):
        h = x
        for i in range(count):
            h = mygrad.matmul(h, Ws[i]) + bs[i]
            if i < count - 1:
                h = act(h)
        loss = softmax_crossentropy(h, t)
        loss.backward()
        for p in params:
            p.data -= lr * p.grad

    def get():
        out = {}
        for i in range(count):
            out[f"W{i + 1}"] = Ws[i].data
            out[f"b{i + 1}"] = bs[i].data
        return out

    return Contender(step, get, _same)


def dezero_peer(dezero, init, activation, lr):
    """DeZero (Deep Learning from Scratch 3): Parameters, F.linear, F.softmax_cross_entropy, cleargrad."""
    import dezero.functions as F

    count = _layer_count(init)
    Ws = [dezero.Parameter(init[f"W{i}"].copy()) for i in range(1, count + 1)]
    bs = [dezero.Parameter(init[f"b{i}"].copy()) for i in range(1, count + 1)]
    params = Ws + bs
    act = F.sigmoid if activation == "sigmoid" else F.relu

    def step(x, t):
        h = x
        for i in range(count):
            h = F.linear(h, Ws[i], bs[i])
            if i < count - 1:
                h = act(h)
        loss = F.softmax_cross_entropy(h, t)
        for p in params:
            p.cleargrad()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad.data

    def get():
        out = {}
        for i in range(count):
            out[f"W{i + 1}"] = Ws[i].data
            out[f"b{i + 1}"] = bs[i].data
        return out

    return Contender(step, get, _same)


PEERS = {"torch": ("PyTorch", torch_peer), "mygrad": ("mygrad (memory guard off)", mygrad_peer),
         "dezero": ("DeZero", dezero_peer), "autograd": ("HIPS autograd", autograd_peer)}
