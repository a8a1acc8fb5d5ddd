import json

import pytest
from conftest import run_cli

from edgemnist.inspect import inspect_model
from edgemnist.pretrained import pretrained_dir

SEED_MACS = 26 * 26 * 28 * 9 + 4732 * 128 + 128 * 10


def test_the_seed_model_reports_its_607394_parameters(trained):
    result = run_cli("inspect", trained.model_path, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["parameters"] == 607_394 and report["macs"] == SEED_MACS and report["not_costed"] == []
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
    assert found.parameters == 607_394 and found.macs == SEED_MACS and found.not_costed == []
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


@pytest.mark.parametrize("path", sorted(pretrained_dir().glob("*_int8.*")), ids=lambda path: path.name)
def test_every_shipped_model_is_costed_whole(path):
    found = inspect_model(path)
    assert found.not_costed == [] and found.macs > 0 and not any("not costed" in note for note in found.notes)


def test_a_keras_1d_convolution_is_costed_and_a_layer_inspect_cannot_cost_is_named(tmp_path):
    from edgemnist.common.deps import import_keras

    keras = import_keras()
    digits = keras.Input((28, 28))  # each digit's 28 rows as a sequence of 28 columns
    features = keras.layers.SimpleRNN(4, name="rnn")(keras.layers.Conv1D(8, 3, name="conv1")(digits))
    keras.Model(digits, keras.layers.Dense(10, activation="softmax", name="dense")(features)).save(tmp_path / "m.keras")
    found = inspect_model(tmp_path / "m.keras")
    assert found.not_costed == ["SimpleRNN rnn"] and found.macs == 26 * 8 * 3 * 28 + 4 * 10
    assert found.parameters == (3 * 28 * 8 + 8) + (8 * 4 + 4 * 4 + 4) + (4 * 10 + 10)  # Keras counts them all
