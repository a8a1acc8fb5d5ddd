"""Runtime-agnostic prediction: ``load(path)`` picks the backend from the file's content.

Each backend is one module that registers itself; its runtime is imported only when a model is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..common.errors import EdgemnistError
from ..common.files import require_file
from ..common.registry import Registry
from .base import Predictor

BACKENDS: Registry[type[Predictor]] = Registry("runtime backend", package=__name__)


def detect_backend(path: Path) -> str:
    """Magic bytes, not the suffix: a renamed file still loads, a random file is refused."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        raise EdgemnistError(f"model file is empty: {path}")
    for name, backend in BACKENDS.items():
        if backend.sniff(head):
            return name
    raise EdgemnistError(f"{path}: unknown model format (expected a Keras .keras, TFLite .tflite or ONNX .onnx file)")


def load(path, threads: int | None = None, input_scale=None, normalize=None, backend: str | None = None) -> Predictor:
    """Open ``path`` with the runtime its format needs and return a Predictor; a file the runtime cannot
    take (corrupted, truncated, foreign) is one line of EdgemnistError (each backend maps its runtime's refusal)."""
    path = require_file(path, "model")
    cls: Any = BACKENDS.get(backend or detect_backend(path))  # each backend class takes its own options
    return cls(path, threads=threads, input_scale=input_scale, normalize=normalize)


def looks_like_model(path) -> bool:
    try:
        detect_backend(require_file(path))
        return True
    except EdgemnistError:
        return False
