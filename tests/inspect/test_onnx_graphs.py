"""ONNX graphs the inspector cannot fully cost: it reports what it can and names what it skipped, and a bug
of ours while costing is a bug (exit 3), never the user's "not a valid ONNX model" (exit 2)."""

import json

import pytest
from click.testing import CliRunner
from model_builders import build_onnx_conv1d

from edgemnist.cli import cli

CONV_MACS = 8 * 26 * 28 * 3  # 8×26 outputs, each over 3 columns of 28 rows


@pytest.fixture(scope="module")
def conv1d_model(tmp_path_factory):
    return build_onnx_conv1d(tmp_path_factory.mktemp("onnx") / "conv1d.onnx")


def inspect(*args):
    return CliRunner().invoke(cli, ["inspect", *map(str, args)])


def test_a_1d_convolution_is_costed_and_an_op_inspect_does_not_know_is_named(conv1d_model):
    result = inspect(conv1d_model, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    conv = next(layer for layer in report["layers"] if layer["name"] == "conv1")
    assert conv["output_shape"] == [1, 8, 26] and conv["macs"] == CONV_MACS and conv["parameters"] == 8 * 28 * 3
    assert report["not_costed"] == ["Einsum dense"]
    assert report["macs"] == CONV_MACS and report["parameters"] == 8 * 28 * 3  # what could be costed
    assert report["flash_bytes"] == (8 * 28 * 3 + 8 * 26 * 10) * 4 + 2 * 8  # every constant, the skipped op's too


def test_the_text_view_names_what_was_not_costed(conv1d_model):
    result = inspect(conv1d_model)
    assert result.exit_code == 0, result.output
    assert "not costed" in result.stdout and "Einsum dense" in result.stdout


def test_a_bug_while_costing_is_an_internal_error_not_a_bad_model(conv1d_model, monkeypatch):
    def broken(*args, **kwargs):
        raise IndexError("a bug of ours")

    monkeypatch.setattr("edgemnist.inspect.onnx.peak_live_bytes", broken)
    result = inspect(conv1d_model)
    assert result.exit_code == 3, result.output
    assert "internal error: IndexError" in result.output and "not a valid" not in result.output
