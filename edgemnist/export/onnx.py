"""ONNX: float32 through tf2onnx, int8 through onnxruntime's static QDQ quantization.

tf2onnx's ``from_keras`` fails on Keras 3 models, so the model is converted as a ``tf.function``.
Opset 17: what ONNX Runtime ≥ 1.13 (desktop, mobile and web builds) runs, and ≥ 13 as per-channel
QDQ quantization requires.

int8 means uint8 activations and int8 per-channel weights (U8S8, ONNX Runtime's fast path on x86 and ARM)
in QDQ format, float input and output, except a convolution over the one-channel input, which stays float32.
Both choices are measured (benchmarks/RESULTS.md, "int8 ONNX faster than float32"; ONNX Runtime 1.32, AVX-512
VNNI): with int8 activations ORT fused the convolution and dense layers but ran the max pooling in float between
Dequantize/Transpose/Quantize nodes, and the int8 seed CNN was slower than float32; with uint8 activations the
pooling runs in uint8. A 3×3 convolution over one channel has dot products 9 long, too short for the integer
GEMM kernels (QLinearConv: 809 µs of a 1,128 µs batch of 64; the float NCHWc convolution: 173 µs), and holds a
few hundred weights.

Weights are 7-bit (``reduce_range``: int8 in [-64, 64]) so that U8S8 is exact on every x86. Without VNNI (AVX2,
AVX-512 before Cascade Lake) ONNX Runtime multiplies with VPMADDUBSW, which adds two u8·s8 products into an int16
and saturates: 255·127·2 overflows it, 255·64·2 = 32,640 does not. With full-range weights the seed CNN's first
dense layer saturated on an emulated Haswell and read 5 of the 10,000 test digits differently from an AVX-512 VNNI
host (benchmarks/RESULTS.md, "int8 ONNX on x86 without VNNI"). ONNX Runtime still picks the same U8S8 kernels,
so the latency stays; int8 activations (S8S8) left the pooling in float (above), and a session option
(``session.x64quantprecision``) would have to be set by every user.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from ..common.deps import import_optional, import_tensorflow, native_output_silenced
from ..contract import to_float01
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


def calibration_reader(calibration: np.ndarray, input_name: str):
    """Feeds the calibration digits one at a time, as onnxruntime's CalibrationDataReader expects."""
    quantization = import_optional("onnxruntime.quantization", "onnx")

    class Reader(quantization.CalibrationDataReader):  # type: ignore[name-defined]  # base from a lazy import
        def __init__(self):
            self._batches = iter([{input_name: to_float01(digit)} for digit in calibration])

        def get_next(self):
            return next(self._batches, None)

    return Reader()


def single_channel_convolutions(proto) -> list[str]:
    """Conv nodes over one input channel (weights Cout×1×kh×kw, no groups): left in float32, see the docstring."""
    weights = {tensor.name: list(tensor.dims) for tensor in proto.graph.initializer}
    return [
        node.name
        for node in proto.graph.node
        if node.op_type == "Conv"
        and len(node.input) > 1
        and weights.get(node.input[1], [0, 0])[1] == 1
        and all(attribute.i == 1 for attribute in node.attribute if attribute.name == "group")
    ]


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
            calibration_reader(job.calibration, input_name),
            quant_format=quantization.QuantFormat.QDQ,
            activation_type=quantization.QuantType.QUInt8,  # U8S8, see the module's docstring
            weight_type=quantization.QuantType.QInt8,
            per_channel=True,
            reduce_range=True,  # 7-bit weights: no int16 saturation on AVX2, see the module's docstring
            calibrate_method=quantization.CalibrationMethod.MinMax,
            nodes_to_exclude=single_channel_convolutions(onnx.load(prepared_path)),
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
