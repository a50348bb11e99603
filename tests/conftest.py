"""Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: ci (default), dev (quick), intense (many examples)."""

import os

import pytest
from hypothesis import HealthCheck, settings

# ci draws the same examples on every run (a CI result must not depend on luck); dev and intense
# explore new ones each time.
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("dev", parent=settings.get_profile("ci"), max_examples=10, derandomize=False)
settings.register_profile("intense", parent=settings.get_profile("ci"), max_examples=2000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread():
    """Pin BLAS to one thread for the tests.

    The matrices here are small, and on a shared 2-core machine a two-thread
    BLAS stalls for milliseconds whenever the other core is busy (a 100x784
    matmul measured 11.7 ms instead of 0.24 ms), which made the training tests
    several times slower and their time erratic.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
