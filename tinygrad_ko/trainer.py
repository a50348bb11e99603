"""The book's Trainer (common/trainer.py), on the training loop that ``tinygrad-ko train`` uses."""

from . import optim
from ._checks import positive_int
from .training import EVAL_ROWS, _accuracy, train

__all__ = ["Trainer", "make_optimizer"]

# The book's optimizer names (any case) -> tk.optim class names. Nesterov is used once tk.optim has it.
OPTIMIZERS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
              "rmsprop": "RMSprop", "adam": "Adam"}
BOOK_LINE = "=== epoch:{number}, train acc:{train_acc}, test acc:{test_acc} ==="


def make_optimizer(name, **params):
    """A ``tk.optim`` optimizer from the book's name ('SGD', 'adam', ... any case).

    >>> make_optimizer("Adam", lr=0.001)
    Adam(lr=0.001, beta1=0.9, beta2=0.999)
    """
    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)} (any case), got {name!r}")
    cls = getattr(optim, OPTIMIZERS[key], None)
    if cls is None:
        raise ValueError(f"optimizer {name!r}: tk.optim has no {OPTIMIZERS[key]} yet; "
                         f"use one of {', '.join(k for k, v in OPTIMIZERS.items() if hasattr(optim, v))}")
    return cls(**params)


class Trainer:
    """The book's Trainer: trains ``network`` for ``epochs`` epochs of mini-batches.

    Works with any net that has the book's interface (``gradient(x, t)``,
    ``loss(x, t)``, ``accuracy(x, t)``, ``params``): x as rows (N, 784) for
    the fully connected nets, or images (N, 1, 28, 28) for the convolution
    nets (``load_mnist(flatten=False)``). ``optimizer`` is the book's name
    (``'SGD'``, ``'Momentum'``, ``'AdaGrad'``, ``'RMSprop'``, ``'Adam'``, any
    case) or an optimizer object, ``optimizer_param`` its arguments.

    ``train()`` runs ``int(epochs * len(x_train) / mini_batch_size)`` steps,
    measures the accuracy at the start of each epoch (on the first
    ``evaluate_sample_num_per_epoch`` rows of each set, or all) and finally
    the test accuracy on the whole test set, and returns the ``History``
    (``history.plot()`` draws it). With ``verbose`` it shows a progress bar
    (with the loss) and the book's lines, at most 20 epoch lines. Afterwards
    ``train_loss_list`` holds the loss of every step and ``train_acc_list``,
    ``test_acc_list`` one accuracy per epoch, as the book's.

    >>> import numpy as np
    >>> import tinygrad_ko as tk
    >>> np.random.seed(0)
    >>> (x_train, t_train), (x_test, t_test) = tk.datasets.load_mnist(sample=True)
    >>> net = tk.MultiLayerNet(784, [50], 10)
    >>> trainer = tk.Trainer(net, x_train, t_train, x_test, t_test, epochs=3, mini_batch_size=100,
    ...                      optimizer="Adam", optimizer_param={"lr": 0.001}, verbose=False)
    >>> history = trainer.train()
    >>> len(trainer.train_loss_list), len(trainer.train_acc_list), len(trainer.test_acc_list)
    (120, 3, 3)
    >>> trainer.test_acc_list[-1] > 0.8
    True
    """

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None, verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train, self.t_train, self.x_test, self.t_test = x_train, t_train, x_test, t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        if optimizer_param is None:
            optimizer_param = {"lr": 0.01}  # the book's default
        if isinstance(optimizer, str):
            self.optimizer = make_optimizer(optimizer, **optimizer_param)
        else:
            self.optimizer = optimizer
        self.train_size = x_train.shape[0]
        positive_int(mini_batch_size, "mini_batch_size", "Trainer")
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        if self.max_iter < 1:
            raise ValueError(f"Trainer: epochs={epochs} of {self.train_size} rows in batches of "
                             f"{mini_batch_size} make no step; give epochs > 0")
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train(self, threads=None):
        """Train; return the History. ``threads``: BLAS threads (None: chosen for the net and batch)."""
        history = train(self.network, (self.x_train, self.t_train), (self.x_test, self.t_test), self.optimizer,
                        iters=self.max_iter, batch_size=self.batch_size, progress=self.verbose,
                        log=print if self.verbose else None, eval_rows=self.evaluate_sample_num_per_epoch,
                        threads=threads, line_format=BOOK_LINE, log_final=False)
        # The loop measures once more after the last step; the book's lists hold one entry per epoch start.
        self.train_loss_list = history["loss"]
        self.train_acc_list = history["train_accuracy"][:-1]
        self.test_acc_list = history["test_accuracy"][:-1]
        self.current_iter = self.max_iter
        self.current_epoch = len(self.train_acc_list)
        test_acc = history["final_test_accuracy"]
        if self.evaluate_sample_num_per_epoch is not None:  # the book's final line uses the whole test set
            test_acc = _accuracy(self.network, self.x_test, self.t_test, EVAL_ROWS)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
        return history

