"""The 15 corruptions of MNIST-C (Mu & Gilmer 2019), in numpy and Pillow only, seeded and deterministic.

Parameters per severity 1..5 and each corruption's own severity in the published MNIST-C set follow
google-research/mnist-c's corruptions.py. What that code takes from skimage, scipy, OpenCV and ImageMagick
is re-done here in numpy: Gaussian blur (edge-extended, truncated at 4σ as skimage), bilinear affine warps
with a black border (skimage's ``warp``), ImageMagick's one-sided motion-blur kernel, salt-and-pepper noise,
Canny edges (σ 1, hysteresis thresholds 0.1/0.2 of the range, as skimage's defaults). Corruptions without a
severity in MNIST-C (stripe, dotted line, zigzag, canny edges) ignore it.

Every function maps float images N×28×28 in [0, 1] and a numpy Generator to float images in [0, 1].
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..common.registry import Registry

VERSION = 2  # bump when any corruption's output changes: it is part of the cache key (2: glass blur vertical)
SIDE = 28
CENTRE = (SIDE - 1) / 2  # 13.5: MNIST-C keeps the image centre fixed under shear, rotation and scale
VERTICAL = (1,)  # the row axis of N×H×W images


@dataclass(frozen=True)
class Corruption:
    name: str
    apply: Callable[[np.ndarray, np.random.Generator, int], np.ndarray]
    mnist_c_severity: int | None  # the severity of the published MNIST-C set; None: the corruption has none

    def __call__(self, digits: np.ndarray, severity: int | None, seed: int) -> np.ndarray:
        """uint8 N×28×28 → uint8 N×28×28; the same digits, severity and seed give the same bytes."""
        level = self.severity(severity)
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode()), level])
        corrupted = self.apply(digits.astype(np.float64) / 255.0, rng, level)
        return np.round(np.clip(corrupted, 0, 1) * 255).astype(np.uint8)

    def severity(self, requested: int | None) -> int:
        if self.mnist_c_severity is None:
            return 0
        return requested or self.mnist_c_severity


CORRUPTIONS: Registry[Corruption] = Registry("corruption")


def corruption(name: str, mnist_c_severity: int | None):
    def add(function):
        CORRUPTIONS.register(name)(Corruption(name, function, mnist_c_severity))
        return function

    return add


# ---- building blocks -------------------------------------------------------------------------------------


def gaussian(images: np.ndarray, sigma: float, axes=(1, 2)) -> np.ndarray:
    """Separable Gaussian blur of N×H×W images along ``axes``, edges extended (skimage's default mode 'nearest')."""
    radius = int(4 * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    for axis in axes:
        width = [(0, 0)] * 3
        width[axis] = (radius, radius)
        padded = np.pad(images, width, mode="edge")
        size = images.shape[axis]
        images = sum(w * np.take(padded, np.arange(i, i + size), axis=axis) for i, w in enumerate(taps))
    return images


def sample_bilinear(images: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Read N images at fractional (rows, cols) of shape N×H×W; outside the image is black."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    rows, cols = np.clip(rows + 1, 0, SIDE + 1 - 1e-9), np.clip(cols + 1, 0, SIDE + 1 - 1e-9)
    outside = (rows <= 0) | (cols <= 0) | (rows >= SIDE + 1 - 1e-9) | (cols >= SIDE + 1 - 1e-9)
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, SIDE + 1), np.minimum(c0 + 1, SIDE + 1)
    fr, fc = rows - r0, cols - c0
    n = np.arange(len(images))[:, None, None]
    value = (
        (1 - fr) * (1 - fc) * padded[n, r0, c0]
        + (1 - fr) * fc * padded[n, r0, c1]
        + fr * (1 - fc) * padded[n, r1, c0]
        + fr * fc * padded[n, r1, c1]
    )
    return np.where(outside, 0.0, value)


def warp(images: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """skimage's ``warp(image, inverse_map=AffineTransform)``: output pixel (x, y) reads input at M·(x, y, 1)."""
    ys, xs = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(SIDE * SIDE)])
    mapped = matrices @ points  # N×3×784
    cols, rows = mapped[:, 0].reshape(-1, SIDE, SIDE), mapped[:, 1].reshape(-1, SIDE, SIDE)
    return sample_bilinear(images, rows, cols)


def centred(linear: np.ndarray) -> np.ndarray:
    """N×2×2 linear maps → N×3×3 affine maps that keep the image centre (13.5, 13.5) in place."""
    matrices = np.zeros((len(linear), 3, 3))
    matrices[:, :2, :2] = linear
    matrices[:, :2, 2] = CENTRE * (1 - linear.sum(axis=2))
    matrices[:, 2, 2] = 1
    return matrices


def random_signs(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=shape)


def line_from_points(c0: float, r0: float, c1: float, r1: float) -> np.ndarray:
    """MNIST-C's anti-aliased line: intensity log(1 − d/2.3) + 1 at distance d, cut to columns c0..c1."""
    if c1 == c0:
        return np.zeros((SIDE, SIDE))
    cc, rr = np.meshgrid(np.arange(SIDE, dtype=np.float64), np.arange(SIDE, dtype=np.float64), sparse=True)
    slope = (r1 - r0) / (c1 - c0)
    distance = np.clip(np.abs(rr - (slope * (cc - c0) + r0)), 0, 2.3 - 1e-10)
    line = np.clip(np.log(1 - distance / 2.3) + 1, 0, 1)
    line[:, : int(np.floor(c0))] = 0
    line[:, int(np.ceil(c1)) :] = 0
    return line


def plasma_fractal(rng: np.random.Generator, count: int, wibble_decay: float, size: int = 256) -> np.ndarray:
    """MNIST-C's diamond-square height maps (its 256×256 maps, normalised to [0, 1]), ``count`` at once."""
    maps = np.zeros((count, size, size))
    step, wibble = size, 100.0

    def wibbled_mean(total):
        return total / 4 + wibble * rng.uniform(-wibble, wibble, total.shape)

    while step >= 2:
        half = step // 2
        corners = maps[:, 0:size:step, 0:size:step]
        squares = corners + np.roll(corners, -1, axis=1)
        squares = squares + np.roll(squares, -1, axis=2)
        maps[:, half:size:step, half:size:step] = wibbled_mean(squares)
        centres = maps[:, half:size:step, half:size:step]
        corners = maps[:, 0:size:step, 0:size:step]
        maps[:, 0:size:step, half:size:step] = wibbled_mean(
            centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        )
        maps[:, half:size:step, 0:size:step] = wibbled_mean(
            centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        )
        step, wibble = half, wibble / wibble_decay
    maps -= maps.min(axis=(1, 2), keepdims=True)
    return maps / maps.max(axis=(1, 2), keepdims=True)


def in_chunks(function, count: int, chunk: int = 200) -> np.ndarray:
    """Concatenate ``function(start, stop)`` over chunks: bounds the memory of per-image random fields."""
    return np.concatenate([function(start, min(start + chunk, count)) for start in range(0, count, chunk)])


# ---- the 15 corruptions, in MNIST-C's order -------------------------------------------------------------


@corruption("shot_noise", 5)
def shot_noise(x, rng, severity):
    photons = [60, 25, 12, 5, 3][severity - 1]
    return rng.poisson(x * photons) / photons


@corruption("impulse_noise", 4)
def impulse_noise(x, rng, severity):
    amount = [0.03, 0.06, 0.09, 0.17, 0.27][severity - 1]
    hit = rng.random(x.shape) < amount
    salt = rng.random(x.shape) < 0.5  # skimage's salt_vs_pepper 0.5
    return np.where(hit, salt.astype(np.float64), x)


@corruption("glass_blur", 1)
def glass_blur(x, rng, severity):
    sigma, delta, iterations = [(0.7, 1, 2), (0.9, 2, 1), (1, 2, 3), (1.1, 3, 2), (1.5, 4, 2)][severity - 1]
    # MNIST-C calls skimage's gaussian with multichannel=True on a 28×28 image: the last axis (columns) is taken
    # for colour channels and left alone, so both of its blurs run down the columns only.
    x = np.floor(gaussian(x, sigma, VERTICAL) * 255) / 255  # MNIST-C rounds to uint8 between the two blurs
    n = np.arange(len(x))
    for _ in range(iterations):  # local pixel swaps, the same sweep as MNIST-C, every image at once
        for h in range(SIDE - delta, delta, -1):
            for w in range(SIDE - delta, delta, -1):
                swap = n[rng.random(len(x)) < 0.5]
                dx, dy = rng.integers(-delta, delta, size=(2, len(swap)))
                here, there = x[swap, h, w].copy(), x[swap, h + dy, w + dx].copy()
                x[swap, h, w], x[swap, h + dy, w + dx] = there, here
    return gaussian(x, sigma, VERTICAL)


@corruption("motion_blur", 1)
def motion_blur(x, rng, severity):
    radius, sigma = [(10, 3), (15, 5), (15, 8), (15, 12), (20, 15)][severity - 1]
    angle = np.deg2rad(rng.uniform(-45, 45, len(x)))
    # ImageMagick's motion blur: a one-sided Gaussian of 2·radius+1 taps along the angle, integer offsets.
    taps = np.arange(2 * radius + 1)
    weights = np.exp(-(taps**2) / (2 * sigma**2))
    weights /= weights.sum()
    pad = 2 * radius + 1
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    n, rows, cols = np.arange(len(x))[:, None, None], np.arange(SIDE)[None, :, None], np.arange(SIDE)[None, None, :]
    out = np.zeros_like(x)
    for tap, weight in zip(taps, weights):
        dy = np.ceil(tap * np.sin(angle) - 0.5).astype(int)[:, None, None]
        dx = np.ceil(tap * np.cos(angle) - 0.5).astype(int)[:, None, None]
        out += weight * padded[n, rows + pad + dy, cols + pad + dx]
    return out


@corruption("shear", 2)
def shear(x, rng, severity):
    amount = [0.2, 0.4, 0.6, 0.8, 1.0][severity - 1] * random_signs(rng, len(x))
    linear = np.zeros((len(x), 2, 2))
    linear[:, 0, 0], linear[:, 0, 1], linear[:, 1, 1] = 1, -np.sin(amount), np.cos(amount)  # skimage's shear
    return warp(x, centred(linear))


@corruption("scale", 3)
def scale(x, rng, severity):
    factor = 1 / [0.9, 0.8, 0.7, 0.6, 0.5][severity - 1]  # an inverse map: the digit shrinks by 1/factor
    return warp(x, centred(np.tile(np.eye(2) * factor, (len(x), 1, 1))))


@corruption("rotate", 2)
def rotate(x, rng, severity):
    angle = [0.2, 0.4, 0.6, 0.8, 1.0][severity - 1] * random_signs(rng, len(x))  # radians
    cos, sin = np.cos(angle), np.sin(angle)
    return warp(x, centred(np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)))


