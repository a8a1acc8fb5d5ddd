"""TFLite via the TensorFlow converter: float32, float16 weights, dynamic-range and full-integer int8."""

from __future__ import annotations

import numpy as np

from ..common.deps import import_tensorflow, native_output_silenced
from ..contract import to_float01
from ..metadata import embed_tflite_metadata
from . import ExportJob, export_format
from .metadata import artifact_metadata


def configure(converter, calibration: np.ndarray, quantization: str) -> None:
    """The converter set for ``quantization``; int8 is calibrated on ``calibration`` (uint8 training digits)."""
    tf = import_tensorflow()
    if quantization == "float32":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        # Full integer: every op int8, and int8 input/output tensors for integer-only accelerators and MCUs.
        converter.representative_dataset = lambda: ([to_float01(digit)] for digit in calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8


def convert_to_tflite(job: ExportJob, quantization: str) -> bytes:
    tf = import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(job.keras_model)
    configure(converter, job.calibration, quantization)
    with native_output_silenced():
        model_bytes = converter.convert()
    return embed_tflite_metadata(model_bytes, artifact_metadata(job, "tflite", quantization))


@export_format("tflite", "tflite", ("float32", "float16", "dynamic", "int8"))
def tflite_artifact(job: ExportJob, quantization: str) -> dict[str, bytes]:
    return {"": job.memo(f"tflite/{quantization}", lambda: convert_to_tflite(job, quantization))}
