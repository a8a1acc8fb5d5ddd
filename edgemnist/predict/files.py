"""Predict image files: the library behind ``edgemnist predict``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..common.errors import EdgemnistError
from . import load, looks_like_model
from .images import load_digit_image

MODEL_SUFFIXES = (".keras", ".tflite", ".onnx")


@dataclass
class ImagePrediction:
    path: str
    label: str
    confidence: float
    top_k: list  # [(label, probability)], most probable first
    probabilities: list


def read_digits(image_paths) -> tuple[list[str], np.ndarray, list[str]]:
    """Every readable image as a digit; each unreadable one as a message naming its file."""
    readable, digits, unreadable = [], [], []
    for path in image_paths:
        try:
            digits.append(load_digit_image(path))
            readable.append(str(path))
        except EdgemnistError as exc:
            unreadable.append(str(exc))
    return readable, np.array(digits, np.uint8).reshape(-1, 28, 28), unreadable


def predict_files(
    model, image_paths, top_k: int = 1, threads=None, backend: str | None = None, **contract
) -> tuple[list[ImagePrediction], list[str]]:
    """Predictions for every readable image, and a message for each image that could not be read."""
    predictor = load(model, threads=threads, backend=backend, **contract)
    readable, digits, unreadable = read_digits(image_paths)
    probabilities = predictor.predict_proba(digits) if readable else np.zeros((0, 10), np.float32)
    labels = predictor.labels
    results = []
    for path, row in zip(readable, probabilities):
        order = runners_up(row, top_k)
        results.append(
            ImagePrediction(
                path=str(path),
                label=str(labels[order[0]]),
                confidence=round(float(row[order[0]]), 6),
                top_k=[(str(labels[i]), round(float(row[i]), 6)) for i in order],
                probabilities=[round(float(p), 6) for p in row],
            )
        )
    return results, unreadable


def runners_up(probabilities: np.ndarray, top_k: int) -> list[int]:
    """The ``top_k`` most probable labels, the first always and the others only where their probability is
    above zero: an int8 model's many exact zeros are no runners-up, and listing them in label order would
    look like a ranking."""
    order = np.argsort(-probabilities, kind="stable")[:top_k]
    return [int(order[0])] + [int(i) for i in order[1:] if probabilities[i] > 0]


def split_model_and_images(paths, stdin=None) -> tuple[str, list[str]]:
    """``[MODEL] IMAGE...`` → (model, images): the first path is the model when its name or content says so,
    else the shipped default model (``pretrained.DEFAULT_ARCH``, mcu) is used; a lone ``-`` reads image paths
    from ``stdin``, one per line."""
    from ..pretrained import default_model

    first = paths[0]
    is_model = first.lower().endswith(MODEL_SUFFIXES) or looks_like_model(first)
    model, images = (first, list(paths[1:])) if is_model else (None, list(paths))
    if images == ["-"] and stdin is not None:
        images = [line.strip() for line in stdin if line.strip()]
    if not images:
        raise EdgemnistError("no image given: edgemnist predict [MODEL] IMAGE... (or - to read paths from stdin)")
    return (model or str(default_model())), images


def prediction_text(prediction) -> str:
    others = "  ".join(f"{label}: {p:.3f}" for label, p in prediction.top_k[1:])
    return f"{prediction.path}: {prediction.label} ({prediction.confidence:.1%})" + (
        f"  next: {others}" if others else ""
    )


def predictions_text(predictions: list) -> str:
    return "\n".join(prediction_text(prediction) for prediction in predictions)