@corruption("brightness", 5)
def brightness(x, rng, severity):
    # MNIST-C adds c to V in HSV; for a grey pixel V is the grey value itself.
    return x + [0.1, 0.2, 0.3, 0.4, 0.5][severity - 1]


@corruption("translate", 3)
def translate(x, rng, severity):
    shift = [1, 2, 3, 4, 5][severity - 1] * random_signs(rng, (len(x), 2))
    matrices = np.tile(np.eye(3), (len(x), 1, 1))
    matrices[:, :2, 2] = shift
    return warp(x, matrices)


@corruption("stripe", None)
def stripe(x, rng, severity):
    x = x.copy()
    x[:, :, :7] = 1 - x[:, :, :7]
    x[:, :, 21:] = 1 - x[:, :, 21:]
    return x


@corruption("fog", 5)
def fog(x, rng, severity):
    strength, decay = [(1.5, 2), (2.0, 2), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)][severity - 1]
    plasma = in_chunks(lambda a, b: plasma_fractal(rng, b - a, decay)[:, :SIDE, :SIDE], len(x))
    peak = x.max(axis=(1, 2), keepdims=True)
    return (x + strength * plasma) * peak / (peak + strength)


@corruption("spatter", 4)
def spatter(x, rng, severity):
    loc, spread, sigma, threshold, mask_sigma, _ = [
        (0.65, 0.3, 4, 0.69, 0.6, 0),
        (0.65, 0.3, 3, 0.68, 0.6, 0),
        (0.65, 0.3, 2, 0.68, 0.5, 0),
        (0.65, 0.3, 1, 0.65, 1.5, 1),
        (0.67, 0.4, 1, 0.65, 1.5, 1),
    ][severity - 1]
    liquid = gaussian(rng.normal(loc, spread, x.shape), sigma)
    liquid[liquid < threshold] = 0
    mask = gaussian((liquid > threshold).astype(np.float64), mask_sigma)
    mask[mask < 0.8] = 0
    return x * (1 - mask) + 63 / 255 * mask  # mud


