import json

import numpy as np
from conftest import run_cli


def keras_top1(path, digits):
    """Top-1 answers straight from Keras, not through edgemnist's predictors."""
    from edgemnist.common.deps import import_keras

    model = import_keras().models.load_model(path)
    return model.predict(digits[..., None].astype(np.float32) / 255, verbose=0, batch_size=500).argmax(axis=1)


def explain_json(tmp_path, reference, candidate, *extra):
    result = run_cli("explain", reference, candidate, "--out", tmp_path, "--quiet", *extra)
    assert result.exit_code == 0, result.output
    return result.output, json.loads((tmp_path / "explain.json").read_text())


def test_the_broken_float_model_answers_as_before(broken, mnist):
    before, after = keras_top1(broken.original, mnist.x_test), keras_top1(broken.keras, mnist.x_test)
    assert np.mean(before == after) >= 0.999


def test_broken_dense_is_named_the_suspect_in_tflite(broken, tmp_path, data_dir):
    output, report = explain_json(tmp_path, broken.keras, broken.tflite, "--data", data_dir)
    assert report["suspect"] == "dense"  # the Keras layer's own name, not conv2d before it
    assert "suspect: dense —" in output
    layers = {layer["layer"]: layer for layer in report["layers"]["layers"]}
    assert layers["conv2d"]["sqnr_db"] > 25 and layers["dense"]["sqnr_db"] < 5
    assert report["comparison"]["agreement"] < 0.9  # the int8 model really is broken
    assert report["outputs"]["disagreements"]
    assert (tmp_path / "gallery.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "suspect" in (tmp_path / "explain.md").read_text()


def test_broken_dense_is_named_the_suspect_in_onnx(broken, tmp_path, data_dir):
    import onnx

    _, report = explain_json(tmp_path, broken.float_onnx, broken.onnx, "--data", data_dir)
    graph = onnx.load(str(broken.float_onnx)).graph
    shapes = {i.name: tuple(i.dims) for i in graph.initializer}
    dense = next(n for n in graph.node if n.op_type == "MatMul" and shapes.get(n.input[1], ())[:1] == (4732,))
    assert report["suspect"] is not None
    assert report["suspect"].rsplit("/", 1)[0] == dense.name.rsplit("/", 1)[0]  # a node of the dense layer
    assert report["suspect"] in {n.name for n in graph.node}


def test_a_faithful_export_has_no_suspect(trained, artifact_paths, tmp_path, data_dir):
    output, report = explain_json(tmp_path, trained.model_path, artifact_paths["seed_int8.tflite"], "--data", data_dir)
    assert report["suspect"] is None
    assert "suspect: none" in output
    assert [layer["layer"] for layer in report["layers"]["layers"]][:4] == [
        "conv2d",
        "max_pooling2d",
        "flatten",
        "dense",
    ]
    assert all(layer["sqnr_db"] > 20 for layer in report["layers"]["layers"])


def test_unmatched_layers_fall_back_to_outputs(trained, artifact_paths, tmp_path, data_dir):
    _, report = explain_json(
        tmp_path, trained.model_path, artifact_paths["seed_int8.onnx"], "--data", data_dir, "--limit", "500"
    )
    assert report["layers"] is None and report["suspect"] is None
    assert "output-level analysis only" in report["notes"][0]
    assert len(report["outputs"]["per_class"]) == 10
    assert report["images"] == 500
