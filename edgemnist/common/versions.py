"""Versions of the tools behind a result, read from package metadata (nothing heavy is imported)."""

from __future__ import annotations

import platform
from importlib import metadata

TOOLS = (
    "edgemnist",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "tf2onnx",
    "onnx",
    "onnxruntime",
    "ai-edge-litert",
    "numpy",
)


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


# pyproject.toml is the one place the version is written; an installed package carries it in its metadata.
EDGEMNIST_VERSION = package_version("edgemnist") or "0+unknown"


def tool_versions() -> dict[str, str]:
    found = {name: package_version(name) for name in TOOLS}
    if not found.get("tensorflow") and found.get("tensorflow-cpu"):
        found["tensorflow"] = found["tensorflow-cpu"]
    found.pop("tensorflow-cpu", None)
    return {"python": platform.python_version(), **{k: v for k, v in found.items() if v}}
