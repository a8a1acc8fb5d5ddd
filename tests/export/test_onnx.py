"""The int8 ONNX export's format: uint8 activations and 7-bit int8 weights (U8S8, QDQ), the convolution over the
one-channel input left in float32, which ONNX Runtime runs as QGemm from the first QuantizeLinear on."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, numpy_helper

INT16_MAX = 32767
UINT8_MAX = 255


def test_int8_onnx_has_uint8_activations_and_int8_weights(artifact_paths):
    model = onnx.load(artifact_paths["seed_int8.onnx"])
    types = {tensor.name: tensor.data_type for tensor in model.graph.initializer}
    activation_zero_points = {types[node.input[2]] for node in model.graph.node if node.op_type == "QuantizeLinear"}
    dequantized = {
        types[node.input[0]]
        for node in model.graph.node
        if node.op_type == "DequantizeLinear" and node.input[0] in types
    }
    assert activation_zero_points == {TensorProto.UINT8}
    assert TensorProto.INT8 in dequantized and TensorProto.UINT8 not in dequantized  # weights int8 (biases int32)


def test_int8_weights_keep_avx2_pair_sums_inside_int16(artifact_paths):
    """Without VNNI, ONNX Runtime's U8S8 kernels add two u8·s8 products into an int16 (VPMADDUBSW), which saturates
    unless every weight is within ±64: 2·255·64 = 32,640. Read from the graph, not from the exporter's settings."""
    graph = onnx.load(artifact_paths["seed_int8.onnx"]).graph
    values = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    weights = [
        values[node.input[0]].astype(np.int32)
        for node in graph.node
        if node.op_type == "DequantizeLinear" and values.get(node.input[0], np.zeros(0)).dtype == np.int8
    ]
    assert len(weights) == 2  # the two dense layers
    assert all(w.size > 1000 for w in weights)  # kernels, not zero points
    worst_pair = max(2 * UINT8_MAX * int(np.abs(w).max()) for w in weights)
    assert worst_pair <= INT16_MAX


def test_the_one_channel_convolution_stays_float(artifact_paths):
    model = onnx.load(artifact_paths["seed_int8.onnx"])
    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    (conv,) = [node for node in model.graph.node if node.op_type == "Conv"]
    kernel = weights[conv.input[1]]  # a float initializer, not the output of a DequantizeLinear
    assert kernel.data_type == TensorProto.FLOAT and list(kernel.dims) == [28, 1, 3, 3]


def test_onnx_runtime_runs_the_dense_layers_as_integer_ops(artifact_paths, tmp_path):
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(artifact_paths["seed_int8.onnx"]), options, providers=["CPUExecutionProvider"])
    graph = onnx.load(options.optimized_model_filepath).graph
    assert [node.op_type for node in graph.node].count("QGemm") == 2
    # A layer left in float between a DequantizeLinear and a QuantizeLinear would read a dequantized tensor:
    # the only DequantizeLinear left must make the graph's float output.
    dequantized = {name for node in graph.node if node.op_type == "DequantizeLinear" for name in node.output}
    assert dequantized == {output.name for output in graph.output}
    assert not any(dequantized & set(node.input) for node in graph.node)
