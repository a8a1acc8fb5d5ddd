"""Exporters: one module per format, each registering a converter for the quantizations it offers.

``export()`` runs every requested (format, quantization), writes each artifact atomically, validates
it in its real runtime against the Keras model and records it in ``manifest.json``.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..common.registry import Registry

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    quantizations: tuple
    convert: Callable  # (ExportJob, quantization) -> {file suffix: bytes}; "" is the model file itself
    validated: bool = True  # False for source-code formats that wrap another artifact


FORMATS: Registry[Format] = Registry("export format", package=__name__)


def export_format(name: str, extension: str, quantizations: tuple, validated: bool = True):
    """Decorator registering ``convert(job, quantization)`` for a format."""

    def add(convert):
        FORMATS.register(name)(Format(name, extension, quantizations, convert, validated))
        return convert

    return add


@dataclass
class ExportJob:
    """What every converter needs: the Keras model, where it came from, and calibration digits."""

    keras_model: Any  # a keras.Model (Keras is imported lazily)
    arch: str
    source_path: Path
    source_sha256: str  # of the .keras file: changes with every save (its zip holds timestamps)
    weights_sha256: str  # of the trained weights: what the artifacts carry, so a rebuild is byte-identical
    calibration: np.ndarray  # uint8 N×28×28 from the training set
    cache: dict = field(default_factory=dict)  # artifacts one converter builds on another's (e.g. int8 ONNX on float32)

    def memo(self, key: str, build: Callable):
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]


def weights_sha256(keras_model) -> str:
    """sha256 over every weight's dtype, shape and bytes, in layer order: the trained function's identity."""
    digest = hashlib.sha256()
    for weight in keras_model.get_weights():
        digest.update(f"{weight.dtype}{weight.shape}".encode())
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def artifact_name(arch: str, fmt: Format, quantization: str) -> str:
    return f"{arch}_{quantization}.{fmt.extension}"


def load_formats() -> None:
    """Import the format modules so they register themselves (their runtimes stay unimported)."""
    FORMATS.names()


@functools.cache
def format_names() -> list[str]:
    load_formats()
    return FORMATS.names()
