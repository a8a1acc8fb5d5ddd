"""ONNX models, read with the ``onnx`` package (shapes inferred at batch 1). Quantize/Dequantize
nodes are plumbing of QDQ models: they are folded into the layer they feed."""

from __future__ import annotations

import numpy as np

from ..common.deps import import_optional
from . import INSPECTORS, Inspection, Layer, Tensor, conv_macs, peak_live_bytes

PASS_THROUGH = {"DequantizeLinear", "Identity", "Transpose", "Reshape", "Cast"}
PLUMBING = {"QuantizeLinear", "DequantizeLinear"}
WEIGHTED = {"Conv", "MatMul", "Gemm", "Add"}


def with_batch_one(model):
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].dim_value = 1
    return model


@INSPECTORS.register("onnxruntime")
def inspect_onnx(path) -> Inspection:
    onnx = import_optional("onnx", "onnx")
    from onnx import numpy_helper

    model = onnx.shape_inference.infer_shapes(with_batch_one(onnx.load(str(path))))
    graph = model.graph
    initializers = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    values = {v.name: v.type.tensor_type for v in [*graph.input, *graph.value_info, *graph.output]}
    producer = {out: node for node in graph.node for out in node.output}

    def source_initializer(name):
        """The initializer a tensor is made from, through dequantize/reshape plumbing, if any."""
        while name not in initializers:
            node = producer.get(name)
            if node is None or node.op_type not in PASS_THROUGH or not node.input:
                return None
            name = node.input[0]
        return name

    def shape_of(name):
        tensor = values.get(name)
        return [d.dim_value for d in tensor.shape.dim] if tensor is not None else []

    def nbytes(name):
        tensor = values.get(name)
        if tensor is None:
            return 0
        return int(np.prod(shape_of(name))) * onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).itemsize

    weight_derived = {out for node in graph.node for out in node.output if source_initializer(out)}
    layers, counted = [], set()
    for node in graph.node:
        if node.op_type in PLUMBING or node.output[0] in weight_derived:
            continue
        weights = (
            [w for w in (source_initializer(i) for i in node.input) if w and w not in counted]
            if node.op_type in WEIGHTED
            else []
        )
        counted.update(weights)
        output_shape = shape_of(node.output[0])
        macs = 0
        if node.op_type == "Conv" and weights:
            kernel = initializers[weights[0]].shape
            macs = conv_macs(int(np.prod(output_shape)), kernel[2], kernel[3], kernel[1])
        elif node.op_type in ("MatMul", "Gemm") and weights:
            rows = int(np.prod(output_shape[:-1])) or 1  # batch 1; a computed reshape leaves dims unknown (0)
            macs = rows * int(initializers[weights[0]].size)
        first = initializers[weights[0]] if weights else None
        layers.append(
            Layer(
                node.name or node.output[0],
                node.op_type,
                output_shape,
                sum(int(initializers[w].size) for w in weights),
                macs,
                first.dtype.name if first is not None else None,
                sum(int(initializers[w].nbytes) for w in weights),
            )
        )
    order = [n for n in graph.node]
    activations = [v.name for v in graph.input if v.name not in initializers]
    activations += [o for n in order for o in n.output if o not in weight_derived]
    position = {o: p for p, n in enumerate(order) for o in n.output}
    tensors = [
        Tensor(
            nbytes(a),
            position.get(a, -1),
            max((p for p, n in enumerate(order) if a in n.input), default=len(order) - 1),
        )
        for a in activations
    ]
    return Inspection(
        str(path),
        "onnx",
        layers,
        flash_bytes=sum(int(a.nbytes) for a in initializers.values()),
        activation_bytes=peak_live_bytes(tensors, len(order)),
    )
