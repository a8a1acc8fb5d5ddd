"""Predict image files: the library behind ``edgemnist predict``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import EdgemnistError
from . import load, looks_like_model
from .images import load_digit_images

MODEL_SUFFIXES = (".keras", ".tflite", ".onnx")


@dataclass
class ImagePrediction:
    path: str
    label: str
    confidence: float
    top_k: list  # [(label, probability)], most probable first
    probabilities: list


def predict_files(model, image_paths, top_k: int = 1, threads=None, **contract) -> list[ImagePrediction]:
    predictor = load(model, threads=threads, **contract)
    probabilities = predictor.predict_proba(load_digit_images(image_paths))
    labels = predictor.labels
    results = []
    for path, row in zip(image_paths, probabilities):
        order = np.argsort(-row, kind="stable")[:top_k]
        results.append(
            ImagePrediction(
                path=str(path),
                label=str(labels[order[0]]),
                confidence=round(float(row[order[0]]), 6),
                top_k=[(str(labels[i]), round(float(row[i]), 6)) for i in order],
                probabilities=[round(float(p), 6) for p in row],
            )
        )
    return results


def split_model_and_images(paths, stdin=None) -> tuple[str, list[str]]:
    """``[MODEL] IMAGE...`` → (model, images): the first path is the model when its name or content says so,
    else the shipped edge model is used; a lone ``-`` reads image paths from ``stdin``, one per line."""
    from ..pretrained import default_model

    first = paths[0]
    is_model = first.lower().endswith(MODEL_SUFFIXES) or looks_like_model(first)
    model, images = (first, list(paths[1:])) if is_model else (None, list(paths))
    if images == ["-"] and stdin is not None:
        images = [line.strip() for line in stdin if line.strip()]
    if not images:
        raise EdgemnistError("no image given: edgemnist predict [MODEL] IMAGE... (or - to read paths from stdin)")
    return (model or str(default_model())), images
