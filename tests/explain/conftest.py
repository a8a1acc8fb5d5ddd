"""A deliberately broken quantization of the session's seed model: float function unchanged, int8 ruined."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

HUGE = 100.0  # per-channel int8 scale becomes 100/127 ≈ 0.79; the dense weights (|w| ≲ 0.4) all round to 0


@pytest.fixture(scope="session")
def broken(tmp_path_factory, trained, mnist, data_dir):
    """The seed model with one huge weight in every output unit of ``dense``, compensated in the bias.

    The weights read the flattened feature of conv channel c at pooled position (0, 0): it sees only the
    4×4 top-left pixels, black in every MNIST test digit, so it always equals the conv bias b_c. Adding
    HUGE·b_c through the weight and subtracting it from the bias leaves the float model's answers as they
    were, while per-output-channel int8 quantization of ``dense`` rounds every other weight to zero.
    """
    from edgemnist.common.deps import import_keras
    from edgemnist.export.runner import export

    assert mnist.x_test[:, :4, :4].max() == 0
    keras = import_keras()
    model = keras.models.load_model(trained.model_path)
    _, conv_bias = model.get_layer("conv2d").get_weights()
    channel = int(np.argmin(np.abs(conv_bias)))
    kernel, bias = model.get_layer("dense").get_weights()
    kernel[channel, :] = HUGE  # flatten index of (row 0, col 0, channel c) in NHWC order is c
    model.get_layer("dense").set_weights([kernel, bias - HUGE * conv_bias[channel]])
    folder = tmp_path_factory.mktemp("broken")
    model_path = folder / "seed.keras"
    model.save(model_path)
    out = folder / "export"
    export(model_path, ["tflite", "onnx"], "int8", out, validate=False, data=data_dir)
    export(model_path, ["onnx"], "float32", out, validate=False, data=data_dir)
    return SimpleNamespace(
        keras=model_path,
        original=Path(trained.model_path),
        tflite=out / "seed_int8.tflite",
        onnx=out / "seed_int8.onnx",
        float_onnx=out / "seed_float32.onnx",
    )
