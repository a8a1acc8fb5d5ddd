"""Per-tensor error of a QDQ int8 ONNX model against its float ONNX model, with onnxruntime's qdq_loss_debug.

Both models are augmented to output their intermediate tensors, run on the same digits, and tensors of the
same name are matched. The error is cumulative (each tensor's float value against the int8 model's at that
point), so the first tensor where it jumps is where the damage starts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from ..common.progress import SILENT, Progress
from . import LayerAnalysis, LayerError, sqnr_db


def initializers(model) -> dict:
    from onnx import numpy_helper

    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def onnx_layers(reference_path, candidate_path, digits, progress: Progress = SILENT) -> LayerAnalysis:
    onnx = import_optional("onnx", "train")
    debug = import_optional("onnxruntime.quantization.qdq_loss_debug", "onnx")
    from ..export.onnx import calibration_reader

    reference, candidate = onnx.load(str(reference_path)), onnx.load(str(candidate_path))
    progress.say(f"qdq_loss_debug: comparing every matched tensor on {len(digits)} digits")
    with tempfile.TemporaryDirectory(prefix="edgemnist-explain-") as tmp, native_output_silenced():
        activations = {}
        for name, path in (("float", reference_path), ("qdq", candidate_path)):
            augmented = Path(tmp) / f"{name}.onnx"
            debug.modify_model_output_intermediate_tensors(str(path), str(augmented))
            input_name = onnx.load(str(augmented)).graph.input[0].name
            activations[name] = debug.collect_activations(str(augmented), calibration_reader(digits, input_name))
    matching = debug.create_activation_matching(activations["qdq"], activations["float"])
    constants = initializers(candidate)
    quantizers = {n.input[0]: n for n in candidate.graph.node if n.op_type == "QuantizeLinear"}
    weights = {
        n.output[0]: n.input[0]
        for n in candidate.graph.node
        if n.op_type == "DequantizeLinear" and n.input[0] in constants
    }
    consumers = {out: n for n in candidate.graph.node for out in n.output}
    analysis = LayerAnalysis("onnxruntime qdq_loss_debug (float against int8 at each tensor, cumulative)", len(digits))
    for node in reference.graph.node:  # execution order of the float model
        for tensor in node.output:
            match = matching.get(tensor)
            if not match or "float" not in match or "post_qdq" not in match:
                continue
            error = tensor_error(node, tensor, match, quantizers.get(tensor), constants)
            producer = consumers.get(tensor)
            weight_figures(error, producer, weights, constants, initializers(reference))
            analysis.layers.append(error)
    if not analysis.layers:
        analysis.notes.append("no tensor of the int8 model matched one of the float model by name")
    return analysis


def tensor_error(node, tensor: str, match: dict, quantizer, constants: dict) -> LayerError:
    reference = np.concatenate([np.ravel(a) for a in match["float"]]).astype(np.float64)
    quantized = np.concatenate([np.ravel(a) for a in match["post_qdq"]]).astype(np.float64)
    noise = float(np.mean((reference - quantized) ** 2))
    scale = float(np.ravel(constants[quantizer.input[1]])[0]) if quantizer is not None else None
    zero_point = (
        int(np.ravel(constants[quantizer.input[2]])[0]) if quantizer is not None and len(quantizer.input) > 2 else None
    )
    return LayerError(
        layer=node.name,
        tensor=tensor,
        op=node.op_type,
        sqnr_db=sqnr_db(float(np.mean(reference**2)), noise),
        rmse_steps=round(float(np.sqrt(noise) / scale), 3) if scale else None,
        scale=scale,
        zero_point=zero_point,
        float_min=round(float(reference.min()), 6),
        float_max=round(float(reference.max()), 6),
        zero_share=round(float(np.mean(quantized == 0)), 4),
    )


def weight_figures(error: LayerError, producer, weights: dict, constants: dict, float_constants: dict) -> None:
    """For a tensor made by a weighted node of the int8 model: its int8 weights' scales and zero share."""
    if producer is None or producer.op_type not in ("Conv", "MatMul", "Gemm"):
        return
    dequantizer_output = next((i for i in producer.input[1:2] if i in weights), None)
    if dequantizer_output is None:
        return
    q = constants[weights[dequantizer_output]]
    # onnxruntime names a quantized weight <weight>_quantized and its scales <weight>_scale
    scale = constants.get(weights[dequantizer_output].replace("_quantized", "_scale"))
    error.weight_zero_share = round(float(np.mean(q == 0)), 4)
    error.weight_scale_max = float(np.max(scale)) if scale is not None else None
    original = float_constants.get(weights[dequantizer_output].replace("_quantized", ""))
    error.weight_abs_median = float(np.median(np.abs(original))) if original is not None else None
