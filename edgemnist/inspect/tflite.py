"""TFLite models, read through LiteRT without its default delegates (so the op list is the model's)."""
from __future__ import annotations

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from . import INSPECTORS, Inspection, Layer, Tensor, conv_macs, peak_live_bytes

WEIGHTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}


def open_interpreter(path):
    litert = import_optional("ai_edge_litert.interpreter", "tflite")
    with native_output_silenced():
        interpreter = litert.Interpreter(
            model_path=str(path), experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
        interpreter.allocate_tensors()
    return interpreter


def op_macs(kind: str, tensors: dict, op) -> int:
    output = tensors[op["outputs"][0]]["shape"]
    if kind not in WEIGHTED_OPS:
        return 0
    weights = tensors[op["inputs"][1]]["shape"]
    if kind == "FULLY_CONNECTED":
        return int(np.prod(output[:-1]) * weights[0] * weights[1])
    if kind == "DEPTHWISE_CONV_2D":
        return conv_macs(int(np.prod(output)), weights[1], weights[2], 1)
    return conv_macs(int(np.prod(output)), weights[1], weights[2], weights[3])


def weight_quantization(detail) -> dict | None:
    params = detail.get("quantization_parameters") or {}
    scales = params.get("scales")
    if scales is None or not len(scales):
        return None
    return {"scale": [float(s) for s in scales[:8]], "zero_point": [int(z) for z in params["zero_points"][:8]],
            "per_channel": len(scales) > 1}


@INSPECTORS.register("litert")
def inspect_tflite(path) -> Inspection:
    interpreter = open_interpreter(path)
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    produced = {int(i): pos for pos, op in enumerate(ops) for i in op["outputs"]}
    graph_inputs = {d["index"] for d in interpreter.get_input_details()}
    consumed = {int(i) for op in ops for i in op["inputs"] if i >= 0}
    # Constants feed ops and are made by none; tensors no op names are the kernels' own scratch space.
    constants = {i for i in consumed if i not in produced and i not in graph_inputs}
    referenced = consumed | set(produced)
    # Weights stored as float16 are turned to float32 once, at load: they belong to the weights, not the arena.
    dequantized = {int(op["outputs"][0]): int(op["inputs"][0]) for op in ops if op["op_name"] == "DEQUANTIZE" and int(op["inputs"][0]) in constants}

    def nbytes(index):
        return int(np.prod(details[index]["shape"])) * np.dtype(details[index]["dtype"]).itemsize

    layers = []
    for op in ops:
        kind = op["op_name"]
        if kind == "DEQUANTIZE" and int(op["outputs"][0]) in dequantized:
            continue
        weights = [dequantized.get(int(i), int(i)) for i in op["inputs"][1:] if i >= 0 and dequantized.get(int(i), int(i)) in constants]
        weights = weights if kind in WEIGHTED_OPS else []
        first = details[weights[0]] if weights else None
        layers.append(Layer(
            name=details[int(op["outputs"][0])]["name"][:60], type=kind,
            output_shape=[int(d) for d in details[int(op["outputs"][0])]["shape"]],
            parameters=sum(int(np.prod(details[w]["shape"])) for w in weights),
            macs=op_macs(kind, details, op),
            weight_dtype=np.dtype(first["dtype"]).name if first else None,
            weight_bytes=sum(nbytes(w) for w in weights),
            quantization=weight_quantization(first) if first else None,
        ))
    live = [Tensor(nbytes(i), produced.get(i, -1), max((p for p, op in enumerate(ops) if i in op["inputs"]), default=len(ops) - 1))
            for i in referenced if i not in constants and i not in dequantized]
    return Inspection(str(path), "tflite", layers, flash_bytes=sum(nbytes(i) for i in constants),
                      arena_bytes=peak_live_bytes(live, len(ops)))
