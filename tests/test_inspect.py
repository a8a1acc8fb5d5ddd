import json

import pytest
from conftest import run_cli

from edgemnist.inspect import inspect_model

SEED_MACS = 26 * 26 * 28 * 9 + 4732 * 128 + 128 * 10


def test_the_seed_model_reports_its_607394_parameters(trained):
    result = run_cli("inspect", trained.model_path, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["parameters"] == 607_394 and report["macs"] == SEED_MACS
    assert report["flash_bytes"] == 607_394 * 4
    assert report["arena_bytes"] == (26 * 26 * 28 + 13 * 13 * 28) * 4  # conv output and pool output live together


@pytest.mark.parametrize(
    "name",
    [
        "seed_float32.tflite",
        "seed_float16.tflite",
        "seed_dynamic.tflite",
        "seed_int8.tflite",
        "seed_float32.onnx",
        "seed_int8.onnx",
    ],
)
def test_totals_agree_across_formats(artifact_paths, name):
    found = inspect_model(artifact_paths[name])
    assert found.parameters == 607_394 and found.macs == SEED_MACS
    bytes_per_weight = {"float32": 4, "float16": 2, "dynamic": 1, "int8": 1}[name.split("_")[1].split(".")[0]]
    assert found.flash_bytes == pytest.approx(607_394 * bytes_per_weight, rel=0.02)


def test_int8_activations_take_a_quarter_of_the_float_arena(artifact_paths):
    int8, float32 = (inspect_model(artifact_paths[f"seed_{q}.tflite"]).activation_bytes for q in ("int8", "float32"))
    assert int8 * 4 == pytest.approx(float32, abs=4 * 16)  # TFLite Micro rounds each buffer up to 16 bytes


def test_int8_weights_show_their_quantization(artifact_paths):
    conv = next(layer for layer in inspect_model(artifact_paths["seed_int8.tflite"]).layers if layer.type == "CONV_2D")
    assert conv.weight_dtype == "int8" and conv.quantization["per_channel"] and conv.quantization["zero_point"][0] == 0


def test_inspect_table(artifact_paths):
    result = run_cli("inspect", artifact_paths["seed_int8.tflite"])
    assert result.exit_code == 0 and "607,394 parameters" in result.stdout and "FULLY_CONNECTED" in result.stdout
