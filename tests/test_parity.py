import json

import numpy as np
import pytest
from conftest import run_cli


def test_faithful_exports_pass(trained, artifact_paths, data_dir, tmp_path):
    result = run_cli(
        "parity",
        trained.model_path,
        artifact_paths["seed_float32.tflite"],
        artifact_paths["seed_float32.onnx"],
        "--atol",
        "1e-4",
        "--min-agreement",
        1.0,
        "--data",
        data_dir,
        "--json-file",
        tmp_path / "p.json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "p.json").read_text())
    assert all(r["passed"] and r["agreement"] == 1.0 for r in report["results"])


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory, trained):
    """The trained model with its weights zeroed, and with its weights perturbed by noise."""
    import keras

    folder = tmp_path_factory.mktemp("broken")
    model = keras.saving.load_model(trained.model_path)
    originals = [w.copy() for w in model.get_weights()]
    model.set_weights([np.zeros_like(w) for w in originals])
    model.save(folder / "zeroed.keras")
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in originals])
    model.save(folder / "perturbed.keras")
    return folder


@pytest.mark.parametrize("name", ["zeroed.keras", "perturbed.keras"])
def test_a_damaged_model_fails_with_exit_1(trained, broken_models, data_dir, name):
    result = run_cli("parity", trained.model_path, broken_models / name, "--data", data_dir)
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "disagrees with the reference on test images" in result.stdout


def test_bad_input_exits_2(trained, tmp_path):
    assert run_cli("parity", trained.model_path, tmp_path / "none.onnx").exit_code == 2


def foreign_model_on_0_255(float_onnx, out):
    """``float_onnx`` behind a ×1/255 input node and without our metadata: a foreign model that must be told
    --input-scale 255, and reads then exactly what ``float_onnx`` reads."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(float_onnx))
    graph = model.graph
    original = graph.input[0].name
    for node in graph.node:
        node.input[:] = ["x01" if name == original else name for name in node.input]
    graph.initializer.append(numpy_helper.from_array(np.array(1 / 255, np.float32), "per255"))
    graph.node.insert(0, helper.make_node("Mul", [original, "per255"], ["x01"]))
    del model.metadata_props[:]
    onnx.save(model, str(out))
    return out


def test_the_contract_flags_describe_the_candidates_not_the_reference(artifact_paths, data_dir, tmp_path):
    """--input-scale 255 is the foreign candidate's; the reference is read as it describes itself (it used to be
    read on 0..255 too, and the check failed on a faithful candidate)."""
    reference = artifact_paths["seed_float32.onnx"]
    candidate = foreign_model_on_0_255(reference, tmp_path / "foreign.onnx")
    result = run_cli(
        "parity", reference, candidate, "--input-scale", "255", "--atol", "1e-4", "--min-agreement", 1.0,
        "--limit", 1000, "--data", data_dir, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (comparison,) = json.loads(result.stdout)["results"]
    assert comparison["agreement"] == 1.0 and comparison["reference_accuracy"] > 0.9


def test_the_reference_runs_on_the_runtime_reference_backend_names():
    """Our C kernels against TFLite Micro itself: equal to the LSB. Against LiteRT (XNNPACK rounds some
    requantizations differently) the same 500 digits differ by several output steps, so the flag is what holds."""
    from edgemnist.pretrained import default_model

    model = default_model()
    strict = ["parity", model, model, "--backend", "mcu-c", "--max-lsb", 0, "--limit", 500, "--json"]
    against_tflm = run_cli(*strict, "--reference-backend", "tflm")
    assert against_tflm.exit_code == 0, against_tflm.output
    compared = json.loads(against_tflm.stdout)["results"][0]
    assert compared["reference"] == f"{model} (tflm)" and compared["max_abs_diff_lsb"] == 0
    against_litert = run_cli(*strict)
    assert against_litert.exit_code == 1 and json.loads(against_litert.stdout)["results"][0]["max_abs_diff_lsb"] > 0
