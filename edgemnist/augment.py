"""Training-time augmentations, one registered name per recipe; an architecture names the one it trains with.

``jitter`` is the small shift and rotation the compact models always had. ``field`` draws what a camera or a
sensor gives a deployed model: grey paper, low contrast, uneven light, sensor noise, defocus, thin and thick pens,
things in front of the digit, ruled lines, light-on-dark or dark-on-light (all over, or in one band of two-tone paper),
outlined strokes, a digit off-centre or turned. None of
it comes from MNIST-C (``edgemnist.robustness``), which stays the held-out test of robustness.

Every draw is stateless, seeded by (seed, batch number): the same seed gives the same images in any process.
Images are float32 batches, B×28×28×1 in [0, 1] (1.0 = 255 intensity levels, ink bright on a dark ground).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .common.deps import import_keras, import_tensorflow
from .common.registry import Registry

SIDE = 28
CENTRE = (SIDE - 1) / 2


@dataclass(frozen=True)
class Field:
    """Ranges in physical units; each field effect is applied to a digit with probability ``p``."""

    clean_fraction: float = 0.5  # digits that get only the mild ``jitter`` geometry: keeps clean accuracy
    p: float = 0.5  # chance of each photometric effect on a field digit
    rotation_deg: float = 20.0  # ± degrees
    shift_px: float = 4.0  # ± pixels each way
    scale: float = 0.2  # size × (1 ± scale)
    shear: float = 0.25  # ± horizontal shear (0.25 ≈ 14°)
    background: float = 0.5  # paper lifted by up to this many full scales (0.5 ≈ 128 levels)
    min_contrast: float = 0.3  # ink-to-paper contrast down to 30 % of full scale
    gradient: float = 0.3  # a linear light ramp, up to this peak-to-peak
    blotches: float = 0.3  # smooth uneven light (a 4×4 random field upsampled), up to this amplitude
    noise_sigma: float = 0.3  # Gaussian sensor noise, σ up to 0.3 full scale (≈ 77 levels)
    dead_pixels: float = 0.04  # up to 4 % of pixels stuck at black or white
    blur_sigma: float = 1.5  # defocus: blended with a Gaussian blur of σ 1.5 px by a random weight
    stroke: float = 1.0  # pen width: blended with a 3×3 dilation (thicker) or erosion (thinner) by up to this weight
    p_occlusion: float = 0.25  # a rectangle of paper 3–10 px a side hides part of the digit
    p_line: float = 0.25  # a ruled line or scratch, 1–2.5 px wide, solid or dashed, across the image
    p_inverted: float = 0.05  # dark ink on light paper
    p_two_tone: float = 0.1  # two-tone paper: in one band 4–14 px wide, at any angle, ink and paper swap
    p_outline: float = 0.1  # outlined strokes: only a 1-px ring around each stroke (stencils, edge-enhancing cameras)


@dataclass(frozen=True)
class Jitter:
    turn: float = 0.03  # ± 0.03 of a full turn: ±10.8°
    side: float = 0.08  # ± 0.08 of the 28-pixel side each way: ±2.24 px


AUGMENTATIONS: Registry = Registry("augmentation")
AUGMENTATIONS.register("jitter")(Jitter())
AUGMENTATIONS.register("field")(Field())


class Draws:
    """Stateless per-image random numbers, each call a fresh stream of (seed, batch, call number)."""

    def __init__(self, tf, seed: int, step, batch, calls: int = 0):
        self.tf, self.seed, self.step, self.batch, self.calls = tf, seed, step, batch, calls

    def fork(self, first_call: int) -> Draws:
        """Streams numbered from ``first_call``: effects added later draw here, so older ones keep their draws."""
        return Draws(self.tf, self.seed, self.step, self.batch, first_call)

    def stream(self):
        self.calls += 1
        return self.tf.stack([self.tf.constant(self.seed * 1000 + self.calls, self.tf.int64), self.step])

    def uniform(self, low=0.0, high=1.0, shape=()):
        return self.tf.random.stateless_uniform((self.batch, *shape), self.stream(), low, high)

    def normal(self, shape):
        return self.tf.random.stateless_normal((self.batch, *shape), self.stream())

    def chance(self, p: float, mask=None):
        """1.0 for a digit that gets the effect, else 0.0, shaped B×1×1×1 to scale whole images."""
        hit = self.tf.cast(self.uniform() < p, self.tf.float32)
        return self.tf.reshape(hit if mask is None else hit * mask, (-1, 1, 1, 1))


def per_image(values):
    return values[:, None, None, None]


def affine(tf, images, draws: Draws, rotation_deg, shift_px, scale=0.0, shear=0.0):
    """Rotate, scale, shear about the centre and shift; ranges may be per-image tensors (shape B)."""
    angle = draws.uniform(-1, 1) * rotation_deg * (math.pi / 180)
    size = 1 + draws.uniform(-1, 1) * scale
    slant = draws.uniform(-1, 1) * shear
    shift_x, shift_y = (draws.uniform(-1, 1) * shift_px for _ in range(2))
    # The transform maps each output pixel to the input pixel it reads: (rotation · shear) / size.
    cos, sin = tf.cos(angle) / size, tf.sin(angle) / size
    a0, a1, b0, b1 = cos, cos * slant - sin, sin, sin * slant + cos
    a2 = CENTRE - a0 * (CENTRE + shift_x) - a1 * (CENTRE + shift_y)
    b2 = CENTRE - b0 * (CENTRE + shift_x) - b1 * (CENTRE + shift_y)
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.constant([SIDE, SIDE]),
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def gaussian_blur(tf, images, sigma: float):
    radius = math.ceil(3 * sigma)
    taps = tf.exp(-(tf.range(-radius, radius + 1, dtype=tf.float32) ** 2) / (2 * sigma**2))
    taps = taps / tf.reduce_sum(taps)
    images = tf.nn.conv2d(images, tf.reshape(taps, (-1, 1, 1, 1)), 1, "SAME")
    return tf.nn.conv2d(images, tf.reshape(taps, (1, -1, 1, 1)), 1, "SAME")


def grid(tf):
    rows, cols = tf.meshgrid(tf.range(SIDE, dtype=tf.float32) - CENTRE, tf.range(SIDE, dtype=tf.float32) - CENTRE)
    return tf.transpose(rows)[None, :, :, None], tf.transpose(cols)[None, :, :, None]  # 1×28×28×1


def strip(tf, draws: Draws, max_offset: float, widths: tuple[float, float]):
    """A straight strip at a random angle, its axis within ``max_offset`` px of the centre: each pixel's distance
    across the strip and along it, and the strip's width in pixels (per image)."""
    rows, cols = grid(tf)
    angle = per_image(draws.uniform(0, math.pi))
    offset = per_image(draws.uniform(-max_offset, max_offset))
    width = per_image(draws.uniform(*widths))
    across = cols * tf.cos(angle) + rows * tf.sin(angle) - offset
    along = -cols * tf.sin(angle) + rows * tf.cos(angle)
    return across, along, width


