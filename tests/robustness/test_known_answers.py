"""Known answers for the 15 MNIST-C corruptions: each one's defining property at the parameters of
google-research/mnist-c's ``corruptions.py`` and the severity of the published set, checked with numpy on real
digits or on drawn spots and lines (nothing from ``edgemnist.robustness`` but the corruption itself)."""

from __future__ import annotations

import numpy as np
import pytest

from edgemnist.robustness.corruptions import CORRUPTIONS

SIDE = 28
CENTRE = 13.5  # MNIST-C warps about the image centre


def corrupt(name: str, digits: np.ndarray, seed: int = 0) -> np.ndarray:
    return CORRUPTIONS.get(name)(digits, None, seed).astype(np.float64)


def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """N×2: (row, column) of each image's intensity."""
    grid = np.arange(SIDE)
    total = images.sum(axis=(1, 2))
    return np.stack([(images.sum(axis=2) @ grid) / total, (images.sum(axis=1) @ grid) / total], axis=1)


def spread(images: np.ndarray) -> np.ndarray:
    """The intensity's RMS distance from the image centre (its radius of gyration about the centre)."""
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    distance2 = (rows - CENTRE) ** 2 + (cols - CENTRE) ** 2
    return np.sqrt((images * distance2).sum(axis=(1, 2)) / images.sum(axis=(1, 2)))


def spot(row: float, col: float, sigma: float = 1.0, count: int = 40) -> np.ndarray:
    rows, cols = np.mgrid[0:SIDE, 0:SIDE]
    image = np.round(255 * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / (2 * sigma**2)))
    return np.repeat(image.astype(np.uint8)[None], count, axis=0)


def flat(level: int, count: int = 100) -> np.ndarray:
    return np.full((count, SIDE, SIDE), level, np.uint8)


def test_shot_noise_counts_three_photons_per_full_scale():
    # severity 5: poisson(3x) / 3 → a white pixel reads 0, 1/3, 2/3 or (clipped) 1
    out = corrupt("shot_noise", flat(255))
    assert set(np.unique(out)) <= {0.0, 85.0, 170.0, 255.0}
    assert np.mean(out == 255) == pytest.approx(1 - 8.5 * np.exp(-3), abs=0.01)  # P(Poisson(3) ≥ 3)
    assert corrupt("shot_noise", flat(0)).max() == 0


def test_impulse_noise_flips_17_percent_of_pixels_half_to_salt():
    out = corrupt("impulse_noise", flat(128))  # severity 4: amount 0.17
    hit = out != 128
    assert np.mean(hit) == pytest.approx(0.17, abs=0.01)
    assert set(np.unique(out[hit])) == {0.0, 255.0}
    assert np.mean(out[hit] == 255) == pytest.approx(0.5, abs=0.02)


def test_glass_blur_blurs_down_the_columns_and_keeps_the_ink(mnist):
    # severity 1: σ 0.7, swaps of up to 1 px, 2 sweeps; skimage's multichannel=True leaves the columns' axis alone
    vertical, horizontal = np.zeros((2, 40, SIDE, SIDE), np.uint8)
    vertical[:, 3:25, 14] = 255
    horizontal[:, 14, 3:25] = 255
    assert corrupt("glass_blur", vertical).max() >= 0.95 * 255  # along a 1-px column nothing blurs
    assert corrupt("glass_blur", horizontal).max() <= 0.65 * 255  # across a 1-px row σ 0.7 leaves ≤ 0.57
    digits = mnist.x_test[:200]
    ink = digits.astype(np.float64).sum(axis=(1, 2))
    assert corrupt("glass_blur", digits).sum(axis=(1, 2)) == pytest.approx(ink, rel=0.05)


