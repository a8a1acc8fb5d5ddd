"""Models shipped inside the package, so ``edgemnist predict digit.png`` works with no training."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from .common.errors import EdgemnistError
from .common.render import human_bytes, text_table

PACKAGE_FOLDER = "pretrained"


def pretrained_dir() -> Path:
    return Path(str(resources.files("edgemnist") / PACKAGE_FOLDER))


def shipped_manifest() -> dict:
    path = pretrained_dir() / "manifest.json"
    if not path.is_file():
        raise EdgemnistError("this installation ships no pretrained models; pass a MODEL file")
    return json.loads(path.read_text())


def installed_runtimes() -> list[str]:
    """Which prediction runtimes this install has (checked without importing them)."""
    from importlib.util import find_spec

    return [fmt for fmt, module in (("tflite", "ai_edge_litert"), ("onnx", "onnxruntime")) if find_spec(module)]


# The model used when none is named: the micro-controller model, more accurate than edge with a quarter of its
# MACs (benchmarks/RESULTS.md).
DEFAULT_ARCH = "mcu"


def default_model(arch: str = DEFAULT_ARCH) -> Path:
    """The shipped int8 model of ``arch`` for whichever runtime is installed (LiteRT first)."""
    manifest = shipped_manifest()
    runtimes = installed_runtimes()
    for fmt in runtimes:
        for entry in manifest["models"]:
            if entry["arch"] == arch and entry["format"] == fmt:
                return pretrained_dir() / entry["file"]
    if not runtimes:
        raise EdgemnistError(
            "no runtime installed to run the shipped model: pip install 'edgemnist[tflite]' or 'edgemnist[onnx]'"
        )
    raise EdgemnistError(f"no shipped {arch} model for {', '.join(runtimes)}")


def shipped_models_text(shipped: dict) -> str:
    rows = [
        [
            m["file"],
            m["arch"],
            m["format"],
            m["quantization"],
            f"{m['accuracy']:.2%}",
            human_bytes(m["size_bytes"]),
            m["parameters"],
        ]
        for m in shipped["models"]
    ]
    table = text_table(["model", "arch", "format", "quant", "accuracy", "size", "params"], rows)
    return f"{table}\nin {shipped['folder']}"
