"""The runtime-agnostic predictor over every exported artifact and over foreign models."""

import shutil

import numpy as np
import pytest
from conftest import run_cli, run_without
from model_builders import build_onnx, build_tflite, reference_logits, softmax
from runtime_reference import direct_probabilities

import edgemnist

RUNNABLE = [
    "seed_float32.tflite",
    "seed_float16.tflite",
    "seed_dynamic.tflite",
    "seed_int8.tflite",
    "seed_float32.onnx",
    "seed_int8.onnx",
]
BACKEND_OF = {"tflite": "litert", "onnx": "onnxruntime"}


@pytest.mark.parametrize("name", RUNNABLE)
def test_load_answers_like_a_bare_runtime_call(artifact_paths, mnist, name):
    predictor = edgemnist.load(artifact_paths[name], threads=1)
    assert predictor.backend == BACKEND_OF[name.rsplit(".", 1)[1]]
    ours = predictor.predict_proba(mnist.x_test)
    direct = direct_probabilities(artifact_paths[name], mnist.x_test)
    assert np.abs(ours - direct).max() <= 1e-6
    assert np.mean(ours.argmax(1) == mnist.y_test) == np.mean(direct.argmax(1) == mnist.y_test) > 0.95


@pytest.mark.parametrize("name", [*RUNNABLE, "keras"])
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_any_batch_size_gives_the_same_probabilities(artifact_paths, trained, mnist, name, batch):
    predictor = edgemnist.load(trained.model_path if name == "keras" else artifact_paths[name])
    digits = mnist.x_test[:130]
    whole = predictor.predict_proba(digits)
    pieces = np.concatenate([predictor.predict_proba(digits[i : i + batch]) for i in range(0, 130, batch)])
    assert pieces.shape == (130, 10) and pieces.dtype == np.float32
    assert np.allclose(pieces, whole, atol=1e-5)
    assert np.allclose(whole.sum(axis=1), 1.0, atol=2e-2)


def test_the_tutorials_one_liner(artifact_paths, mnist):
    predictor = edgemnist.load(artifact_paths["seed_int8.onnx"])
    assert predictor.predict(mnist.x_test[4444])[0] == mnist.y_test[4444] == 9


def test_backend_is_chosen_by_content_not_suffix(tmp_path, artifact_paths):
    renamed = tmp_path / "model.bin"
    shutil.copy(artifact_paths["seed_int8.tflite"], renamed)
    assert edgemnist.load(renamed).backend == "litert"


@pytest.mark.parametrize("layout", ["NHWC", "NCHW", "NHW", "flat"])
@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("softmax_output", [False, True])
def test_foreign_onnx_models_are_understood(tmp_path, mnist, layout, dtype, softmax_output):
    path = build_onnx(tmp_path / "m.onnx", layout, dtype, softmax_output)
    predictor = edgemnist.load(path)
    assert predictor.contract.layout == layout
    assert predictor.contract.output == ("probabilities" if softmax_output else "logits")
    digits = mnist.x_test[:20]
    assert np.allclose(predictor.predict_proba(digits), softmax(reference_logits(digits)), atol=1e-5)


def test_a_fixed_batch_is_chunked_and_padded(tmp_path, mnist):
    predictor = edgemnist.load(build_onnx(tmp_path / "fixed.onnx", batch=4))
    assert predictor.fixed_batch == 4
    digits = mnist.x_test[:7]
    assert np.allclose(predictor.predict_proba(digits), softmax(reference_logits(digits)), atol=1e-5)


def test_input_scale_and_normalize_flags_reach_the_model(tmp_path, mnist):
    path = build_onnx(tmp_path / "m.onnx")
    digits = mnist.x_test[:10]
    scaled = edgemnist.load(path, input_scale=255.0).predict_proba(digits)
    assert np.allclose(scaled, softmax(reference_logits(digits, 255.0)), atol=1e-4)
    normalized = edgemnist.load(path, normalize=(0.5, 0.5)).contract
    assert (normalized.mean, normalized.std) == (0.5, 0.5)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("quantized", [False, True])
def test_foreign_tflite_models_are_understood(tmp_path, mnist, layout, quantized):
    predictor = edgemnist.load(build_tflite(tmp_path / "m.tflite", layout, quantized, batch=1))
    assert predictor.fixed_batch == 1 and predictor.contract.layout == layout
    assert predictor.contract.dtype == ("uint8" if quantized else "float32")
    digits = mnist.x_test[:50]
    expected = softmax(reference_logits(digits))
    got = predictor.predict_proba(digits)
    if quantized:
        assert np.mean(got.argmax(1) == expected.argmax(1)) >= 0.9
    else:
        assert np.allclose(got, expected, atol=1e-5)


def test_an_input_that_cannot_be_a_digit_says_its_shape(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    source = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])
    target = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 32, 32])
    model = helper.make_model(
        helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [source], [target]),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    model.ir_version = 8
    onnx.save(model, tmp_path / "cifar.onnx")
    result = run_cli("evaluate", tmp_path / "cifar.onnx", "--limit", 10)
    assert result.exit_code == 2 and "[None, 3, 32, 32] cannot be an MNIST digit" in result.stderr


def bad_model(tmp_path, kind, artifact_paths):
    if kind == "empty":
        (tmp_path / "m.onnx").write_bytes(b"")
    elif kind == "truncated-onnx":
        (tmp_path / "m.onnx").write_bytes(artifact_paths["seed_float32.onnx"].read_bytes()[:5000])
    elif kind == "random":
        (tmp_path / "m.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "unknown":
        (tmp_path / "m.onnx").write_bytes(b"GIF89a not a model at all")
    return tmp_path / "m.onnx"


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "model file is empty"),
        ("truncated-onnx", "not a valid ONNX model"),
        ("random", "unknown model format"),
        ("unknown", "unknown model format"),
    ],
)
def test_bad_models_fail_cleanly(tmp_path, artifact_paths, digit_png, kind, message):
    model = bad_model(tmp_path, kind, artifact_paths)
    result = run_cli("predict", model, digit_png)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_bad_paths_fail_cleanly(tmp_path, artifact_paths, digit_png):
    model = artifact_paths["seed_int8.onnx"]
    assert "image not found" in run_cli("predict", model, tmp_path / "none.png").stderr
    assert "is a directory" in run_cli("predict", model, tmp_path).stderr
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cli("predict", model, tmp_path / "notes.txt")
    assert result.exit_code == 2 and "not an image" in result.stderr
    assert "model not found" in run_cli("evaluate", tmp_path / "gone.onnx").stderr


def test_a_missing_runtime_gives_install_advice(artifact_paths, digit_png):
    result = run_without(["onnxruntime"], "predict", artifact_paths["seed_int8.onnx"], digit_png)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: onnxruntime is not installed; install it with: pip install 'edgemnist[onnx]'"
    )
