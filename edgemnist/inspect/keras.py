"""Keras models: layers as written, float32 weights. A layer with weights whose MACs this module does not know
is named, not guessed (its parameters, which Keras counts itself, still are)."""

from __future__ import annotations

import numpy as np

from ..predict.keras import load_keras_model
from . import INSPECTORS, Inspection, Layer, Tensor, peak_live_bytes

# Kernel axes that each output sums over: all but the filters (convolutions), the spatial ones (depthwise).
SUMMED_KERNEL_AXES = {
    "Conv1D": slice(-1),
    "Conv2D": slice(-1),
    "Conv3D": slice(-1),
    "DepthwiseConv1D": slice(-2),
    "DepthwiseConv2D": slice(-2),
}


def layer_macs(layer, output_shape: list) -> int | None:
    """MACs of one layer at batch 1 (``output_shape`` without the batch, 0 where unknown); None for a layer with
    weights whose MACs are not costed here. Layers without weights are taken to have none."""
    kind, kernel = type(layer).__name__, getattr(layer, "kernel", None)
    if kernel is not None and kind in SUMMED_KERNEL_AXES and all(output_shape):
        return int(np.prod(output_shape)) * int(np.prod(kernel.shape[SUMMED_KERNEL_AXES[kind]]))
    if kernel is not None and kind == "Dense" and all(output_shape[:-1]):
        return int(np.prod(output_shape[:-1])) * int(kernel.shape[0] * kernel.shape[1])
    return 0 if kind == "BatchNormalization" or not layer.count_params() else None


@INSPECTORS.register("keras")
def inspect_keras(path) -> Inspection:
    model = load_keras_model(path)
    layers, not_costed = [], []
    tensors = [Tensor(int(np.prod(known(model.input_shape[1:]))) * 4, -1, 0)]
    for position, layer in enumerate(model.layers):
        shape, params = known(layer.output.shape[1:]), int(layer.count_params())
        macs = layer_macs(layer, shape)
        if macs is None:
            not_costed.append(f"{type(layer).__name__} {layer.name}")
        layers.append(
            Layer(
                layer.name,
                type(layer).__name__,
                [1, *shape],
                params,
                macs or 0,
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
        not_costed=not_costed,
    )


def known(shape) -> list[int]:
    """A shape with its unknown (None) dimensions as 0, as the ONNX reader has them."""
    return [0 if d is None else int(d) for d in shape]
