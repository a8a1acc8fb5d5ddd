import subprocess

import pytest
from conftest import run_cli

from edgemnist.export.c import c_header, c_identifier, c_source


def test_c_export_compiles_and_holds_the_int8_model(exported, artifact_paths, tmp_path):
    source = artifact_paths["seed_int8.tflite"].with_suffix(".c")
    header = source.with_suffix(".h")
    assert source.is_file() and header.is_file()
    subprocess.run(
        ["cc", "-c", "-Wall", "-Werror", "-std=c99", str(source), "-o", str(tmp_path / "model.o")], check=True
    )
    # The array is the int8 TFLite model byte for byte.
    model = artifact_paths["seed_int8.tflite"].read_bytes()
    text = source.read_text()
    assert f"seed_int8_model_len = {len(model)}u" in text
    first_bytes = ", ".join(f"0x{b:02x}" for b in model[:12])
    assert first_bytes in text and "aligned(16)" in text
    assert (
        "seed_int8_input_zero_point = -128" in text
        and "extern const char *const seed_int8_labels[10];" in header.read_text()
    )


def test_c_format_from_the_cli(tmp_path, trained, data_dir):
    result = run_cli(
        "export", trained.model_path, "--format", "c", "--out", tmp_path, "--data", data_dir, "--calibration", 50
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "seed_int8.c", "seed_int8.h"]


@pytest.mark.parametrize(
    "name, identifier",
    [
        ("seed_int8", "seed_int8"),
        ("my model-2.v1_int8", "my_model_2_v1_int8"),
        ("9net_int8", "model_9net_int8"),
        ("ünï code", "n_code"),
        ("--", "model"),
    ],
)
def test_generated_c_identifiers_are_valid_c_whatever_the_model_is_called(name, identifier, tmp_path):
    assert c_identifier(name) == identifier
    header = f"{name}.h"
    (tmp_path / header).write_text(c_header(identifier))
    quant = {"input_scale": 1 / 255, "input_zero_point": -128, "output_scale": 1 / 256, "output_zero_point": -128}
    source = tmp_path / "model.c"
    source.write_text(c_source(identifier, header, b"TFL3\x00\x01", quant, "0" * 64))
    subprocess.run(
        ["cc", "-c", "-Wall", "-Werror", "-std=c99", str(source), "-o", str(tmp_path / "model.o")], check=True
    )
