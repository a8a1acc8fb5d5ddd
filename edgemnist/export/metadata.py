"""The metadata every exported artifact carries (see ``edgemnist.metadata`` for how it is stored)."""

from __future__ import annotations

from ..contract import InputContract
from ..metadata import model_metadata


def artifact_metadata(job, fmt: str, quantization: str) -> dict:
    # Our exports all take the training contract: NHWC floats in [0, 1] (quantized by the model's own
    # input scale where the input is int8) and answer softmax probabilities.
    return model_metadata(InputContract(), job.arch, job.weights_sha256, fmt, quantization)
