"""ONNX models, read with the ``onnx`` package (shapes inferred at batch 1). Quantize/Dequantize
nodes are plumbing of QDQ models: they are folded into the layer they feed. An op this module cannot
cost (one it does not know, or a weighted op whose shapes it cannot read) is named, not guessed."""

from __future__ import annotations

import numpy as np

from ..common.deps import import_optional
from ..predict.base import bad_model_errors
from . import INSPECTORS, Inspection, Layer, Tensor, peak_live_bytes

PASS_THROUGH = {"DequantizeLinear", "Identity", "Transpose", "Reshape", "Cast"}
PLUMBING = {"QuantizeLinear", "DequantizeLinear"}
WEIGHTED = {"Conv", "MatMul", "Gemm", "Add"}
# No weights and, by the usual convention, no MACs: activations, pooling, element-wise arithmetic, shape plumbing.
WEIGHTLESS = {
    *("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "Softmax", "LogSoftmax"),
    *("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax", "ReduceSum"),
    *("Sub", "Mul", "Div", "Dropout", "Pad", "Concat", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze"),
    *("Identity", "Cast", "Shape", "Gather", "Slice", "Constant"),
}


def with_batch_one(model):
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_value:
            dims[0].dim_value = 1
    return model


def read_onnx(path):
    """The graph with its shapes inferred at batch 1, and its initializers as arrays: what the ``onnx`` package
    cannot read this way is a bad file (one line), whatever our costing then makes of it is ours."""
    onnx = import_optional("onnx", "onnx")
    from onnx import numpy_helper

    with bad_model_errors(path, "ONNX"):
        graph = onnx.shape_inference.infer_shapes(with_batch_one(onnx.load(str(path)))).graph
        return graph, {t.name: numpy_helper.to_array(t) for t in graph.initializer}


def weighted_macs(op_type: str, output_shape: list, weight_shape: list) -> int | None:
    """MACs of a weighted op at batch 1 from its output's and its weight's shapes; None when they do not say."""
    if op_type == "Add":  # a bias
        return 0
    if not weight_shape or min(weight_shape) <= 0:  # unknown dimensions are 0
        return None
    if op_type == "Conv" and len(weight_shape) >= 3 and output_shape and min(output_shape) > 0:
        # Any number of spatial axes: each output sums kernel × (input channels of its group) products.
        return int(np.prod(output_shape)) * int(np.prod(weight_shape[1:]))
    if op_type in ("MatMul", "Gemm") and len(weight_shape) == 2:
        rows = int(np.prod(output_shape[:-1])) or 1  # batch 1; a computed reshape leaves dims unknown (0)
        return rows * int(np.prod(weight_shape))
    return None


@INSPECTORS.register("onnxruntime")
def inspect_onnx(path) -> Inspection:
    graph, initializers = read_onnx(path)
    from onnx.helper import tensor_dtype_to_np_dtype  # importable: read_onnx said how to install onnx if not

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
        source = source_initializer(name)
        if source is not None:
            return list(initializers[source].shape)
        tensor = values.get(name)
        return [d.dim_value for d in tensor.shape.dim] if tensor is not None else []

    def nbytes(name):
        tensor = values.get(name)
        if tensor is None or not tensor.elem_type:
            return 0
        return int(np.prod(shape_of(name))) * tensor_dtype_to_np_dtype(tensor.elem_type).itemsize

    weight_derived = {out for node in graph.node for out in node.output if source_initializer(out)}
    layers, not_costed, counted = [], [], set()
    for node in graph.node:
        if node.op_type in PLUMBING or not node.output or node.output[0] in weight_derived:
            continue
        name, output_shape = node.name or node.output[0], shape_of(node.output[0])
        macs = (
            weighted_macs(node.op_type, output_shape, shape_of(node.input[1]) if len(node.input) > 1 else [])
            if node.op_type in WEIGHTED
            else 0
            if node.op_type in WEIGHTLESS
            else None
        )
        if macs is None:
            not_costed.append(f"{node.op_type} {name}")
        weights = (
            [w for w in (source_initializer(i) for i in node.input) if w and w not in counted]
            if node.op_type in WEIGHTED and macs is not None
            else []
        )
        counted.update(weights)
        first = initializers[weights[0]] if weights else None
        layers.append(
            Layer(
                name,
                node.op_type,
                output_shape,
                sum(int(initializers[w].size) for w in weights),
                macs or 0,
                first.dtype.name if first is not None else None,
                sum(int(initializers[w].nbytes) for w in weights),
            )
        )
    order = list(graph.node)
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
        not_costed=not_costed,
    )
