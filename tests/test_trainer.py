"""tk.Trainer: the book's common/trainer.py on the loop that `tinygrad-ko train` uses."""

import re

import numpy as np
import pytest

import tinygrad_ko as tk
from tinygrad_ko import training
from tinygrad_ko.trainer import make_optimizer

BOOK_EPOCH_LINE = re.compile(r"^=== epoch:(\d+), train acc:([\d.]+), test acc:([\d.]+) ===$", re.M)


@pytest.fixture(scope="module")
def sample():
    return tk.datasets.load_mnist(sample=True)


def make_trainer(net, sample, **kwargs):
    (x_train, t_train), (x_test, t_test) = sample
    return tk.Trainer(net, x_train, t_train, x_test, t_test, **kwargs)


def test_trainer_two_layer_net_prints_the_books_lines(sample, capsys):
    np.random.seed(0)
    trainer = make_trainer(tk.TwoLayerNet(784, 50, 10), sample, epochs=3, mini_batch_size=100,
                           optimizer="SGD", optimizer_param={"lr": 0.5})
    history = trainer.train()
    out, err = capsys.readouterr()
    lines = BOOK_EPOCH_LINE.findall(out)
    assert [int(epoch) for epoch, _, _ in lines] == [1, 2, 3]
    assert [float(acc) for _, acc, _ in lines] == trainer.train_acc_list
    assert out.rstrip().splitlines()[-2:] == ["=============== Final Test Accuracy ===============",
                                              "test acc:" + str(history["final_test_accuracy"])]
    assert "train:" in err  # the progress bar
    assert trainer.max_iter == 120 and trainer.current_iter == 120 and trainer.current_epoch == 3
    assert len(trainer.train_loss_list) == 120 and len(trainer.test_acc_list) == 3
    assert history["final_test_accuracy"] > 0.6


def test_trainer_multi_layer_net_adam_in_any_case(sample, capsys):
    np.random.seed(0)
    trainer = make_trainer(tk.MultiLayerNet(784, [40, 40], 10), sample, epochs=2, optimizer="ADAM",
                           optimizer_param={"lr": 0.001}, verbose=False)
    assert isinstance(trainer.optimizer, tk.optim.Adam)
    history = trainer.train()
    assert capsys.readouterr() == ("", "")  # verbose=False: nothing at all
    assert history["final_test_accuracy"] > 0.8
    assert trainer.test_acc_list[-1] > trainer.test_acc_list[0]


def test_trainer_and_train_share_one_loop(sample):
    """Same seed, same net: Trainer's lists are exactly what train() records."""
    (x_train, t_train), (x_test, t_test) = sample
    np.random.seed(5)
    trainer = make_trainer(tk.TwoLayerNet(784, 10, 10), sample, epochs=2, optimizer="sgd",
                           optimizer_param={"lr": 0.1}, verbose=False)
    trainer.train()
    np.random.seed(5)
    net = tk.TwoLayerNet(784, 10, 10)
    history = training.train(net, (x_train, t_train), (x_test, t_test), tk.optim.SGD(lr=0.1), iters=80,
                             progress=False, log=None)
    assert trainer.train_loss_list == history["loss"]
    assert trainer.train_acc_list == history["train_accuracy"][:2]
    assert trainer.test_acc_list == history["test_accuracy"][:2]


def test_trainer_evaluates_on_the_first_rows_then_the_whole_test_set(sample, capsys):
    np.random.seed(0)
    trainer = make_trainer(tk.TwoLayerNet(784, 10, 10), sample, epochs=2, optimizer_param={"lr": 0.5},
                           evaluate_sample_num_per_epoch=50)
    trainer.train()
    for value in trainer.train_acc_list + trainer.test_acc_list:
        assert value * 50 == round(value * 50)
    final = float(capsys.readouterr().out.rstrip().splitlines()[-1].split(":")[1])
    _, (x_test, t_test) = sample
    assert final == trainer.network.accuracy(x_test, t_test)


