"""The reference the compiled C is held to: the tflite-micro interpreter, called directly on each digit."""

from __future__ import annotations

import numpy as np

from edgemnist.predict import load
from edgemnist.predict.tflm import import_tflm, open_tflm


def tflm_scores(path, digits: np.ndarray) -> np.ndarray:
    """The raw int8 output of TFLM for each digit, its input encoded by the project's contract."""
    interpreter = open_tflm(import_tflm(), path.read_bytes(), path)
    encoded = load(path, backend="tflm").codec.encode(digits)
    scores = []
    for one in encoded:
        interpreter.set_input(one[None], 0)
        interpreter.invoke()
        scores.append(interpreter.get_output(0).reshape(-1).copy())
    return np.array(scores)


def differing_digits(ours: np.ndarray, reference: np.ndarray) -> tuple[int, int]:
    """(digits whose scores are not all identical, the largest difference in steps)."""
    steps = np.abs(ours.astype(np.int32) - reference.astype(np.int32))
    return int((steps.max(axis=1) > 0).sum()), int(steps.max())
