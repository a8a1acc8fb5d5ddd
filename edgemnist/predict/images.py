"""Photos of digits → MNIST-style 28×28 uint8 digits, made the way MNIST itself was made:
grayscale, light ink on a dark background, cropped to the ink, fitted into 20×20 keeping the
aspect ratio, then placed in 28×28 so that the centre of mass sits in the middle."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..common.deps import native_output_silenced
from ..common.errors import EdgemnistError, first_line
from ..common.files import require_file
from ..contract import SIDE

BOX = 20  # MNIST fits each digit into a 20×20 box
INK_THRESHOLD = 0.25  # share of the strongest ink below which a pixel counts as paper, noise or JPEG ringing
# What Pillow's decoders raise on a damaged file (found by tests/app/test_fuzz_images.py): not only OSError.
DAMAGED_IMAGE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError, struct.error)
MAX_IMAGE_PIXELS = 50_000_000  # a 50 MP phone photo fits; a small PNG can claim gigabytes of pixels


class BlankImage(EdgemnistError):
    """An image with no ink at all (an empty sheet, a cleared canvas): nothing to read, not a digit."""


def read_grayscale(path) -> np.ndarray:
    """A file object, not a name: Pillow then decodes a file exactly as it decodes the same bytes uploaded to the
    app (given a name, it memory-maps raw images and reads some damaged ones differently). libtiff's own warnings
    on a damaged TIFF are hidden (unless --verbose): the error says it in one line."""
    path = require_file(path, "image")
    with open(path, "rb") as file, native_output_silenced():
        return decode_grayscale(file, str(path))


def decode_grayscale(source, name: str, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """An image file (a path, or a binary file object such as an upload) → float32 grayscale; errors name
    ``name``. Images over ``max_pixels`` are refused before they are decoded (decompression bombs)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(source) as image:
            if image.width * image.height > max_pixels:
                raise EdgemnistError(
                    f"{name} is too large: {image.width}×{image.height} pixels (at most {max_pixels:,})"
                )
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "P") or "transparency" in upright.info:
                background = Image.new("RGBA", upright.size, "white")  # transparent paper is white paper
                upright = Image.alpha_composite(background, upright.convert("RGBA"))
            return np.asarray(upright.convert("L"), dtype=np.float32)
    except Image.DecompressionBombError:  # Pillow's own guard, which fires before ours beyond twice its limit
        raise EdgemnistError(f"{name} is too large: over {max_pixels:,} pixels") from None
    except UnidentifiedImageError:
        raise EdgemnistError(f"{name} is not an image Pillow can read (PNG, JPEG, BMP, GIF, TIFF, WebP…)") from None
    except DAMAGED_IMAGE_ERRORS as exc:
        raise EdgemnistError(f"{name} is a damaged image ({first_line(exc)})") from exc


def light_ink_on_dark(gray: np.ndarray) -> np.ndarray:
    """Invert dark-on-light photos (judged by the border, which is paper) and remove the paper level."""
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray, border = 255.0 - gray, 255.0 - border
    return np.clip(gray - np.median(border), 0, None)


def to_mnist_digit(gray: np.ndarray) -> np.ndarray:
    """A grayscale photo of one digit → 28×28 uint8 in MNIST's framing."""
    from PIL import Image

    if gray.shape == (SIDE, SIDE) and np.median(gray) < 32:
        return gray.astype(np.uint8)  # already an MNIST digit: leave it exactly as it is
    ink = light_ink_on_dark(gray)
    strongest = ink.max()
    if strongest <= 0:
        raise BlankImage("the image is blank: no ink found")
    ink[ink < INK_THRESHOLD * strongest] = 0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * (255.0 / strongest)
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    fitted = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.LANCZOS))
    return centre_by_mass(np.clip(fitted, 0, 255))


def centre_by_mass(fitted: np.ndarray) -> np.ndarray:
    canvas = np.zeros((SIDE, SIDE), np.float32)
    height, width = fitted.shape
    total = fitted.sum()
    centre_y = (fitted.sum(axis=1) @ np.arange(height)) / total
    centre_x = (fitted.sum(axis=0) @ np.arange(width)) / total
    top = int(np.clip(round(SIDE / 2 - 0.5 - centre_y), 0, SIDE - height))
    left = int(np.clip(round(SIDE / 2 - 0.5 - centre_x), 0, SIDE - width))
    canvas[top : top + height, left : left + width] = fitted
    return np.round(canvas).astype(np.uint8)


def load_digit_image(path) -> np.ndarray:
    """An image file → a 28×28 uint8 digit ready for any Predictor; an error names the file."""
    try:
        return to_mnist_digit(read_grayscale(Path(path)))
    except EdgemnistError as exc:  # the same kind of error (a BlankImage stays one), naming the file
        message = str(exc)
        raise type(exc)(message if str(path) in message else f"{path}: {message}") from None


def load_digit_images(paths) -> np.ndarray:
    """N image files → N×28×28 uint8 digits ready for any Predictor."""
    return np.stack([load_digit_image(p) for p in paths])
