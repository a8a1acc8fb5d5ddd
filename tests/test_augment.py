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
    p_two_tone=0.0,
    p_outline=0.0,
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


def test_two_tone_paper_swaps_ink_and_paper_in_one_band_4_to_14_pixels_wide():
    out = augmented(np.zeros((256, 28, 28), np.float32), dataclasses.replace(NOTHING, p=0.0, p_two_tone=1.0))
    assert set(np.unique(out)) == {0.0, 1.0}
    angles = np.radians(np.arange(180))
    directions = np.stack([np.cos(angles), np.sin(angles)])
    for band in out:
        width = np.ptp(np.argwhere(band > 0) @ directions, axis=0).min()  # the lit pixels' narrowest extent
        assert 3 <= width <= 14  # pixel centres strictly inside a band 4–14 px wide
    assert out[:, 13:15, 13:15].max(axis=(1, 2)).mean() > 0.5  # bands pass near the centre
    ink = augmented(np.ones((64, 28, 28), np.float32), dataclasses.replace(NOTHING, p=0.0, p_two_tone=1.0))
    assert np.array_equal(ink, 1 - out[:64])  # the same bands (same draws) turn full ink to paper


def test_an_outlined_stroke_is_the_1_pixel_ring_around_it():
    square = np.zeros((8, 28, 28), np.float32)
    square[:, 10:18, 10:18] = 1.0
    out = augmented(square, dataclasses.replace(NOTHING, p=0.0, p_outline=1.0))
    ring = np.zeros((28, 28), np.float32)
    ring[9:19, 9:19] = 1.0
    ring[10:18, 10:18] = 0.0
    assert np.array_equal(out, np.repeat(ring[None], 8, axis=0))


def test_the_later_effects_leave_the_earlier_draws_alone():
    """Two-tone paper and outlines draw from streams of their own: switched off, the field gives the same images."""
    digits = np.random.default_rng(0).random((64, 28, 28), dtype=np.float32)
    before = dataclasses.replace(Field(), p_two_tone=0.0, p_outline=0.0)
    with_them = dataclasses.replace(Field(), p_two_tone=0.5, p_outline=0.5)
    off, on = augmented(digits, before), augmented(digits, with_them)
    changed = np.any(off != on, axis=(1, 2))
    assert 0 < changed.mean() < 1  # only digits that got one of them differ
