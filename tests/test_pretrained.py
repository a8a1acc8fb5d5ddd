"""The models shipped inside the package: `edgemnist predict digit.png` with no training."""
import json

import pytest

import edgemnist
from conftest import run_cli, run_without
from edgemnist.inspect import inspect_model
from edgemnist.pretrained import default_model, pretrained_dir, shipped_manifest


def shipped(arch, fmt):
    return next(m for m in shipped_manifest()["models"] if m["arch"] == arch and m["format"] == fmt)


def test_the_package_ships_edge_and_seed_as_int8_tflite_and_onnx():
    names = sorted(m["file"] for m in shipped_manifest()["models"])
    assert names == ["edge_int8.onnx", "edge_int8.tflite", "seed_int8.onnx", "seed_int8.tflite"]
    for entry in shipped_manifest()["models"]:
        path = pretrained_dir() / entry["file"]
        assert path.stat().st_size == entry["size_bytes"]


def test_the_edge_model_meets_its_bar(mnist):
    entry = shipped("edge", "tflite")
    path = pretrained_dir() / entry["file"]
    accuracy = float((edgemnist.load(path).predict(mnist.x_test) == mnist.y_test).mean())
    assert accuracy >= 0.992 and accuracy == pytest.approx(entry["accuracy"])
    assert path.stat().st_size <= 100 * 1024
    assert inspect_model(path).parameters <= 60_739


def test_predict_without_a_model_uses_the_shipped_edge_model(digit_png):
    assert default_model().name == "edge_int8.tflite"
    result = run_cli("predict", digit_png, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["label"] == "9"


def test_models_lists_what_is_shipped():
    result = run_cli("models")
    assert result.exit_code == 0 and "edge_int8.tflite" in result.stdout and "%" in result.stdout


def test_a_device_with_only_onnxruntime_uses_the_onnx_edge_model(digit_png):
    result = run_without(["tensorflow", "keras", "ai_edge_litert"], "predict", digit_png, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["label"] == "9"


def test_a_device_with_no_runtime_is_told_what_to_install(digit_png):
    result = run_without(["ai_edge_litert", "onnxruntime"], "predict", digit_png)
    assert result.returncode == 2 and "pip install 'edgemnist[tflite]'" in result.stderr
