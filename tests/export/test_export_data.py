"""export --data: int8 calibrated on the train part of the user's digits and validated on their test part, each
recorded in the report; MNIST by default; a calibration larger than the train part is one line."""

from __future__ import annotations

import json

import own_digits
from conftest import run_cli
from own_digits import PER_CLASS

start_model, turned_digits = own_digits.start_model, own_digits.turned_digits  # the shared fixtures


def test_a_folder_calibrates_on_its_train_part_and_validates_on_its_test_part(start_model, turned_digits, tmp_path):
    split = ["--split-ratio", "50:0:50", "--split-seed", "3"]
    report_file = tmp_path / "report.json"
    result = run_cli(
        "export", start_model, "--quantize", "--data", turned_digits, *split, "--calibration", 100,
        "--out", tmp_path / "out", "--json-file", report_file, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(report_file.read_text())
    calibrated, validated = report["calibrated_on"], report["validated_on"]
    assert calibrated["source"] == str(turned_digits) and calibrated["kind"] == "folder"
    assert calibrated["part"] == "train" and calibrated["images"] == 100 and "seed 3" in calibrated["split"]
    assert validated["part"] == "test" and validated["images"] == 10 * PER_CLASS // 2
    assert report["artifacts"][0]["validation"]["images"] == validated["images"]
    assert validated["preprocessing"].startswith("photo")


def test_mnist_calibrates_on_its_training_set_and_validates_on_its_test_set(start_model, data_dir, tmp_path):
    from edgemnist.export.runner import export

    report = export(start_model, ["tflite"], "int8", tmp_path, calibration=50, data=data_dir)
    assert (report.calibrated_on["kind"], report.calibrated_on["part"], report.calibrated_on["images"]) == (
        "mnist",
        "train",
        50,
    )
    assert (report.validated_on["part"], report.validated_on["images"]) == ("test", 10_000)


def test_a_calibration_larger_than_the_train_part_is_one_line_with_the_maximum(start_model, turned_digits, tmp_path):
    result = run_cli(
        "export", start_model, "--quantize", "--data", turned_digits, "--split-ratio", "50:0:50", "--out", tmp_path,
        "--quiet",
    )  # fmt: skip
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"--calibration can be at most 200 with the train part of {turned_digits}" in result.stderr
