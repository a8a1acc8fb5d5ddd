"""manifest.json: a second export into the same folder adds to it, keeping what was there."""

import json

from edgemnist.export.runner import export


def test_a_second_export_merges_into_the_existing_manifest(tmp_path, trained, data_dir):
    export(trained.model_path, ["tflite"], "int8", tmp_path, calibration=50, validate=False, data=data_dir)
    export(trained.model_path, ["onnx"], "float32", tmp_path, calibration=50, validate=False, data=data_dir)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(a["file"] for a in manifest["artifacts"]) == ["seed_float32.onnx", "seed_int8.tflite"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "seed_float32.onnx", "seed_int8.tflite"]
    # the same artifact exported again replaces its entry instead of adding a second one
    export(trained.model_path, ["tflite"], "int8", tmp_path, calibration=60, validate=False, data=data_dir)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(a["file"] for a in manifest["artifacts"]) == ["seed_float32.onnx", "seed_int8.tflite"]