def lines(tf, draws: Draws):
    """A straight line at a random angle and offset, 1–2.5 px wide, half of them dashed (period 4–8 px)."""
    across, along, width = strip(tf, draws, 10, (1.0, 2.5))
    line = tf.clip_by_value(width / 2 + 0.5 - tf.abs(across), 0, 1)
    period = per_image(draws.uniform(4, 8))
    dashed = per_image(tf.cast(draws.uniform() < 0.5, tf.float32))
    dashes = tf.cast(tf.math.floormod(along, period) < period / 2, tf.float32)
    return line * (1 - dashed + dashed * dashes)


def band(tf, draws: Draws):
    """1 inside a straight band 4–14 px wide at a random angle, within 8 px of the centre, else 0."""
    across, _, width = strip(tf, draws, 8, (4, 14))
    return tf.cast(tf.abs(across) < width / 2, tf.float32)


def rectangle(tf, draws: Draws):
    rows, cols = grid(tf)
    height, width = (per_image(draws.uniform(3, 10)) for _ in range(2))
    top, left = (per_image(draws.uniform(-10, 10)) for _ in range(2))
    inside = (rows >= top) & (rows < top + height) & (cols >= left) & (cols < left + width)
    return tf.cast(inside, tf.float32)


def field_batch(tf, images, spec: Field, draws: Draws):
    """One batch through the field: geometry, pen, defocus, light, occlusion, noise, polarity."""
    field = tf.cast(draws.uniform() >= spec.clean_fraction, tf.float32)  # B: 1 for a field digit
    jitter = Jitter()

    def mild_or_wide(mild, wide):
        return mild + field * (wide - mild)

    images = affine(
        tf,
        images,
        draws,
        mild_or_wide(jitter.turn * 360, spec.rotation_deg),
        mild_or_wide(jitter.side * SIDE, spec.shift_px),
        field * spec.scale,
        field * spec.shear,
    )
    pen = per_image(draws.uniform(-spec.stroke, spec.stroke)) * draws.chance(spec.p, field)
    thick = tf.nn.max_pool2d(images, 3, 1, "SAME")
    thin = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    images = images + tf.nn.relu(pen) * (thick - images) + tf.nn.relu(-pen) * (thin - images)
    later = draws.fork(500)
    outline = later.chance(spec.p_outline, field)
    images = images + outline * (tf.nn.relu(tf.nn.max_pool2d(images, 3, 1, "SAME") - images) - images)
    defocus = per_image(draws.uniform()) * draws.chance(spec.p, field)
    images = images + defocus * (gaussian_blur(tf, images, spec.blur_sigma) - images)

    paper = per_image(draws.uniform(0, spec.background)) * draws.chance(spec.p, field)
    contrast = per_image(draws.uniform(spec.min_contrast, 1.0))
    contrast = 1 + draws.chance(spec.p, field) * (tf.minimum(contrast, 1 - paper) - 1)
    rows, cols = grid(tf)
    ramp_angle = per_image(draws.uniform(0, 2 * math.pi))
    ramp = (cols * tf.cos(ramp_angle) + rows * tf.sin(ramp_angle)) / SIDE  # −0.5…0.5 across the image
    ramp = ramp * per_image(draws.uniform(0, spec.gradient)) * draws.chance(spec.p, field)
    coarse = draws.uniform(0, 1, (4, 4, 1))
    blotch = tf.image.resize(coarse, (SIDE, SIDE), "bilinear") * per_image(draws.uniform(0, spec.blotches))
    light = paper + ramp + blotch * draws.chance(spec.p, field)
    images = light + contrast * images

    hidden = rectangle(tf, draws) * draws.chance(spec.p_occlusion, field)
    images = images + hidden * (light - images)
    line = lines(tf, draws) * per_image(draws.uniform(0.5, 1.0)) * draws.chance(spec.p_line, field)
    images = tf.maximum(images, line)

    sigma = per_image(draws.uniform(0, spec.noise_sigma)) * draws.chance(spec.p, field)
    images = images + sigma * draws.normal((SIDE, SIDE, 1))
    stuck = draws.uniform(0, 1, (SIDE, SIDE, 1)) < per_image(draws.uniform(0, spec.dead_pixels))
    stuck = tf.cast(stuck, tf.float32) * draws.chance(spec.p, field)
    white = tf.cast(draws.uniform(0, 1, (SIDE, SIDE, 1)) < 0.5, tf.float32)
    images = images + stuck * (white - images)
    images = tf.clip_by_value(images, 0, 1)
    two_tone = band(tf, later) * later.chance(spec.p_two_tone, field)
    inverted = tf.maximum(draws.chance(spec.p_inverted, field), two_tone)
    return images + inverted * (1 - 2 * images)


def keras_jitter(spec: Jitter, seed: int):
    """``jitter`` as Keras' own random layers, as the shipped edge model was trained (so it rebuilds as shipped)."""
    keras = import_keras()
    return keras.Sequential(
        [
            keras.layers.RandomRotation(spec.turn, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(spec.side, spec.side, fill_mode="constant", seed=seed + 1),
        ]
    )


def augment_dataset(dataset, name: str, seed: int):
    """Map a batched (images, labels) dataset through the named augmentation, batch by batch."""
    tf = import_tensorflow()
    spec = AUGMENTATIONS.get(name)
    if isinstance(spec, Jitter):
        jitter = keras_jitter(spec, seed)
        return dataset.map(lambda x, y: (jitter(x, training=True), y))

    def one_batch(step, batch):
        images, labels = batch
        return field_batch(tf, images, spec, Draws(tf, seed, step, tf.shape(images)[0])), labels

    return dataset.enumerate().map(one_batch, num_parallel_calls=1, deterministic=True)