def test_trainer_prints_at_most_20_epoch_lines(sample, capsys):
    (x_train, t_train), (x_test, t_test) = sample
    np.random.seed(0)
    trainer = tk.Trainer(tk.TwoLayerNet(784, 2, 10), x_train[:100], t_train[:100], x_test[:100], t_test[:100],
                         epochs=45, mini_batch_size=100)
    trainer.train()
    epochs = [int(epoch) for epoch, _, _ in BOOK_EPOCH_LINE.findall(capsys.readouterr().out)]
    assert len(trainer.train_acc_list) == 45
    assert 10 <= len(epochs) <= 20 and epochs[0] == 1


def test_trainer_on_images_for_the_convolution_nets(capsys):
    """The book's convnets take load_mnist(flatten=False): x of shape (N, 1, 28, 28)."""

    class ImageNet(tk.MultiLayerNet):
        def predict(self, x):
            assert x.ndim == 4 and x.shape[1:] == (1, 28, 28)
            return super().predict(x.reshape(len(x), -1))

    (x_train, t_train), (x_test, t_test) = tk.datasets.load_mnist(flatten=False, sample=True)
    np.random.seed(0)
    trainer = tk.Trainer(ImageNet(784, [20], 10), x_train, t_train, x_test, t_test, epochs=1,
                         optimizer="Adam", optimizer_param={"lr": 0.001}, verbose=False)
    assert trainer.train()["final_test_accuracy"] > 0.5


@pytest.mark.parametrize("name", ["SGD", "momentum", "AdaGrad", "RMSPROP", "adam"])
def test_the_books_optimizer_names_in_any_case(name):
    optimizer = make_optimizer(name, lr=0.01)
    assert type(optimizer).__name__.lower() == name.lower()


def test_nesterov_is_used_once_tk_optim_has_it():
    if hasattr(tk.optim, "Nesterov"):
        assert type(make_optimizer("Nesterov", lr=0.01)).__name__ == "Nesterov"
    else:
        with pytest.raises(ValueError, match="tk.optim has no Nesterov yet"):
            make_optimizer("nesterov", lr=0.01)


def test_an_unknown_optimizer_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, adagrad, rmsprop, adam"):
        make_optimizer("lbfgs")


def test_trainer_takes_an_optimizer_object(sample):
    optimizer = tk.optim.Momentum(lr=0.05)
    trainer = make_trainer(tk.TwoLayerNet(784, 5, 10), sample, epochs=1, optimizer=optimizer, verbose=False)
    assert trainer.optimizer is optimizer
    trainer.train()
    assert optimizer.v  # the optimizer kept its state: it was used


def test_trainer_refuses_zero_epochs(sample):
    with pytest.raises(ValueError, match="epochs=0"):
        make_trainer(tk.TwoLayerNet(784, 5, 10), sample, epochs=0)


def test_trainer_on_the_books_simple_convnet():
    (x_train, t_train), (x_test, t_test) = tk.datasets.load_mnist(flatten=False, sample=True)
    np.random.seed(0)
    net = tk.SimpleConvNet(conv_param={"filter_num": 4, "filter_size": 5, "pad": 0, "stride": 1}, hidden_size=10)
    trainer = tk.Trainer(net, x_train[:300], t_train[:300], x_test[:100], t_test[:100], epochs=2,
                         optimizer="Adam", optimizer_param={"lr": 0.01}, verbose=False)
    history = trainer.train()
    assert len(trainer.train_loss_list) == 6 and len(trainer.train_acc_list) == 2
    assert trainer.train_loss_list[-1] < trainer.train_loss_list[0]
    assert 0 <= history["final_test_accuracy"] <= 1


def test_trainer_on_multi_layer_net_extend_trains_in_training_mode(sample, monkeypatch):
    """Dropout and batch norm nets: the loop uses the net's own loss_and_gradient (train_flg=True)."""
    modes = []
    predict = tk.MultiLayerNetExtend.predict
    monkeypatch.setattr(tk.MultiLayerNetExtend, "predict",
                        lambda self, x, train_flg=False: modes.append(train_flg) or predict(self, x, train_flg))
    np.random.seed(0)
    net = tk.MultiLayerNetExtend(784, [30, 30], 10, use_dropout=True, dropout_ration=0.2, use_batchnorm=True)
    trainer = make_trainer(net, sample, epochs=1, optimizer="adam", optimizer_param={"lr": 0.01}, verbose=False)
    history = trainer.train()
    assert modes.count(True) == 40  # one training-mode forward pass per step
    assert history["final_test_accuracy"] > 0.7
