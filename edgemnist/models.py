"""Architecture registry. ``seed`` is the tutorial's CNN layer for layer; ``mcu`` is made for micro-controllers
(≤ 20 k parameters, ≤ 1.5 M MACs, 99.4 % int8); ``edge`` is a larger compact CNN. Each entry builds an uncompiled
Keras model taking float32 28×28×1 in [0, 1] and returning 10 softmax probabilities (the input contract of
``edgemnist.contract``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .common.deps import import_keras
from .common.registry import Registry


@dataclass(frozen=True)
class Architecture:
    name: str
    build: Callable  # (keras) -> keras.Model
    summary: str
    augment: str = ""  # the training augmentation, a name from edgemnist.augment ("jitter", "field")
    # The training recipe: the tutorial's by default; train() and the CLI use these unless told otherwise.
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3  # peak of the schedule
    warmup: float = 0.0  # fraction of the steps spent ramping the rate up linearly from 0 (one-cycle style)


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def architecture(name: str, summary: str, **recipe):
    """Register a builder; ``recipe`` sets the Architecture fields after ``summary`` (augment, epochs, …)."""

    def add(build):
        ARCHITECTURES.register(name)(Architecture(name, build, summary, **recipe))
        return build

    return add


def conv_bn_relu(layers, x, filters: int, padding: str = "same"):
    """3×3 convolution without bias (batch norm brings its own), batch norm, ReLU: one int8 conv on export."""
    x = layers.Conv2D(filters, 3, padding=padding, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


@architecture(
    "seed", "the tutorial's CNN: Conv2D 28×3×3 → MaxPool → Dense 128 → Dropout 0.2 → Dense 10 (607,394 params)"
)
def build_seed(keras):
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1), name="digits"),
            layers.Conv2D(28, kernel_size=(3, 3)),  # the tutorial has no activation here
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="seed",
    )


@architecture(
    "edge", "compact CNN: 5 conv blocks with batch norm, global pooling (35 k params, 5.5 M MACs)", augment="jitter"
)
def build_edge(keras):
    layers = keras.layers

    def conv_block(x, filters):
        return conv_bn_relu(layers, x, filters)

    inputs = keras.Input(shape=(28, 28, 1), name="digits")
    x = conv_block(inputs, 16)
    x = conv_block(x, 16)
    x = layers.MaxPooling2D()(x)
    x = conv_block(x, 32)
    x = conv_block(x, 32)
    x = layers.MaxPooling2D()(x)
    x = conv_block(x, 64)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="edge")


@architecture(
    "mcu",
    "micro-controller CNN for the field: in-graph mean subtraction, unpadded 3×3 convs 8-12 | pool | 24-24-40 "
    "with batch norm, global pooling, field augmentation (17.9 k params, 1.45 M MACs)",
    augment="field",
    epochs=20,
    batch_size=128,
    learning_rate=4e-3,
    warmup=0.15,
)
def build_mcu(keras):
    # chosen on a validation split of the training digits (benchmarks/field_recipe.py), never on test or MNIST-C
    return mcu_network(keras, (8, 12, 24, 24, 40), standardise=True)


def without_image_mean(layers, inputs):
    """Each digit minus its own mean intensity: grey paper and a uniform lift vanish before the first conv.
    Two ops on every backend (MEAN, SUB), 1.6 k operations."""
    mean = layers.GlobalAveragePooling2D(keepdims=True, name="image_mean")(inputs)
    return layers.Subtract(name="without_image_mean")([inputs, mean])


def mcu_network(keras, widths=(8, 16, 16, 16, 32), standardise: bool = False, name: str = "mcu"):
    # MACs follow resolution × channels²: one narrow layer at full size, one pool, and unpadded convolutions
    # that shrink the map by 2 pixels each (24 → 12 → 6) instead of more pools; no dense layer but the last.
    layers = keras.layers

    def conv_block(x, filters):
        return conv_bn_relu(layers, x, filters, padding="valid")

    inputs = keras.Input(shape=(28, 28, 1), name="digits")
    x = without_image_mean(layers, inputs) if standardise else inputs
    x = conv_block(conv_block(x, widths[0]), widths[1])  # 26×26, 24×24
    x = layers.MaxPooling2D()(x)  # 12×12
    for filters in widths[2:]:  # 10×10, 8×8, 6×6
        x = conv_block(x, filters)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def build_model(name: str):
    """Build the named architecture as an uncompiled Keras model."""
    arch = ARCHITECTURES.get(name)
    return arch.build(import_keras())
