"""Small hand-built models in each layout, dtype and output kind, to test contract inference."""

from __future__ import annotations

import numpy as np

WEIGHTS = np.random.default_rng(7).normal(0, 0.05, (784, 10)).astype(np.float32)
LAYOUT_SHAPES = {"NHWC": [28, 28, 1], "NCHW": [1, 28, 28], "NHW": [28, 28], "flat": [784]}


def reference_logits(digits: np.ndarray, input_scale: float = 1.0) -> np.ndarray:
    """What every hand-built model computes: flatten(pixels / 255 × scale) @ WEIGHTS."""
    return (digits.reshape(len(digits), 784).astype(np.float32) / 255.0 * input_scale) @ WEIGHTS


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def build_onnx(path, layout="NHWC", dtype="float32", softmax_output=False, batch=None):
    """Flatten → (uint8: Cast) → MatMul → optional Softmax, opset 17."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    elem = {"float32": TensorProto.FLOAT, "uint8": TensorProto.UINT8}[dtype]
    source = helper.make_tensor_value_info("x", elem, [batch or "N", *LAYOUT_SHAPES[layout]])
    nodes, current = [], "x"
    if dtype == "uint8":  # a model taking raw pixels scales them itself
        nodes += [
            helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
            helper.make_node("Div", ["xf", "c255"], ["xs"]),
        ]
        current = "xs"
    nodes += [
        helper.make_node("Reshape", [current, "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "W"], ["logits"]),
    ]
    if softmax_output:
        nodes.append(helper.make_node("Softmax", ["logits"], ["out"], axis=1))
    output = helper.make_tensor_value_info("out" if softmax_output else "logits", TensorProto.FLOAT, [batch or "N", 10])
    initializers = [
        numpy_helper.from_array(WEIGHTS, "W"),
        numpy_helper.from_array(np.array([-1, 784], np.int64), "shape"),
        numpy_helper.from_array(np.array(255.0, np.float32), "c255"),
    ]
    graph = helper.make_graph(nodes, "handmade", [source], [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def build_tflite(path, layout="NCHW", quantized=False, batch=1):
    """The same function converted by TensorFlow: a fixed batch, logits out; int8 when quantized."""
    from edgemnist.common.deps import import_tensorflow, native_output_silenced

    tf = import_tensorflow()
    weights = tf.constant(WEIGHTS)
    spec = tf.TensorSpec([batch, *LAYOUT_SHAPES[layout]], tf.float32)
    function = tf.function(lambda x: tf.matmul(tf.reshape(x, [-1, 784]), weights), input_signature=[spec])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()])
    if quantized:
        rng = np.random.default_rng(0)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [rng.random([batch, *LAYOUT_SHAPES[layout]], dtype=np.float32)] for _ in range(50)
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.int8
    with native_output_silenced():
        path.write_bytes(converter.convert())
    return path


CONV1D_WEIGHTS = np.random.default_rng(8).normal(0, 0.05, (8, 28, 3)).astype(np.float32)  # 8 filters over rows
EINSUM_WEIGHTS = np.random.default_rng(9).normal(0, 0.05, (8 * 26, 10)).astype(np.float32)


def build_onnx_conv1d(path):
    """A valid MNIST model that is not a 2-D CNN: each digit's 28 rows as channels of a 1-D convolution over its
    columns (N×28×28 → N×8×26), ReLU, flattened, then an Einsum as its dense layer, and a softmax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Conv", ["x", "W"], ["conv"], name="conv1", kernel_shape=[3]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu1"),
        helper.make_node("Reshape", ["relu", "shape"], ["flat"], name="flatten"),
        helper.make_node("Einsum", ["flat", "W2"], ["logits"], name="dense", equation="bi,ij->bj"),
        helper.make_node("Softmax", ["logits"], ["out"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "conv1d",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 28, 28])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 10])],
        [
            numpy_helper.from_array(CONV1D_WEIGHTS, "W"),
            numpy_helper.from_array(np.array([-1, 8 * 26], np.int64), "shape"),
            numpy_helper.from_array(EINSUM_WEIGHTS, "W2"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)
    return path
