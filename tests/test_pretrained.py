"""The models shipped inside the package: `edgemnist predict digit.png` with no training."""

import hashlib
import json

import pytest
from conftest import run_cli, run_without

import edgemnist
from edgemnist.inspect import inspect_model
from edgemnist.pretrained import default_model, pretrained_dir, shipped_manifest


def shipped(arch, fmt):
    return next(m for m in shipped_manifest()["models"] if m["arch"] == arch and m["format"] == fmt)


def test_the_package_ships_mcu_edge_and_seed_as_int8_tflite_and_onnx():
    names = sorted(m["file"] for m in shipped_manifest()["models"])
    assert names == [
        "edge_int8.onnx",
        "edge_int8.tflite",
        "mcu_int8.onnx",
        "mcu_int8.tflite",
        "seed_int8.onnx",
        "seed_int8.tflite",
    ]
    shipped_files = sorted(p.name for p in pretrained_dir().iterdir() if p.suffix in (".tflite", ".onnx"))
    assert shipped_files == names  # nothing shipped that the manifest does not vouch for


@pytest.mark.parametrize("entry", shipped_manifest()["models"], ids=lambda entry: entry["file"])
def test_each_shipped_file_is_the_one_its_manifest_entry_describes(entry):
    data = (pretrained_dir() / entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size_bytes"]


def test_the_mcu_model_meets_its_micro_controller_bar(mnist):
    """Issue 14's targets, on the shipped file, measured here rather than read from the manifest."""
    path = pretrained_dir() / shipped("mcu", "tflite")["file"]
    assert float((edgemnist.load(path).predict(mnist.x_test) == mnist.y_test).mean()) >= 0.994
    inspection = inspect_model(path)
    assert inspection.parameters <= 20_000 and inspection.macs <= 1_500_000
    assert path.stat().st_size <= 32_000
    from edgemnist.predict.tflm import measure_arena

    assert measure_arena(path) <= 24_000


def test_the_edge_model_meets_its_bar(mnist):
    entry = shipped("edge", "tflite")
    path = pretrained_dir() / entry["file"]
    accuracy = float((edgemnist.load(path).predict(mnist.x_test) == mnist.y_test).mean())
    assert accuracy >= 0.992 and accuracy == pytest.approx(entry["accuracy"])
    assert path.stat().st_size <= 100 * 1024
    assert inspect_model(path).parameters <= 60_739


def test_predict_without_a_model_uses_the_shipped_mcu_model(digit_png):
    assert default_model().name == "mcu_int8.tflite"
    result = run_cli("predict", digit_png, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["label"] == "9"


def test_models_lists_what_is_shipped():
    result = run_cli("models")
    assert result.exit_code == 0 and "edge_int8.tflite" in result.stdout and "%" in result.stdout


def test_a_device_with_only_onnxruntime_uses_the_onnx_mcu_model(digit_png):
    result = run_without(["tensorflow", "keras", "ai_edge_litert"], "predict", digit_png, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["label"] == "9"


def test_a_device_with_no_runtime_is_told_what_to_install(digit_png):
    result = run_without(["ai_edge_litert", "onnxruntime"], "predict", digit_png)
    assert result.returncode == 2 and "pip install 'edgemnist[tflite]'" in result.stderr
