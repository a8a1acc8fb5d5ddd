"""Only a runtime's refusal of the file is "not a valid model" (exit 2); a bug of ours while a backend opens a
valid model propagates as itself, and the CLI calls it an internal error (exit 3)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

import edgemnist
from edgemnist.cli import cli

PRETRAINED = Path(edgemnist.__file__).parent / "pretrained"
CASES = [("litert", "mcu_int8.tflite"), ("onnxruntime", "mcu_int8.onnx"), ("tflm", "mcu_int8.tflite")]


@pytest.fixture
def broken_contract(monkeypatch):
    """Our own contract inference, which every backend's constructor runs, failing as a bug would."""

    def broken(*args, **kwargs):
        raise IndexError("a bug of ours")

    monkeypatch.setattr("edgemnist.predict.base.inferred_contract", broken)


@pytest.mark.parametrize(("backend", "name"), CASES)
def test_a_bug_in_a_backend_constructor_is_not_a_bad_model(broken_contract, backend, name):
    with pytest.raises(IndexError, match="a bug of ours"):
        edgemnist.load(PRETRAINED / name, backend=backend)


def test_the_cli_calls_it_an_internal_error_and_exits_3(broken_contract, tmp_path):
    from PIL import Image

    Image.new("L", (28, 28)).save(tmp_path / "digit.png")
    result = CliRunner().invoke(cli, ["predict", str(PRETRAINED / "mcu_int8.onnx"), str(tmp_path / "digit.png")])
    assert result.exit_code == 3, result.output
    assert "internal error: IndexError" in result.output and "not a valid" not in result.output
