"""--verbose is this process's state, handed to a worker explicitly, never written into the environment."""

import os

import pytest

from edgemnist.common import deps


@pytest.fixture
def restored_verbose(monkeypatch):
    monkeypatch.setattr(deps, "VERBOSE", deps.VERBOSE)  # put back after the test
    monkeypatch.delenv("EDGEMNIST_VERBOSE", raising=False)


@pytest.mark.parametrize("flag", [True, False])
def test_set_verbose_leaves_the_environment_alone(restored_verbose, flag):
    before = dict(os.environ)
    deps.set_verbose(flag)
    assert deps.VERBOSE is flag and dict(os.environ) == before


@pytest.mark.parametrize(("flag", "value"), [(True, "1"), (False, "0")])
def test_a_worker_is_started_with_the_flag(restored_verbose, flag, value):
    deps.set_verbose(flag)
    environment = deps.worker_environment()
    assert environment[deps.VERBOSE_ENV] == value and environment["PATH"] == os.environ["PATH"]
