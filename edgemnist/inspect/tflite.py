"""TFLite models: the op list from the flatbuffer (LiteRT's public schema module), tensors through LiteRT's
public ``get_tensor_details`` without its default delegates; the arena as TFLite Micro would need it. An op
whose cost this module does not know is named, not guessed."""

from __future__ import annotations

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from ..predict.base import bad_model_errors
from ..tflite_graph import Graph, read_graph, unsupported_arithmetic
from . import INSPECTORS, Inspection, Layer, Tensor, conv_macs, peak_live_bytes
from .micro import lifetimes, tflm_arena, unchecked_ops

WEIGHT_SHAPES = {"CONV_2D": 4, "DEPTHWISE_CONV_2D": 4, "FULLY_CONNECTED": 2}  # costed ops: their weights' rank
# No weights and, by the usual convention, no MACs: activations, pooling, element-wise arithmetic, shape plumbing.
WEIGHTLESS_OPS = {
    *("RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH", "SOFTMAX", "LOG_SOFTMAX"),
    *("MAX_POOL_2D", "AVERAGE_POOL_2D", "MEAN", "SUM", "REDUCE_MAX", "ADD", "SUB", "MUL", "DIV", "QUANTIZE"),
    *("DEQUANTIZE", "RESHAPE", "SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "PAD", "SQUEEZE", "EXPAND_DIMS"),
    *("TRANSPOSE", "CAST", "GATHER"),
}


def open_interpreter(path):
    litert = import_optional("ai_edge_litert.interpreter", "tflite")
    with native_output_silenced():
        interpreter = litert.Interpreter(
            model_path=str(path), experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        )
        interpreter.allocate_tensors()
    return interpreter


def read_tflite(path) -> tuple[dict, Graph]:
    """Each tensor's details from LiteRT (without its default delegates) and the flatbuffer's graph: what either
    refuses is a bad file (one line), whatever our costing then makes of them is ours."""
    with bad_model_errors(path, "TFLite"):
        details = {t["index"]: t for t in open_interpreter(path).get_tensor_details()}
        graph = read_graph(path.read_bytes(), path)
        used = {*graph.inputs, *graph.outputs, *(t for op in graph.ops for t in op["inputs"] + op["outputs"] if t >= 0)}
        if used - set(details):  # LiteRT leaves out a tensor it cannot read (e.g. a name that is not UTF-8)
            raise ValueError(f"LiteRT cannot read tensor {min(used - set(details))}")
        return details, graph


def op_macs(kind: str, tensors: dict, op) -> int | None:
    """MACs of one op at batch 1; None for an op not costed here (unknown, or weights of another shape)."""
    if kind in WEIGHTLESS_OPS:
        return 0
    weighted = kind in WEIGHT_SHAPES and len(op["inputs"]) > 1 and op["inputs"][1] >= 0  # -1: an omitted input
    weights = tensors[op["inputs"][1]]["shape"] if weighted else []
    if len(weights) != WEIGHT_SHAPES.get(kind):
        return None
    output = tensors[op["outputs"][0]]["shape"]
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
    details, graph = read_tflite(path)
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

    layers, not_costed = [], []
    for op in ops:
        kind = op["op_name"]
        if kind == "DEQUANTIZE" and int(op["outputs"][0]) in dequantized:
            continue
        name, macs = details[int(op["outputs"][0])]["name"][:60], op_macs(kind, details, op)
        if macs is None:
            not_costed.append(f"{kind} {name}")
        weights = [
            dequantized.get(int(i), int(i))
            for i in op["inputs"][1:]
            if i >= 0 and dequantized.get(int(i), int(i)) in constants
        ]
        weights = weights if kind in WEIGHT_SHAPES and macs is not None else []
        first = details[weights[0]] if weights else None
        layers.append(
            Layer(
                name=name,
                type=kind,
                output_shape=[int(d) for d in details[int(op["outputs"][0])]["shape"]],
                parameters=sum(int(np.prod(details[w]["shape"])) for w in weights),
                macs=macs or 0,
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
        unchecked: list[str] = []
    else:
        head, tail = tflm_arena(ops, tensors, activations, graph.inputs, graph.outputs)
        unchecked = unchecked_ops(ops)
        notes = []
    return Inspection(
        str(path),
        "tflite",
        layers,
        flash_bytes=sum(nbytes(i) for i in constants),
        activation_bytes=head,
        bookkeeping_bytes=tail,
        notes=notes,
        not_costed=not_costed,
        arena_unchecked_ops=unchecked,
    )
