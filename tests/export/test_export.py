"""Every format × quantization of a small trained model, validated in its real runtime."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from runtime_reference import direct_probabilities

import edgemnist
from edgemnist.common.deps import import_keras
from edgemnist.export.runner import export, plan

ARTIFACTS = [
    "seed_float32.tflite",
    "seed_float16.tflite",
    "seed_dynamic.tflite",
    "seed_int8.tflite",
    "seed_float32.onnx",
    "seed_int8.onnx",
]
EXPECTED_IO = {  # input dtype, output dtype
    "seed_int8.tflite": ("int8", "int8"),
    "seed_int8.onnx": ("float32", "float32"),  # QDQ: quantized inside, float at the edges
}


def entry(manifest, name):
    return next(a for a in manifest["artifacts"] if a["file"] == name)


@pytest.fixture(scope="module")
def keras_probabilities(trained, mnist):
    from edgemnist.common.deps import import_keras

    model = import_keras().saving.load_model(trained.model_path, compile=False)
    return model.predict(mnist.x_test.astype(np.float32)[..., None] / 255.0, batch_size=1000, verbose=0)


@pytest.mark.parametrize("name", ARTIFACTS)
def test_artifact_passes_its_validation_gate(manifest, artifact_paths, keras_probabilities, mnist, name):
    """Recomputed here with bare runtime calls against Keras' own predict, then held against the manifest."""
    direct = direct_probabilities(artifact_paths[name], mnist.x_test)
    agreement = float(np.mean(direct.argmax(1) == keras_probabilities.argmax(1)))
    drop = 100 * (np.mean(keras_probabilities.argmax(1) == mnist.y_test) - np.mean(direct.argmax(1) == mnist.y_test))
    max_abs_diff = float(np.abs(direct - keras_probabilities).max())
    quantization = entry(manifest, name)["quantization"]
    if quantization == "float32":
        assert agreement == 1.0 and max_abs_diff <= 1e-4
    elif quantization == "float16":
        assert max_abs_diff <= 1e-2
    else:
        assert agreement >= 0.995 and drop <= 0.3
    recorded = entry(manifest, name)
    assert recorded["passed"] is True and recorded["validation"]["images"] == 10000
    assert recorded["validation"]["agreement"] == pytest.approx(
        agreement, abs=2e-4
    )  # Keras predict vs model(x): float noise


@pytest.mark.parametrize("name", ARTIFACTS)
def test_manifest_describes_each_artifact(manifest, exported, name):
    artifact = entry(manifest, name)
    path = Path(exported.out) / name
    assert artifact["size_bytes"] == path.stat().st_size
    import hashlib

    assert artifact["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert artifact["input"]["shape"] == [-1, 28, 28, 1]
    assert (artifact["input"]["dtype"], artifact["output"]["dtype"]) == EXPECTED_IO.get(name, ("float32", "float32"))
    if artifact["input"]["dtype"] == "int8":
        assert artifact["input"]["scale"] == pytest.approx(1 / 255) and artifact["input"]["zero_point"] == -128
    assert {"tensorflow", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"} <= set(manifest["tools"])


def test_int8_is_about_a_quarter_of_float32(manifest):
    assert entry(manifest, "seed_int8.tflite")["ratio_to_float32"] <= 0.26
    assert entry(manifest, "seed_float16.tflite")["ratio_to_float32"] <= 0.51


@pytest.mark.parametrize("name", ["seed_int8.tflite", "seed_float32.onnx"])
def test_models_carry_their_contract(artifact_paths, trained, name):
    predictor = edgemnist.load(artifact_paths[name])
    import hashlib

    assert predictor.metadata["arch"] == "seed"
    weights = import_keras().saving.load_model(trained.model_path, compile=False).get_weights()
    digest = hashlib.sha256(b"".join(f"{w.dtype}{w.shape}".encode() + w.tobytes() for w in weights)).hexdigest()
    assert predictor.metadata["weights_sha256"] == digest
    assert predictor.metadata["contract"]["labels"] == [str(d) for d in range(10)]


def test_bare_quantize_means_full_int8(tmp_path, trained, data_dir):
    result = run_cli(
        "export",
        trained.model_path,
        "--format",
        "tflite",
        "--quantize",
        "--out",
        tmp_path,
        "--data",
        data_dir,
        "--calibration",
        100,
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "seed_int8.tflite").is_file() and "pass" in result.output
    spec = edgemnist.load(tmp_path / "seed_int8.tflite").spec
    assert (spec.input_dtype, spec.output_dtype) == ("int8", "int8")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [a["file"] for a in manifest["artifacts"]] == ["seed_int8.tflite"]


def test_format_all_plans_every_artifact():
    names = [(f.name, q) for f, q in plan(["all"], None)]
    assert ("tflite", "float16") in names and ("onnx", "int8") in names and len(names) == 7
    assert {(f.name, q) for f, q in plan(["all"], "int8")} == {("c", "int8"), ("onnx", "int8"), ("tflite", "int8")}


def test_a_failing_artifact_is_reported_and_exits_1(tmp_path, trained, data_dir, monkeypatch):
    from edgemnist.export import validate

    strict = validate.Tolerance(min_agreement=1.0, atol=1e-9)
    monkeypatch.setitem(validate.TOLERANCES, "int8", strict)
    result = run_cli(
        "export", trained.model_path, "--quantize", "int8", "--out", tmp_path, "--data", data_dir, "--calibration", 50
    )
    assert result.exit_code == 1
    assert "FAIL" in result.output and "max |Δp|" in result.output and "failed validation" in result.stderr


def test_a_failed_conversion_leaves_no_file(tmp_path, trained, data_dir, monkeypatch):
    from edgemnist.export import FORMATS, load_formats

    load_formats()
    fmt = FORMATS.get("tflite")

    def broken(job, quantization):
        raise RuntimeError("converter crashed")

    monkeypatch.setitem(FORMATS._items, "tflite", type(fmt)(fmt.name, fmt.extension, fmt.quantizations, broken))
    with pytest.raises(RuntimeError):
        export(trained.model_path, ["tflite"], None, tmp_path, data=data_dir, validate=False)
    assert list(tmp_path.iterdir()) == []


def test_a_corrupted_artifact_is_caught(tmp_path, artifact_paths):
    damaged = tmp_path / "seed_int8.tflite"
    data = bytearray(artifact_paths["seed_int8.tflite"].read_bytes())
    damaged.write_bytes(bytes(data[: len(data) // 2]))
    result = run_cli("evaluate", damaged)
    assert result.exit_code == 2 and "not a valid TFLite model" in result.stderr


def test_a_model_that_is_not_keras_is_refused(tmp_path, artifact_paths):
    fake = tmp_path / "model.keras"
    shutil.copy(artifact_paths["seed_float32.onnx"], fake)
    result = run_cli("export", fake, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "is an ONNX model: export converts a trained Keras model (.keras)" in result.stderr


def test_an_unwritable_out_is_refused(tmp_path, trained):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("export", trained.model_path, "--out", blocker / "sub")
    assert result.exit_code == 2 and "cannot create output folder" in result.stderr


def test_calibration_is_class_balanced_fixed_and_from_the_training_set(mnist):
    from edgemnist.export.calibration import representative_indices

    chosen = representative_indices(mnist.y_train, 300)
    assert np.array_equal(chosen, representative_indices(mnist.y_train, 300))
    assert np.bincount(mnist.y_train[chosen]).tolist() == [30] * 10
    assert len(set(chosen.tolist())) == 300 and chosen.max() < 60000
