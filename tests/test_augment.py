"""The field augmentation: seeded, and its ranges are what its docstrings say in pixels, degrees and levels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgemnist.augment import AUGMENTATIONS, Field, augment_dataset

NOTHING = Field(  # every effect off: each test switches on the one it measures
    clean_fraction=0.0,
    p=1.0,
    rotation_deg=0.0,
    shift_px=0.0,
    scale=0.0,
    shear=0.0,
    background=0.0,
    min_contrast=1.0,
    gradient=0.0,
    blotches=0.0,
    noise_sigma=0.0,
    dead_pixels=0.0,
    blur_sigma=1.0,
    stroke=0.0,
    p_occlusion=0.0,
    p_line=0.0,
    p_inverted=0.0,
)


def augmented(images: np.ndarray, spec, seed: int = 0, batch: int = 64) -> np.ndarray:
    """Run float images N×28×28 through the augmentation ``spec`` (registered under a name of its own)."""
    import tensorflow as tf

    name = f"test-{abs(hash(spec))}"
    if name not in AUGMENTATIONS.names():
        AUGMENTATIONS.register(name)(spec)
    dataset = tf.data.Dataset.from_tensor_slices((images[..., None].astype(np.float32), np.zeros(len(images))))
    batches = augment_dataset(dataset.batch(batch), name, seed)
    return np.concatenate([x.numpy()[..., 0] for x, _ in batches])


def spot(count: int, col: float = 21.5) -> np.ndarray:
    rows, cols = np.mgrid[0:28, 0:28]
    image = np.exp(-((rows - 13.5) ** 2 + (cols - col) ** 2) / 2.0)
    return np.repeat(image[None], count, axis=0).astype(np.float32)


def test_the_field_is_seeded_and_deterministic(mnist):
    digits = mnist.x_train[:128] / 255.0
    first, again, other = (augmented(digits, Field(), seed) for seed in (0, 0, 1))
    assert first.tobytes() == again.tobytes() and first.tobytes() != other.tobytes()
    assert first.min() >= 0 and first.max() <= 1


def test_clean_digits_keep_their_paper_and_field_digits_get_grey_paper():
    blank = np.zeros((256, 28, 28), np.float32)
    assert augmented(blank, dataclasses.replace(NOTHING, clean_fraction=1.0, background=0.5)).max() == 0
    paper = augmented(blank, dataclasses.replace(NOTHING, background=0.5))[:, 0, 0]
    assert paper.min() >= 0 and paper.max() <= 0.5 and paper.max() > 0.45  # up to 0.5 of full scale
    assert np.mean(paper > 0.25) == pytest.approx(0.5, abs=0.1)  # uniform over 0…0.5


def test_rotation_reaches_its_range_in_degrees_and_no_further():
    out = augmented(spot(512), dataclasses.replace(NOTHING, rotation_deg=20.0))
    rows, cols = np.mgrid[0:28, 0:28]
    row = (out * rows).sum(axis=(1, 2)) / out.sum(axis=(1, 2)) - 13.5
    col = (out * cols).sum(axis=(1, 2)) / out.sum(axis=(1, 2)) - 13.5
    degrees = np.degrees(np.abs(np.arctan2(row, col)))
    assert degrees.max() <= 20.5 and degrees.max() > 18 and np.mean(degrees > 10.8) > 0.3


def test_shifts_reach_4_pixels_each_way():
    out = augmented(spot(512, col=13.5), dataclasses.replace(NOTHING, shift_px=4.0))
    cols = np.arange(28)
    col = (out.sum(axis=1) * cols).sum(axis=1) / out.sum(axis=(1, 2)) - 13.5
    assert np.abs(col).max() <= 4.05 and np.abs(col).max() > 3.7
