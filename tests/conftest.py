"""Shared, session-scoped fixtures: real MNIST, one small trained seed model, its exports — made once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "mnist"

# `pytest -m "not slow"` is the contributor's fast subset: no training, no browser, no sshd, no root, no emulation,
# no fuzzing. Tests are marked here, by what they use, so a new test that uses one of these is marked without saying so.
SLOW_FIXTURES = {"trained", "exported", "manifest", "artifact_paths", "browser", "sshd", "board_python", "bare_python"}
SLOW_FILES = {"test_train.py", "test_pipeline.py", "test_page.py", "test_remote.py"}  # train, or need a browser/sshd
SLOW_FIXTURE_WORDS = ("qemu", "emulat", "sshd", "chromium", "root")  # in the name of a fixture a test uses
SLOW_PATH_WORDS = ("qemu", "emulat", "fuzz")  # in a test file's path: emulation, and fuzzing's thousands of cases


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: needs training, a browser, sshd, root, emulation or fuzzing (conftest.py)"
    )


def is_slow(item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    path = Path(str(item.path)).relative_to(ROOT).as_posix()
    return bool(
        names & SLOW_FIXTURES
        or Path(path).name in SLOW_FILES
        or any(word in name for word in SLOW_FIXTURE_WORDS for name in names)
        or any(word in path for word in SLOW_PATH_WORDS)
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if is_slow(item):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def data_dir() -> str:
    folder = os.environ.get("EDGEMNIST_DATA") or str(DEFAULT_DATA)
    if not Path(folder).is_dir():
        pytest.fail(f"MNIST not found at {folder}: set EDGEMNIST_DATA to the folder of the IDX files")
    return str(Path(folder).resolve())


@pytest.fixture(scope="session")
def mnist(data_dir):
    from edgemnist.data import load_mnist

    return load_mnist(data_dir)


@pytest.fixture(scope="session")
def trained(tmp_path_factory, data_dir):
    """The seed CNN after one epoch on all 60,000 training digits (≈ 97.5 % test accuracy)."""
    from edgemnist.train import train

    return train("seed", epochs=1, batch_size=64, seed=0, out=tmp_path_factory.mktemp("model"), data_dir=data_dir)


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained, data_dir):
    """Every format × quantization of the trained model, validated, with its manifest."""
    from edgemnist.export.runner import export

    report = export(trained.model_path, ["all"], None, tmp_path_factory.mktemp("export"), data=data_dir)
    return report


@pytest.fixture(scope="session")
def manifest(exported) -> dict:
    return json.loads(Path(exported.manifest).read_text())


@pytest.fixture(scope="session")
def artifact_paths(exported) -> dict[str, Path]:
    """{"seed_int8.tflite": path, ...} for every runnable artifact."""
    return {a.file: Path(exported.out) / a.file for a in exported.artifacts if a.passed is not None}


@pytest.fixture(scope="session")
def digit_png(tmp_path_factory, data_dir) -> Path:
    from edgemnist.data import save_sample_png

    path = tmp_path_factory.mktemp("images") / "digit.png"
    save_sample_png(4444, path, "test", data_dir)  # the tutorial's 9
    return path


def run_cli(*args, input=None):
    """Run the CLI in-process with click's CliRunner (stderr kept apart)."""
    from click.testing import CliRunner

    from edgemnist.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)


BLOCKER = """
import sys, importlib.util
BLOCKED = set(sys.argv[1].split(","))
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Block())
real_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, package=None: (
    None if name.split(".")[0] in BLOCKED else real_find_spec(name, package)
)
from edgemnist.cli import main
sys.argv = ["edgemnist"] + sys.argv[2:]
try:
    main()
finally:
    assert not BLOCKED & set(sys.modules), "a blocked module was imported"
"""


def run_without(modules, *args):
    """Run the CLI in a fresh process where ``modules`` cannot be imported, as on a device without them."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(modules), *map(str, args)], capture_output=True, text=True
    )