def test_motion_blur_smears_a_spot_one_way_within_45_degrees_of_horizontal():
    # severity 1: ImageMagick radius 10, σ 3 — a one-sided Gaussian of 21 taps, angle uniform in ±45°
    digits = spot(14, 14, 0.7)
    out = corrupt("motion_blur", digits)
    assert out.sum(axis=(1, 2)) == pytest.approx(digits.astype(np.float64).sum(axis=(1, 2)), rel=0.03)
    moved = centre_of_mass(out) - centre_of_mass(digits.astype(np.float64))
    taps = np.arange(21)
    mean_length = np.sum(taps * np.exp(-(taps**2) / 18)) / np.sum(np.exp(-(taps**2) / 18))  # ≈ 2.4 px
    assert np.hypot(*moved.T) == pytest.approx(np.full(len(out), mean_length), abs=0.35)
    assert (np.abs(moved[:, 0]) <= np.abs(moved[:, 1]) + 0.35).all()
    assert np.std(np.arctan2(moved[:, 0], moved[:, 1]) % np.pi) > 0.1  # the angle varies per digit


def test_shear_slides_rows_by_sin_and_keeps_the_centre_row():
    # severity 2: skimage's shear 0.4 rad: inverse map (x, y) → (x − sin 0.4 · y, cos 0.4 · y) about the centre
    below = corrupt("shear", spot(CENTRE + 6, CENTRE))
    moved = centre_of_mass(below) - [CENTRE + 6, CENTRE]
    assert np.abs(moved[:, 1]) == pytest.approx(np.full(len(below), np.sin(0.4) * 6 / np.cos(0.4)), abs=0.15)
    assert moved[:, 0] == pytest.approx(np.full(len(below), 6 / np.cos(0.4) - 6), abs=0.15)
    assert set(np.sign(moved[:, 1]).tolist()) == {-1.0, 1.0}  # both directions
    level = centre_of_mass(corrupt("shear", spot(CENTRE, CENTRE + 6))) - [CENTRE, CENTRE + 6]
    assert np.abs(level).max() < 0.05


def test_scale_shrinks_the_digit_to_70_percent_about_the_centre(mnist):
    digits = mnist.x_test[:200].astype(np.float64)  # severity 3: inverse scale 1/0.7
    ratio = spread(corrupt("scale", mnist.x_test[:200])) / spread(digits)
    assert ratio == pytest.approx(np.full(200, 0.7), abs=0.02)


def test_rotate_turns_by_0_4_radians_either_way(mnist):
    # severity 2: 0.4 rad (22.9°), random sign, about the centre
    out = corrupt("rotate", spot(CENTRE, CENTRE + 8))
    row, col = (centre_of_mass(out) - CENTRE).T
    assert np.abs(np.arctan2(row, col)) == pytest.approx(np.full(len(out), 0.4), abs=0.02)
    assert np.hypot(row, col) == pytest.approx(np.full(len(out), 8), abs=0.2)
    assert set(np.sign(row).tolist()) == {-1.0, 1.0}
    digits = mnist.x_test[:200]
    assert spread(corrupt("rotate", digits)) == pytest.approx(spread(digits.astype(np.float64)), rel=0.03)


def test_brightness_adds_half_the_full_scale(mnist):
    # severity 5: +0.5 to V in HSV, which for a grey pixel is the grey level: +127.5 levels, clipped
    digits = mnist.x_test[:100]
    out = corrupt("brightness", digits)
    dark = digits <= 127
    assert set(np.unique(out[dark] - digits[dark])) <= {127.0, 128.0}
    assert (out[~dark] == 255).all()
    assert out.mean() - digits.mean() > 100


def test_translate_moves_the_centre_of_mass_3_px_on_each_axis(mnist):
    digits = mnist.x_test[:300]
    ink = digits > 0
    inside = ~ink[:, :3].any(axis=(1, 2)) & ~ink[:, -3:].any(axis=(1, 2))
    inside &= ~ink[:, :, :3].any(axis=(1, 2)) & ~ink[:, :, -3:].any(axis=(1, 2))
    digits = digits[inside]  # nothing is cut off by a 3-px move
    moved = centre_of_mass(corrupt("translate", digits)) - centre_of_mass(digits.astype(np.float64))
    assert np.abs(moved) == pytest.approx(np.full(moved.shape, 3.0), abs=1e-6)  # severity 3: 3 px
    assert set(np.sign(moved).ravel().tolist()) == {-1.0, 1.0}


