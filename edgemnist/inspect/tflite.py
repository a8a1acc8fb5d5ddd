"""TFLite models: the op list from the flatbuffer (LiteRT's public schema module), tensors through LiteRT's
public ``get_tensor_details`` without its default delegates; the arena as TFLite Micro would need it."""

from __future__ import annotations

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from ..tflite_graph import WEIGHTED_OPS, read_graph, unsupported_arithmetic
from . import INSPECTORS, Inspection, Layer, Tensor, conv_macs, peak_live_bytes
from .micro import lifetimes, tflm_arena, unchecked_ops


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
    return {
        "scale": [float(s) for s in scales[:8]],
        "zero_point": [int(z) for z in params["zero_points"][:8]],
        "per_channel": len(scales) > 1,
    }


@INSPECTORS.register("litert")
def inspect_tflite(path) -> Inspection:
    interpreter = open_interpreter(path)
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    graph = read_graph(path.read_bytes())
    ops, graph_inputs = graph.ops, graph.inputs
    produced = {int(i): pos for pos, op in enumerate(ops) for i in op["outputs"]}
    consumed = {int(i) for op in ops for i in op["inputs"] if i >= 0}
    # Constants feed ops and are made by none; tensors no op names are the kernels' own scratch space.
    constants = {i for i in consumed if i not in produced and i not in graph_inputs}
    referenced = consumed | set(produced)
    # Weights stored as float16 are turned to float32 once, at load: they belong to the weights, not the arena.
    dequantized = {
        int(op["outputs"][0]): int(op["inputs"][0])
        for op in ops
        if op["op_name"] == "DEQUANTIZE" and int(op["inputs"][0]) in constants
    }

    def nbytes(index):
        return int(np.prod(details[index]["shape"])) * np.dtype(details[index]["dtype"]).itemsize

    layers = []
    for op in ops:
        kind = op["op_name"]
        if kind == "DEQUANTIZE" and int(op["outputs"][0]) in dequantized:
            continue
        weights = [
            dequantized.get(int(i), int(i))
            for i in op["inputs"][1:]
            if i >= 0 and dequantized.get(int(i), int(i)) in constants
        ]
        weights = weights if kind in WEIGHTED_OPS else []
        first = details[weights[0]] if weights else None
        layers.append(
            Layer(
                name=details[int(op["outputs"][0])]["name"][:60],
                type=kind,
                output_shape=[int(d) for d in details[int(op["outputs"][0])]["shape"]],
                parameters=sum(int(np.prod(details[w]["shape"])) for w in weights),
                macs=op_macs(kind, details, op),
                weight_dtype=np.dtype(first["dtype"]).name if first else None,
                weight_bytes=sum(nbytes(w) for w in weights),
                quantization=weight_quantization(first) if first else None,
            )
        )
    tensors = {
        i: {"shape": [int(d) for d in t["shape"]], "dtype": np.dtype(t["dtype"]).name, "bytes": nbytes(i)}
        for i, t in details.items()
    }
    activations = sorted(i for i in referenced if i not in constants and i not in dequantized)
    unrunnable = unsupported_arithmetic(graph)
    if unrunnable:  # no micro-controller arena: TFLite Micro cannot run it
        head, tail = (
            peak_live_bytes(
                [
                    Tensor(tensors[i]["bytes"], *alive)
                    for i, alive in lifetimes(ops, graph.inputs, graph.outputs).items()
                    if i in activations
                ],
                len(ops) + 1,
            ),
            0,
        )
        notes = [f"TFLite Micro cannot run {unrunnable} models; the arena is that of the live activations"]
    else:
        head, tail = tflm_arena(ops, tensors, activations, graph.inputs, graph.outputs)
        unchecked = unchecked_ops(ops)
        notes = (
            [f"arena bound not checked on ops {', '.join(unchecked)}: measure it with --measure"] if unchecked else []
        )
    return Inspection(
        str(path),
        "tflite",
        layers,
        flash_bytes=sum(nbytes(i) for i in constants),
        activation_bytes=head,
        bookkeeping_bytes=tail,
        notes=notes,
    )
