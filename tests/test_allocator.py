"""keep_freed_memory: applied by a training run or the book's loop, once, only where glibc has mallopt; off by environment."""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def run(code, **environment):
    env = dict(os.environ, **environment)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_importing_the_package_changes_nothing_and_a_training_run_applies_it_once():
    code = ("import numpy as np, tinygrad_ko as tk\n"
            "from tinygrad_ko import allocator\n"
            "print(allocator._done)\n"
            "(x, t), test = tk.datasets.load_mnist(sample=True)\n"
            "tk.training.train(tk.TwoLayerNet(784, 10, 10), (x[:200], t[:200]), test, tk.optim.SGD(0.1),\n"
            "                  iters=2, progress=False, log=None)\n"
            "print(allocator._done, allocator.keep_freed_memory())\n")
    before, during, again = run(code)
    assert before == "None"
    assert during == again == str(GLIBC)


def test_the_books_loop_applies_it_at_its_first_gradient():
    code = ("import numpy as np, tinygrad_ko as tk\n"
            "from tinygrad_ko import allocator\n"
            "net = tk.TwoLayerNet(4, 3, 2)\n"
            "print(allocator._done)\n"
            "net.loss(np.ones((1, 4)), np.array([1]))\n"
            "print(allocator._done)\n"
            "net.gradient(np.ones((1, 4)), np.array([1]))\n"
            "print(allocator._done)\n")
    assert run(code) == ["None", "None", str(GLIBC)]
    assert run(code, TINYGRAD_KO_KEEP_FREED_MEMORY="0") == ["None", "None", "False"]


def test_the_environment_variable_turns_it_off():
    assert run("from tinygrad_ko import allocator; print(allocator.keep_freed_memory())",
               TINYGRAD_KO_KEEP_FREED_MEMORY="0") == ["False"]


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's; elsewhere keep_freed_memory does nothing")
def test_after_it_freed_blocks_are_reused_without_new_pages():
    # 30 MB arrays made and freed in turn: with the memory kept, the process asks the system for
    # no new pages after the first round (minor page faults stay flat).
    code = ("import resource, numpy as np\n"
            "from tinygrad_ko import allocator\n"
            "import sys\n"
            "if sys.argv[-1] == 'keep': allocator.keep_freed_memory()\n"
            "def churn():\n"
            "    for _ in range(20):\n"
            "        a = np.ones(30 * 2**20 // 8); b = np.ones(30 * 2**20 // 8); del a, b\n"
            "churn()\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
            "churn()\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n")
    kept, default = (int(subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True,
                                        timeout=120, check=True).stdout) for mode in ("keep", "default"))
    assert kept < 100 < default


def test_results_do_not_depend_on_it():
    code = ("import numpy as np, tinygrad_ko as tk\n"
            "np.random.seed(0)\n"
            "net = tk.SimpleConvNet(conv_param={'filter_num': 4, 'filter_size': 5, 'pad': 0, 'stride': 1},\n"
            "                       hidden_size=10)\n"
            "(x, t), test = tk.datasets.load_mnist(sample=True, flatten=False)\n"
            "h = tk.training.train(net, (x[:300], t[:300]), (test[0][:100], test[1][:100]), tk.optim.Adam(),\n"
            "                      iters=6, batch_size=50, progress=False, log=None)\n"
            "print(repr(float(net.params['W1'].sum())), repr(h['loss'][-1]))\n")
    assert run(code, TINYGRAD_KO_KEEP_FREED_MEMORY="0") == run(code)
    assert np.isfinite(float(run(code)[0]))
