"""Calibration digits for int8 quantization: drawn from the *training* digits (MNIST's training set, or the train
part of a user's own), class-balanced and deterministic, so the same model always quantizes the same way and the
digits it is validated on stay unseen."""

from __future__ import annotations

import numpy as np

from ..common.errors import EdgemnistError

CALIBRATION_SEED = 0
DEFAULT_CALIBRATION = 300  # training digits: enough for stable int8 ranges, a second of calibration


def representative_indices(labels: np.ndarray, count: int, source: str = "the training set") -> np.ndarray:
    """Indices of ``count`` training digits, as equal a share of each class as possible, in a fixed order."""
    if count < 10:
        raise EdgemnistError("--calibration needs at least 10 images (one per class)")
    order = np.random.default_rng(CALIBRATION_SEED).permutation(len(labels))
    per_class = [order[labels[order] == c] for c in range(10)]
    most = 10 * min(len(members) for members in per_class)  # class-balanced: the smallest class sets the limit
    if count > most:
        raise EdgemnistError(
            f"--calibration can be at most {most:,} with {source}: calibration is class-balanced and its rarest "
            f"digit has {most // 10:,} images"
        )
    return np.sort([per_class[rank % 10][rank // 10] for rank in range(count)])


def representative_images(images: np.ndarray, labels: np.ndarray, count: int, source: str = "the training set"):
    return images[representative_indices(labels, count, source)]
