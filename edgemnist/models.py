"""Architecture registry. ``seed`` is the tutorial's CNN layer for layer; ``edge`` is a compact CNN for
micro-controllers. Each entry builds an uncompiled Keras model taking float32 28×28×1 in [0, 1] and
returning 10 softmax probabilities (the input contract of ``edgemnist.contract``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .common.deps import import_keras
from .common.registry import Registry


@dataclass(frozen=True)
class Architecture:
    name: str
    build: Callable  # (keras) -> keras.Model
    summary: str
    augment: bool = False  # small random shifts/rotations of the training digits


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def architecture(name: str, summary: str, augment: bool = False):
    def add(build):
        ARCHITECTURES.register(name)(Architecture(name, build, summary, augment))
        return build

    return add


@architecture("seed", "the tutorial's CNN: Conv2D 28×3×3 → MaxPool → Dense 128 → Dropout 0.2 → Dense 10 (607,394 params)")
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


@architecture("edge", "compact CNN for micro-controllers: 5 conv blocks with batch norm, global pooling", augment=True)
def build_edge(keras):
    layers = keras.layers

    def conv_block(x, filters):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

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


def build_model(name: str):
    """Build the named architecture as an uncompiled Keras model."""
    arch = ARCHITECTURES.get(name)
    return arch.build(import_keras())