def test_stripe_inverts_the_outer_seven_columns_on_each_side(mnist):
    digits = mnist.x_test[:50].astype(np.float64)
    out = corrupt("stripe", mnist.x_test[:50])
    assert (out[:, :, :7] == 255 - digits[:, :, :7]).all() and (out[:, :, 21:] == 255 - digits[:, :, 21:]).all()
    assert (out[:, :, 7:21] == digits[:, :, 7:21]).all()


def test_fog_adds_a_smooth_layer_of_up_to_three_full_scales_then_rescales(mnist):
    # severity 5: x + 3·plasma, times max/(max + 3): on black paper at most 3/4 of full scale
    digits = mnist.x_test[:200]
    digits = digits[digits.max(axis=(1, 2)) == 255]
    out = corrupt("fog", digits) / 255
    layer = out * 4 - digits / 255  # the plasma times 3
    assert layer.min() >= -0.01 and layer.max() <= 3.01
    assert out[digits == 0].max() <= 0.75 + 0.5 / 255
    assert np.abs(np.diff(layer, axis=2)).mean() < 0.2 * layer.std(axis=(1, 2)).mean() * 3  # smooth, not noise
    assert layer.mean() > 0.3


def test_spatter_pulls_pixels_towards_mud_grey_63(mnist):
    # severity 4: a blotch mask of ≥ 0.8 blends each hit pixel at least 80 % of the way to grey level 63
    digits = mnist.x_test[:300].astype(np.float64)
    out = corrupt("spatter", mnist.x_test[:300])
    changed = out != digits
    assert changed.any(axis=(1, 2)).mean() > 0.2
    assert (np.abs(out[changed] - 63) <= 0.2 * np.abs(digits[changed] - 63) + 1).all()


def test_dotted_line_adds_a_line_in_two_pixel_dashes(mnist):
    digits = mnist.x_test[:100].astype(np.float64)
    added = corrupt("dotted_line", mnist.x_test[:100]) - digits
    assert added.min() >= 0
    dashes = [c for c in range(27) if (c // 2) % 2 == 1]  # MNIST-C blanks columns 0–1, 4–5, …; its line ends at 26
    columns = np.flatnonzero(added.any(axis=(0, 1)))
    assert set(columns.tolist()) == set(dashes)
    assert (added.max(axis=(1, 2)) >= 200).all()  # each image got a bright line


def test_zigzag_adds_a_zigzag_from_column_2_to_25_within_a_few_rows():
    added = corrupt("zigzag", flat(0))  # on blank paper the zigzag is all there is
    assert not added[:, :, [0, 1, 27]].any()
    spans = []
    for image in added:
        rows, cols = np.nonzero(image)
        assert rows.max() - rows.min() <= 16  # rise ≤ 5 rows, teeth ±2, line half-width 2.3
        spans.append(cols.max() - cols.min())
    assert np.mean(np.array(spans) >= 20) > 0.8  # across the image, unless it starts near the top or bottom edge


def test_canny_edges_are_binary_and_trace_the_strokes(mnist):
    digits = mnist.x_test[:100]
    out = corrupt("canny_edges", digits)
    assert set(np.unique(out)) == {0.0, 255.0}
    padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    near = np.stack([padded[:, r : r + SIDE, c : c + SIDE] for r in range(5) for c in range(5)])
    edge = out == 255
    assert (near.max(axis=0)[edge] > 0).all() and (near.min(axis=0)[edge] < 128).all()  # ink and paper nearby
    assert ((edge.sum(axis=(1, 2)) >= 15) & (edge.sum(axis=(1, 2)) < (digits > 0).sum(axis=(1, 2)) * 1.5)).all()
