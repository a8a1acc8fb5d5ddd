"""Each kernel on its own, in single-op models TensorFlow converts, against the tflite-micro interpreter:
options the shipped models do not use (SAME padding with stride, dilation, RELU6, larger pools) and values
beyond the calibrated range, so that outputs saturate at both ends."""

from __future__ import annotations

import numpy as np
import pytest

from edgemnist.common.deps import import_tensorflow, native_output_silenced
from edgemnist.mcu import compile_model
from edgemnist.mcu.boards import BOARDS
from edgemnist.mcu.emulator import board_scores
from edgemnist.mcu.firmware import build_firmware
from edgemnist.mcu.host import HostModel

from .reference import differing_digits, tflm_scores

RNG = np.random.default_rng(26)
FILTERS = RNG.normal(0, 0.3, (5, 5, 1, 6)).astype(np.float32)
DENSE = RNG.normal(0, 30.0, (6, 10)).astype(np.float32)


def conv_same_stride_relu6(tf, x):
    return tf.nn.relu6(tf.nn.conv2d(x, FILTERS, 2, "SAME") * 4.0)


def conv_dilated(tf, x):
    return tf.nn.conv2d(x, FILTERS, 1, "VALID", dilations=2)


def conv_odd_channels(tf, x):
    """Five output channels: the last pairs with a filter of zeros in the kernels' interleaved weights."""
    return tf.nn.conv2d(x, FILTERS[..., :5], 1, "VALID")


def max_pool_same(tf, x):
    return tf.nn.max_pool2d(tf.nn.conv2d(x, FILTERS, 1, "SAME"), 3, 2, "SAME")


def conv_relu_pooled_same(tf, x):
    """A convolution the compiler fuses with its max-pool: 26x26 pooled by 3x3 windows, the last ones padded."""
    return tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, FILTERS, 1, "VALID")), 3, 3, "SAME")


def mean_subtracted(tf, x):
    return tf.nn.conv2d(x - tf.reduce_mean(x, axis=[1, 2], keepdims=True), FILTERS, 1, "VALID")


def global_average_dense_softmax(tf, x):
    pooled = tf.reduce_mean(tf.nn.relu(tf.nn.conv2d(x, FILTERS, 1, "VALID")), axis=[1, 2])
    return tf.nn.softmax(tf.matmul(pooled, DENSE))


def converted(tmp_path, layer) -> object:
    """``layer`` as an int8 TFLite model, calibrated on dim digits so that bright ones saturate."""
    tf = import_tensorflow()
    spec = tf.TensorSpec([1, 28, 28, 1], tf.float32)
    function = tf.function(lambda x: layer(tf, x), input_signature=[spec])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([RNG.random((1, 28, 28, 1), np.float32) * 0.3] for _ in range(30))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path = tmp_path / f"{layer.__name__}.tflite"
    with native_output_silenced():
        path.write_bytes(converter.convert())
    return path


def edge_digits(mnist) -> np.ndarray:
    """Real digits, noise, and the two extremes: all black, all white."""
    noise = RNG.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    extremes = np.stack([np.zeros((28, 28), np.uint8), np.full((28, 28), 255, np.uint8)])
    return np.concatenate([mnist.x_test[:100], noise, extremes])


@pytest.mark.slow
@pytest.mark.parametrize(
    "layer",
    [
        conv_same_stride_relu6,
        conv_dilated,
        conv_odd_channels,
        max_pool_same,
        conv_relu_pooled_same,
        mean_subtracted,
        global_average_dense_softmax,
    ],
)
def test_each_kernel_matches_tflm_bit_for_bit(tmp_path, mnist, layer):
    path = converted(tmp_path, layer)
    digits = edge_digits(mnist)
    compiled = compile_model(path)
    fused = any(op.kind == "CONV_2D+MAX_POOL_2D" for op in compiled.ops)
    assert fused == (layer is conv_relu_pooled_same)  # overlapping windows (max_pool_same) stay apart
    ours = HostModel(compiled).run(digits)
    reference = tflm_scores(path, digits)
    assert differing_digits(ours, reference) == (0, 0)
    assert {-128, 127} & set(np.unique(reference).tolist())  # the values reach an end of the int8 range


@pytest.mark.slow
@pytest.mark.parametrize("layer", [conv_same_stride_relu6, conv_dilated, conv_odd_channels, conv_relu_pooled_same])
def test_the_dsp_kernels_match_tflm_on_cortex_m4(tmp_path, mnist, layer):
    """The DSP set's own paths: a clamp narrower than int8 (RELU6), taps outside the image, dilation, an odd
    channel count, an input channel count that is no whole word, and pooled windows of nine positions across
    blocks."""
    path = converted(tmp_path, layer)
    digits = edge_digits(mnist)
    firmware = build_firmware(path, compile_model(path), BOARDS["cortex-m4"], "dsp")
    assert differing_digits(board_scores(firmware, digits, 600).scores, tflm_scores(path, digits)) == (0, 0)
