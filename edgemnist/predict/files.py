"""Predict image files: the library behind ``edgemnist predict``."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import load
from .images import load_digit_images


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
