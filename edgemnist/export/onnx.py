"""ONNX: float32 through tf2onnx, int8 through onnxruntime's static QDQ quantization.

tf2onnx's ``from_keras`` fails on Keras 3 models, so the model is converted as a ``tf.function``.
Opset 17: what ONNX Runtime ≥ 1.13 (desktop, mobile and web builds) runs, and ≥ 13 as per-channel
QDQ quantization requires.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ..contract import to_float01
from ..common.deps import import_optional, import_tensorflow, native_output_silenced
from ..metadata import METADATA_KEY
from . import ExportJob, export_format
from .metadata import artifact_metadata

OPSET = 17
INPUT_NAME = "digits"


def convert_to_float_onnx(job: ExportJob):
    """ModelProto with a dynamic batch dimension, checked by onnx.checker."""
    tf = import_tensorflow()
    tf2onnx = import_optional("tf2onnx", "train")
    onnx = import_optional("onnx", "train")
    model = job.keras_model
    signature = (tf.TensorSpec((None, 28, 28, 1), tf.float32, name=INPUT_NAME),)
    function = tf.function(lambda digits: model(digits, training=False), input_signature=signature)
    with native_output_silenced():
        proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET)
    onnx.checker.check_model(proto)
    return proto


def calibration_reader(job: ExportJob, input_name: str):
    """Feeds the calibration digits one at a time, as onnxruntime's CalibrationDataReader expects."""
    quantization = import_optional("onnxruntime.quantization", "onnx")

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self._batches = iter([{input_name: to_float01(digit)} for digit in job.calibration])

        def get_next(self):
            return next(self._batches, None)

    return Reader()


def quantize_to_int8_onnx(job: ExportJob, float_proto):
    onnx = import_optional("onnx", "train")
    quantization = import_optional("onnxruntime.quantization", "onnx")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="edgemnist-onnx-") as tmp:
        float_path, prepared_path, int8_path = (Path(tmp) / name for name in ("float.onnx", "prep.onnx", "int8.onnx"))
        onnx.save(float_proto, float_path)
        # Symbolic shape inference would need sympy; ONNX's own shape inference suffices for this graph.
        quant_pre_process(str(float_path), str(prepared_path), skip_symbolic_shape=True)
        input_name = float_proto.graph.input[0].name
        quantization.quantize_static(
            str(prepared_path),
            str(int8_path),
            calibration_reader(job, input_name),
            quant_format=quantization.QuantFormat.QDQ,
            activation_type=quantization.QuantType.QInt8,
            weight_type=quantization.QuantType.QInt8,
            per_channel=True,
            calibrate_method=quantization.CalibrationMethod.MinMax,
        )
        return onnx.load(int8_path)


def with_metadata(proto, metadata: dict) -> bytes:
    del proto.metadata_props[:]
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    proto.producer_name = "edgemnist"
    return proto.SerializeToString()


@export_format("onnx", "onnx", ("float32", "int8"))
def onnx_artifact(job: ExportJob, quantization: str) -> dict[str, bytes]:
    float_proto = job.memo("onnx/float32", lambda: convert_to_float_onnx(job))
    proto = float_proto if quantization == "float32" else quantize_to_int8_onnx(job, float_proto)
    copy = type(proto)()
    copy.CopyFrom(proto)
    return {"": with_metadata(copy, artifact_metadata(job, "onnx", quantization))}
