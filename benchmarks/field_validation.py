"""Field corruptions for choosing the field recipe: written apart from both the training augmentations
(``edgemnist.augment``) and MNIST-C (``edgemnist.robustness``), with other parameters, and applied only to the
validation digits (the last 5,000 of the 60,000 training digits). Images are float32 N×28×28 in [0, 1]."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

VALIDATION = slice(55_000, 60_000)  # training uses the first 55,000 while the recipe is chosen


def each_image(images: np.ndarray, change) -> np.ndarray:
    out = [np.asarray(change(Image.fromarray(np.uint8(np.round(x * 255)))), dtype=np.float32) / 255 for x in images]
    return np.stack(out)


def shifted(images: np.ndarray, rng) -> np.ndarray:
    """Moved 4 px along a random diagonal (both axes), zeros brought in."""
    out = np.zeros_like(images)
    for i, (dr, dc) in enumerate(rng.choice([-4, 4], size=(len(images), 2))):
        out[i] = np.roll(images[i], (dr, dc), axis=(0, 1))
        out[i, (slice(0, dr) if dr > 0 else slice(28 + dr, 28)), :] = 0
        out[i, :, (slice(0, dc) if dc > 0 else slice(28 + dc, 28))] = 0
    return out


def ruled(images: np.ndarray) -> np.ndarray:
    """Ruled paper: a grey 1-px line every 7 rows."""
    paper = np.zeros((28, 28), np.float32)
    paper[3::7] = 0.6
    return np.maximum(images, paper)


def occluded(images: np.ndarray, rng) -> np.ndarray:
    """A black 8×8 patch placed around the centre."""
    out = images.copy()
    for i, (r, c) in enumerate(rng.integers(6, 14, size=(len(images), 2))):
        out[i, r : r + 8, c : c + 8] = 0
    return out


def two_tone(images: np.ndarray) -> np.ndarray:
    """Two-tone paper: below the anti-diagonal (row + column > 30) ink and paper swap."""
    rows, cols = np.mgrid[0:28, 0:28]
    return np.where(rows + cols > 30, 1 - images, images)


def field_set(images: np.ndarray, seed: int = 1234) -> dict[str, np.ndarray]:
    """Thirteen field conditions of fixed strength, named by what they are."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 0.5, 28, dtype=np.float32)[None, None, :]
    sets = {
        "grey paper 0.4+0.6x": 0.4 + 0.6 * images,
        "low contrast 0.35+0.3x": 0.35 + 0.3 * images,
        "light ramp 0→0.5": images + ramp,
        "noise σ 0.35": images + rng.normal(0, 0.35, images.shape).astype(np.float32),
        "blur radius 1.6": each_image(images, lambda im: im.filter(ImageFilter.GaussianBlur(1.6))),
        "thick pen (max 3×3)": each_image(images, lambda im: im.filter(ImageFilter.MaxFilter(3))),
        "thin pen (min 3×3)": each_image(images, lambda im: im.filter(ImageFilter.MinFilter(3))),
        "rotated 18°": each_image(images, lambda im: im.rotate(18 * rng.choice([-1, 1]), Image.BILINEAR)),
        "shifted 4 px": shifted(images, rng),
        "black patch 8×8": occluded(images, rng),
        "ruled paper": ruled(images),
        "edges only (3×3 Laplacian)": each_image(images, lambda im: im.filter(ImageFilter.FIND_EDGES)),
        "two-tone paper (corner half)": two_tone(images),
    }
    return {name: np.clip(x, 0, 1).astype(np.float32) for name, x in sets.items()}
