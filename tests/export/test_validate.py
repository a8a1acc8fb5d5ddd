"""The int8 ONNX export is validated on an emulated Haswell over the digits it was validated on here, whatever
folder they came from; where that cannot run, the manifest says it was skipped and why, and so does the console."""

import json
import shutil
from pathlib import Path

import pytest

from edgemnist.common.progress import Progress
from edgemnist.data import IDX_SHA256
from edgemnist.export.runner import export


class Said(Progress):
    def __init__(self):
        self.lines: list[str] = []

    def say(self, message: str) -> None:
        self.lines.append(message)


@pytest.fixture
def only_data_dir(tmp_path, data_dir, monkeypatch) -> str:
    """A copy of MNIST in a folder of its own, and no other source: no $EDGEMNIST_DATA, Keras cache or download."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in IDX_SHA256:
        shutil.copyfile(f"{data_dir}/{name}.gz", folder / f"{name}.gz")
    monkeypatch.delenv("EDGEMNIST_DATA", raising=False)
    monkeypatch.setattr("edgemnist.data.KERAS_CACHE", tmp_path / "no-keras-cache" / "mnist.npz")

    def no_download():
        raise OSError("no network in this test")

    monkeypatch.setattr("edgemnist.data.download_with_keras", no_download)
    return str(folder)


def int8_onnx_validation(trained, out: Path, data_dir: str, said: Said) -> dict:
    export(trained.model_path, ["onnx"], "int8", out, data=data_dir, progress=said)
    (artifact,) = json.loads((out / "manifest.json").read_text())["artifacts"]
    assert artifact["file"] == "seed_int8.onnx"
    return artifact["validation"]


def test_int8_onnx_is_validated_on_haswell_with_the_data_folder_it_was_given(trained, only_data_dir, tmp_path):
    said = Said()
    validation = int8_onnx_validation(trained, tmp_path / "export", only_data_dir, said)
    (haswell,) = validation["elsewhere"]
    assert haswell["target"]["name"] == "qemu:haswell" and haswell["target"]["cpu_model"] == "Haswell"
    assert haswell["images"] == validation["images"] == 10_000 and haswell["passed"] and validation["passed"]
    assert [line for line in said.lines if "Haswell" in line] == [
        "int8 ONNX: validated here and on an emulated Haswell (qemu:haswell: AVX2, no AVX-512 or VNNI)"
    ]


def test_without_qemu_the_manifest_records_the_haswell_check_as_skipped(trained, data_dir, tmp_path, monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if "qemu" in name else real_which(name, *a, **k))
    said = Said()
    validation = int8_onnx_validation(trained, tmp_path / "export", data_dir, said)
    reason = "qemu-x86_64 is not installed (apt-get install qemu-user)"
    assert validation["elsewhere"] == [{"target": "qemu:haswell", "skipped": reason}]
    assert validation["passed"]  # checked here; the skipped check neither passes nor fails it
    assert [line for line in said.lines if "Haswell" in line] == [
        f"int8 ONNX: not validated on an emulated Haswell (qemu:haswell): {reason}"
    ]