@corruption("dotted_line", None)
def dotted_line(x, rng, severity):
    ends = rng.integers(0, 27, size=(len(x), 2))
    dashes = np.ones(SIDE)
    for start in range(0, 28, 4):  # MNIST-C blanks every other 2-pixel run of columns
        dashes[start : start + 2] = 0
    lines = np.stack([line_from_points(0, r0, 27, r1) for r0, r1 in ends]) * dashes
    return x + lines


@corruption("zigzag", None)
def zigzag(x, rng, severity):
    out = x.copy()
    for image, r0, rise in zip(out, rng.integers(0, 27, len(x)), rng.integers(-5, 5, len(x))):
        for (ca, ra), (cb, rb) in zip(*zigzag_points(r0, r0 + rise)):
            image += line_from_points(ca, ra, cb, rb)
            np.clip(image, 0, 1, out=image)
    return out


def zigzag_points(r0: float, r1: float, length: float = 2.0, width: float = 2.0, c0: float = 2, c1: float = 25):
    """MNIST-C's zigzag: teeth ``length`` apart and ``width`` high along the line (c0, r0)–(c1, r1)."""
    theta = np.arctan((r1 - r0) / (c1 - c0))
    d = (c1 - c0) / np.cos(theta)
    points = [(0.0, 0.0)]
    for i in range(int((d - length) // (2 * length)) + 1):
        points.append(((2 * i + 1) * length, (-1) ** i * width))
    last = (2 * length) * (d // (2 * length))
    if d != last:
        points.append((d, points[-1][1] / (2 * (d - last))))
    cs, rs = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]) @ np.array(points).T
    cs, rs = cs + c0, rs + r0
    segments = list(zip(cs, rs))
    return segments[:-1], segments[1:]


@corruption("canny_edges", None)
def canny_edges(x, rng, severity):
    # skimage's canny: Gaussian σ 1 normalised at the border, Sobel gradients, non-maximum suppression,
    # hysteresis between 0.1 and 0.2 (its defaults for float images).
    smoothed = gaussian_zero(x, 1.0) / gaussian_zero(np.ones_like(x[:1]), 1.0)
    padded = np.pad(smoothed, ((0, 0), (1, 1), (1, 1)), mode="edge")

    def at(dr, dc):
        return padded[:, 1 + dr : 1 + dr + SIDE, 1 + dc : 1 + dc + SIDE]

    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
    gx, gy = gx / 4, gy / 4  # skimage's sobel is normalised by 4 per axis
    magnitude = np.hypot(gx, gy)
    direction = (np.round(np.arctan2(gy, gx) / (np.pi / 4)) % 4).astype(int)  # 0: –, 1: /, 2: |, 3: \
    mag = np.pad(magnitude, ((0, 0), (1, 1), (1, 1)))
    neighbours = {0: ((0, 1), (0, -1)), 1: ((1, 1), (-1, -1)), 2: ((1, 0), (-1, 0)), 3: ((1, -1), (-1, 1))}
    local_max = np.zeros_like(magnitude, dtype=bool)
    for d, ((ra, ca), (rb, cb)) in neighbours.items():
        a = mag[:, 1 + ra : 1 + ra + SIDE, 1 + ca : 1 + ca + SIDE]
        b = mag[:, 1 + rb : 1 + rb + SIDE, 1 + cb : 1 + cb + SIDE]
        local_max |= (direction == d) & (magnitude >= a) & (magnitude >= b)
    local_max[:, [0, -1], :] = local_max[:, :, [0, -1]] = False  # skimage erodes the border
    weak = local_max & (magnitude >= 0.1)
    edges = local_max & (magnitude >= 0.2)
    while True:  # hysteresis: grow the strong edges through 8-connected weak ones
        grown = np.pad(edges, ((0, 0), (1, 1), (1, 1)))
        grown = (
            np.any(
                [grown[:, 1 + dr : 1 + dr + SIDE, 1 + dc : 1 + dc + SIDE] for dr in (-1, 0, 1) for dc in (-1, 0, 1)],
                axis=0,
            )
            & weak
        )
        if np.array_equal(grown, edges):
            return edges.astype(np.float64)
        edges = grown


def gaussian_zero(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with a black border (skimage's mode 'constant'), as Canny smooths."""
    radius = int(4 * sigma + 0.5)
    padded = np.pad(images, ((0, 0), (radius, radius), (radius, radius)))
    return gaussian(padded, sigma)[:, radius:-radius, radius:-radius]
