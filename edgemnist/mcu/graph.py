"""What the compiler reads of a TFLite file, beyond ``tflite_graph``'s ops and dtypes: each tensor's shape,
quantization and constant data, and each op's options (strides, padding, fused activation...).

Read with LiteRT's flatbuffer object API (``ModelT``): the whole model unpacked into plain attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..common.errors import EdgemnistError
from ..tflite_graph import read_graph, tflite_schema

NUMPY_TYPES = {"int8": np.int8, "uint8": np.uint8, "int32": np.int32, "int64": np.int64, "float32": np.float32}


@dataclass
class Tensor:
    index: int
    name: str
    dtype: str
    shape: tuple
    scales: np.ndarray  # one per tensor, or one per channel along ``channel_axis``; empty when not quantized
    zero_points: np.ndarray
    channel_axis: int
    data: np.ndarray | None  # the constant's values; None for an activation

    @property
    def values(self) -> np.ndarray:
        """A constant's data; ops check a tensor is constant before they read it."""
        assert self.data is not None, f"{self.name} is not a constant"
        return self.data

    @property
    def scale(self) -> float:
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1


@dataclass
class RawOp:
    """One op of the file: its name, tensors and options (the flatbuffer's ``*OptionsT``, or None)."""

    name: str
    inputs: list  # Tensor, or None for an omitted optional input
    outputs: list
    options: Any = field(repr=False)


@dataclass
class TFLiteModel:
    ops: list[RawOp]
    inputs: list[Tensor]
    outputs: list[Tensor]


def read_model(content: bytes, source: str) -> TFLiteModel:
    """Every op with its typed tensors; a file that is not TFLite is one line naming ``source``."""
    graph = read_graph(content, source)  # validates the flatbuffer and names the ops
    model = tflite_schema().ModelT.InitFromPackedBuf(bytearray(content), 0)
    if len(model.subgraphs) != 1:
        raise EdgemnistError(f"{source}: the C compiler takes one subgraph, this model has {len(model.subgraphs)}")
    subgraph = model.subgraphs[0]
    tensors = [tensor_of(model, subgraph, i, graph.dtypes[i]) for i in range(len(subgraph.tensors))]
    ops = [
        RawOp(
            described["op_name"],
            [tensors[i] if i >= 0 else None for i in described["inputs"]],
            [tensors[i] for i in described["outputs"]],
            raw.builtinOptions,
        )
        for described, raw in zip(graph.ops, subgraph.operators)
    ]
    return TFLiteModel(ops, [tensors[i] for i in graph.inputs], [tensors[i] for i in graph.outputs])


def tensor_of(model, subgraph, index: int, dtype: str) -> Tensor:
    raw = subgraph.tensors[index]
    quantization = raw.quantization
    scales = np.asarray(quantization_field(quantization, "scale"), np.float32)
    zero_points = np.asarray(quantization_field(quantization, "zeroPoint"), np.int64)
    buffer = model.buffers[raw.buffer].data if raw.buffer < len(model.buffers) else None
    shape = tuple(int(d) for d in (raw.shape if raw.shape is not None else ()))
    data = None
    if buffer is not None and len(buffer) and dtype in NUMPY_TYPES:
        data = np.frombuffer(np.asarray(buffer, np.uint8).tobytes(), NUMPY_TYPES[dtype]).reshape(shape)
    name = raw.name.decode() if isinstance(raw.name, bytes) else str(raw.name or index)
    axis = int(quantization.quantizedDimension) if quantization else 0
    return Tensor(index, name, dtype, shape, scales.ravel(), zero_points.ravel(), axis, data)


def quantization_field(quantization, name: str) -> list:
    values = getattr(quantization, name, None) if quantization is not None else None
    return [] if values is None else list(values)
