"""Keras models: layers as written, float32 weights."""

from __future__ import annotations

import numpy as np

from ..predict.keras import load_keras_model
from . import INSPECTORS, Inspection, Layer, Tensor, conv_macs, peak_live_bytes


def layer_macs(layer, output_shape) -> int:
    kind = type(layer).__name__
    elements = int(np.prod(output_shape))
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D") and hasattr(layer, "kernel"):
        kh, kw, cin, _ = layer.kernel.shape
        per_group = 1 if kind == "DepthwiseConv2D" else cin
        return conv_macs(elements, kh, kw, per_group)
    if kind == "Dense":
        return int(layer.kernel.shape[0] * layer.kernel.shape[1])
    return 0


@INSPECTORS.register("keras")
def inspect_keras(path) -> Inspection:
    model = load_keras_model(path)
    layers, tensors = [], [Tensor(int(np.prod(model.input_shape[1:])) * 4, -1, 0)]
    for position, layer in enumerate(model.layers):
        shape = list(layer.output.shape[1:])
        params = int(layer.count_params())
        layers.append(
            Layer(
                layer.name,
                type(layer).__name__,
                [1, *shape],
                params,
                layer_macs(layer, shape),
                "float32" if params else None,
                params * 4,
            )
        )
        tensors[-1].last_use = position
        tensors.append(Tensor(int(np.prod(shape)) * 4, position, position))
    notes = (
        ["batch-norm statistics count as parameters here; TFLite and ONNX fold them into the convolutions"]
        if any(layer.type == "BatchNormalization" for layer in layers)
        else []
    )
    return Inspection(
        str(path),
        "keras",
        layers,
        flash_bytes=sum(layer.weight_bytes for layer in layers),
        activation_bytes=peak_live_bytes(tensors, len(layers)),
        notes=notes,
    )
