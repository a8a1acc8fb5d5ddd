"""A device has a runtime but no TensorFlow: prediction and evaluation must not need it."""

import json

import pytest
from conftest import run_without

NO_TENSORFLOW = ("tensorflow", "keras", "tf2onnx")


@pytest.mark.parametrize("name", ["seed_int8.onnx", "seed_int8.tflite", "seed_float32.onnx"])
def test_predict_and_evaluate_without_tensorflow(artifact_paths, digit_png, data_dir, name):
    predicted = run_without(NO_TENSORFLOW, "predict", artifact_paths[name], digit_png, "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)[0]["label"] == "9"
    evaluated = run_without(
        NO_TENSORFLOW, "evaluate", artifact_paths[name], "--limit", 1000, "--json", "--data", data_dir
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] > 0.9


def test_a_keras_model_on_a_device_asks_for_the_train_extra(trained, digit_png):
    result = run_without(NO_TENSORFLOW, "predict", trained.model_path, digit_png)
    assert result.returncode == 2
    assert "pip install 'edgemnist[train]'" in result.stderr


@pytest.mark.parametrize(
    "name, blocked", [("seed_int8.tflite", ("onnxruntime", "onnx")), ("seed_int8.onnx", ("ai_edge_litert",))]
)
def test_inspect_works_on_a_device_install(artifact_paths, name, blocked):
    result = run_without(NO_TENSORFLOW + blocked, "inspect", artifact_paths[name], "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["parameters"] == 607_394
