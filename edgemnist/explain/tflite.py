"""Per-layer error of a full-int8 TFLite model against its Keras reference, with TensorFlow's QuantizationDebugger.

The debugger re-quantizes the Keras model the way our exporter does (same converter settings, same calibration
digits) into a debug model whose every quantized op is checked against the same op in float, fed the same
(dequantized) inputs: the error each layer adds on its own, in execution order. The candidate file is then
read for what the debug model cannot know: whether its scales are those of the re-quantization, and its weights.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from ..common.deps import import_tensorflow, native_output_silenced
from ..common.progress import SILENT, Progress
from ..contract import to_float01
from ..tflite_graph import WEIGHTED_OPS, read_graph
from . import LayerAnalysis, LayerError, sqnr_db


def dequantized(q, scale, zero_point):
    return (q.astype(np.float64) - zero_point) * scale


# Direct-compare metrics: called per debug digit with the float op's output and the quantized op's output;
# the debugger averages each over the digits, so signal and noise powers combine into one SQNR.
METRICS = {
    "signal": lambda f, q, s, z: float(np.mean(np.square(f.astype(np.float64)))),
    "noise": lambda f, q, s, z: float(np.mean(np.square(f.astype(np.float64) - dequantized(q, s, z)))),
    "float_min": lambda f, q, s, z: float(np.min(f)),
    "float_max": lambda f, q, s, z: float(np.max(f)),
    "zero_share": lambda f, q, s, z: float(np.mean(q == z)),
}


def run_debugger(keras_model, calibration, digits, progress: Progress) -> list[dict]:
    """The debugger's per-layer rows (op_name, tensor_name, scale, zero_point and METRICS) in execution order."""
    tf = import_tensorflow()
    from ..export.tflite import configure

    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    configure(converter, calibration, "int8")
    options = tf.lite.experimental.QuantizationDebugOptions(layer_direct_compare_metrics=METRICS)
    progress.say(f"QuantizationDebugger: re-quantizing the reference and comparing every layer on {len(digits)} digits")
    debug_dataset = lambda: ([to_float01(d)] for d in digits)  # noqa: E731
    with native_output_silenced():
        # Built from a converter, the debugger's interpreter reuses tensor memory, so the float tensors handed to
        # direct-compare metrics are overwritten by later ops (TF 2.x); built from the debug model it made, it
        # preserves every tensor. Hence two steps: convert once, then debug that model.
        converted = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=debug_dataset)
        debugger = tf.lite.experimental.QuantizationDebugger(
            quant_debug_model_content=converted.quant_model, debug_dataset=debug_dataset, debug_options=options
        )
        with progress.bar("per-layer error", 1) as advance:
            debugger.run()
            advance()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    dump.seek(0)
    return list(csv.DictReader(dump))


def keras_layer_names(tensor_names: list[str], layer_names: list[str]) -> list[str | None]:
    """Map each op's tensor to the Keras layer that made it, walking both in execution order.

    TensorFlow names an op ``<model>_1/<layer>_<k>/MatMul`` (fused ops join several such names with ``;``): the
    layer's name with suffixes TF added to keep scopes unique, so ``dense_1`` may be the layer ``dense`` or
    ``dense_1``. Order settles it: the earliest layer after the last matched one whose name is a scope, or a
    scope without trailing ``_<k>`` parts. An op matching none (e.g. the final softmax) gets None.
    """
    names, position = [], -1
    for tensor in tensor_names:
        candidates = set()
        for part in tensor.split(";"):
            scopes = part.split("/")
            scope = scopes[1] if len(scopes) > 2 else None
            while scope:
                candidates.add(scope)
                scope = re.sub(r"_\d+$", "", scope) if re.search(r"_\d+$", scope) else None
        found = next((i for i in range(position + 1, len(layer_names)) if layer_names[i] in candidates), None)
        names.append(None if found is None else layer_names[found])
        position = position if found is None else found
    return names


def candidate_tensors(candidate_path) -> tuple[dict, dict]:
    """{tensor name: detail} and {output tensor index: weight tensor index} of the candidate model."""
    from pathlib import Path

    from ..inspect.tflite import open_interpreter

    interpreter = open_interpreter(candidate_path)
    details = {d["name"]: d for d in interpreter.get_tensor_details()}
    ops = read_graph(Path(candidate_path).read_bytes()).ops  # the flatbuffer's op list, through the public schema
    weights = {int(op["outputs"][0]): int(op["inputs"][1]) for op in ops if op["op_name"] in WEIGHTED_OPS}
    return details, {"interpreter": interpreter, "weights": weights}


def weight_figures(layer_error: LayerError, keras_layer, detail, candidate) -> None:
    """Fill the layer's weight figures from the candidate's int8 weights and the Keras layer's float kernel."""
    weight_index = candidate["weights"].get(detail["index"]) if detail else None
    if weight_index is None:
        return
    interpreter = candidate["interpreter"]
    weight_detail = next(d for d in interpreter.get_tensor_details() if d["index"] == weight_index)
    q = interpreter.get_tensor(weight_index)
    scales = weight_detail["quantization_parameters"]["scales"]
    layer_error.weight_zero_share = round(float(np.mean(q == 0)), 4)
    layer_error.weight_scale_max = float(np.max(scales)) if len(scales) else None
    kernels = keras_layer.get_weights() if keras_layer is not None else []
    if kernels:
        layer_error.weight_abs_median = float(np.median(np.abs(kernels[0])))


def tflite_layers(reference_path, candidate_path, calibration, digits, progress: Progress = SILENT) -> LayerAnalysis:
    from ..predict.keras import KerasPredictor

    model = KerasPredictor(reference_path).model
    rows = run_debugger(model, calibration, digits, progress)
    layers_by_name = {layer.name: layer for layer in model.layers}
    names = keras_layer_names([r["tensor_name"] for r in rows], list(layers_by_name))
    details, candidate = candidate_tensors(candidate_path)
    analysis = LayerAnalysis(
        "TensorFlow Lite QuantizationDebugger (error each layer adds, its inputs shared)", len(digits)
    )
    differing, previous = [], None
    for row, name in zip(rows, names):
        scale, zero_point = float(row["scale"]), int(float(row["zero_point"]))
        signal, noise = float(row["signal"]), float(row["noise"])
        detail = details.get(row["tensor_name"])
        own_scales = detail["quantization_parameters"]["scales"] if detail else []
        if not len(own_scales) or not np.isclose(own_scales[0], scale, rtol=1e-4):
            differing.append(row["tensor_name"])
        layer_name = name or previous  # an op without a layer scope (the final softmax) belongs to the layer before
        error = LayerError(
            layer=layer_name or row["tensor_name"],
            tensor=row["tensor_name"],
            op=row["op_name"],
            sqnr_db=sqnr_db(signal, noise),
            rmse_steps=round(float(np.sqrt(noise) / scale), 3),
            scale=scale,
            zero_point=zero_point,
            float_min=round(float(row["float_min"]), 6),
            float_max=round(float(row["float_max"]), 6),
            zero_share=round(float(row["zero_share"]), 4),
            matched=name is not None,
        )
        weight_figures(error, layers_by_name.get(name), detail, candidate)
        analysis.layers.append(error)
        previous = layer_name
    if differing:
        analysis.notes.append(
            f"{len(differing)} of {len(rows)} tensors of the candidate are not quantized like edgemnist's int8 export "
            "of "
            f"the reference (e.g. {differing[0]}): the per-layer figures describe that re-quantization, not the "
            "candidate"
        )
    return analysis
