"""The TFLite flatbuffer read as a graph: its ops in order, their tensors and the tensors' types.

Read with LiteRT's public flatbuffer schema (no interpreter), below both ``predict`` (TFLite Micro refuses
what it cannot run) and ``inspect`` (what a model costs), which would otherwise each read it their own way.
"""

from __future__ import annotations

from dataclasses import dataclass

from .common.deps import import_optional
from .common.errors import EdgemnistError, first_line

# Ops with a weight tensor (their second input) and per-channel quantization along an axis of it.
WEIGHTED_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}
QUANTIZED_TYPES = ("int8", "uint8", "int16")  # an op's tensor of these types carries a scale in any valid model


def tflite_schema():
    return import_optional("ai_edge_litert.schema_py_generated", "tflite")


@dataclass
class Graph:
    """The main subgraph of a TFLite flatbuffer: ops in execution order ({op_name, inputs, outputs}),
    graph inputs and outputs, and each tensor's type ("float32", "int8", ...)."""

    ops: list
    inputs: list
    outputs: list
    dtypes: list


def read_graph(content: bytes, source="model") -> Graph:
    """The graph of a TFLite model's bytes; a truncated or foreign flatbuffer is one line naming ``source``."""
    try:
        return parse_graph(content)
    except Exception as exc:  # the generated reader fails with IndexError, struct.error, KeyError... on bad bytes
        raise EdgemnistError(f"{source} is not a valid TFLite model ({first_line(exc)})") from exc


def parse_graph(content: bytes) -> Graph:
    schema = tflite_schema()
    names = {code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")}
    type_names = {code: name.lower() for name, code in vars(schema.TensorType).items() if not name.startswith("_")}
    model = schema.Model.GetRootAs(content, 0)
    graph = model.Subgraphs(0)
    tensor_count = graph.TensorsLength()
    ops: list[dict] = []
    for position in range(graph.OperatorsLength()):
        op = graph.Operators(position)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "UNKNOWN")
        ops.append(
            {
                "op_name": kind if kind != "CUSTOM" else (code.CustomCode() or b"CUSTOM").decode(),
                "inputs": [op.Inputs(i) for i in range(op.InputsLength())],
                "outputs": [op.Outputs(i) for i in range(op.OutputsLength())],
            }
        )
    inputs = [graph.Inputs(i) for i in range(graph.InputsLength())]
    outputs = [graph.Outputs(i) for i in range(graph.OutputsLength())]
    referenced = [*inputs, *outputs, *(t for op in ops for t in op["inputs"] + op["outputs"] if t != -1)]
    if any(not 0 <= t < tensor_count for t in referenced):  # -1 is an omitted optional input
        raise ValueError("a tensor index is out of range")
    dtypes = [type_names.get(graph.Tensors(i).Type(), "?") for i in range(tensor_count)]
    unscaled = [t for t in set(referenced) if dtypes[t] in QUANTIZED_TYPES and not scale_count(graph.Tensors(t))]
    if unscaled:  # LiteRT and TFLite Micro abort the process on such a file rather than refuse it
        raise ValueError(f"{dtypes[unscaled[0]]} tensor {unscaled[0]} has no quantization scale")
    return Graph(ops, inputs, outputs, dtypes)


def scale_count(tensor) -> int:
    quantization = tensor.Quantization()
    return quantization.ScaleLength() if quantization is not None else 0


def unsupported_arithmetic(graph: Graph) -> str | None:
    """Why TFLite Micro's kernels cannot run a graph: "float16" weights, or int8 weights under float
    activations ("dynamic-range"); None when its ops take float32 or int8 throughout."""
    if "float16" in graph.dtypes:
        return "float16"
    for op in graph.ops:
        if (
            op["op_name"] in WEIGHTED_OPS
            and len(op["inputs"]) > 1
            and graph.dtypes[op["inputs"][0]] == "float32"
            and graph.dtypes[op["inputs"][1]] == "int8"
        ):
            return "dynamic-range"
    return None
