"""Choose the field recipe on the validation split: train a variant on the first 55,000 training digits, score
its Keras model on the last 5,000, clean and under the field conditions of ``field_validation.py``.

    EDGEMNIST_DATA=… nice -n 10 python -m benchmarks.field_recipe VARIANT [VARIANT …]

Nothing here reads the test split or MNIST-C. One JSON per variant in runs/field-recipe/.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from edgemnist.augment import AUGMENTATIONS, Field
from edgemnist.common.deps import import_keras
from edgemnist.data import load_mnist
from edgemnist.models import ARCHITECTURES, architecture, mcu_network
from edgemnist.train import train

from .field_validation import VALIDATION, field_set

OUT = Path(__file__).resolve().parents[1] / "runs" / "field-recipe"
RECIPE = dict(augment="field", epochs=24, batch_size=128, learning_rate=4e-3, warmup=0.15)
NO_TONE = {"p_two_tone": 0.0, "p_outline": 0.0}  # the field before two-tone paper and outlined strokes
# name → (widths, standardise, recipe changes, field changes)
VARIANTS = {
    "mcu-field": ((8, 16, 16, 16, 32), False, {}, NO_TONE),
    "mcu-field-std": ((8, 16, 16, 16, 32), True, {}, NO_TONE),
    "wide-field-std": ((8, 12, 24, 24, 40), True, {}, NO_TONE),
    "wide-field": ((8, 12, 24, 24, 40), False, {}, NO_TONE),
    "wide-field-std-30": ((8, 12, 24, 24, 40), True, {"epochs": 30}, NO_TONE),
    "wide-field-std-c65": ((8, 12, 24, 24, 40), True, {}, {**NO_TONE, "clean_fraction": 0.65}),
    "wide-field-std-c35": ((8, 12, 24, 24, 40), True, {}, {**NO_TONE, "clean_fraction": 0.35}),
    "wide-field-std-20": ((8, 12, 24, 24, 40), True, {"epochs": 20}, NO_TONE),
    "wide-field-std-tone": ((8, 12, 24, 24, 40), True, {}, {}),
    "wide-field-std-tone-20": ((8, 12, 24, 24, 40), True, {"epochs": 20}, {}),
}


def register(name: str):
    widths, standardise, recipe, field = VARIANTS[name]
    augmentation = f"field-{name}"
    if augmentation not in AUGMENTATIONS.names():
        AUGMENTATIONS.register(augmentation)(dataclasses.replace(Field(), **field))
    if name not in ARCHITECTURES.names():
        architecture(name, name, **{**RECIPE, **recipe, "augment": augmentation})(
            lambda keras: mcu_network(keras, widths, standardise, name="mcu")
        )


def score(model, images, labels) -> float:
    probabilities = model.predict(images[..., None], batch_size=1000, verbose=0)
    return round(float(np.mean(np.argmax(probabilities, axis=1) == labels)), 4)


def run(name: str) -> dict:
    register(name)
    cpu = time.process_time()
    trained = train(name, seed=0, out=OUT / name, train_limit=VALIDATION.start)
    cpu = time.process_time() - cpu
    mnist = load_mnist()
    images = mnist.x_train[VALIDATION].astype(np.float32) / 255
    labels = mnist.y_train[VALIDATION]
    model = import_keras().models.load_model(trained.model_path)
    field = {condition: score(model, x, labels) for condition, x in field_set(images).items()}
    return {
        "variant": name,
        "spec": VARIANTS[name],
        "parameters": trained.parameters,
        "epochs": trained.epochs,
        "wall_s": trained.wall_time_s,
        "cpu_s": round(cpu, 1),
        "validation_clean": score(model, images, labels),
        "validation_field_mean": round(float(np.mean(list(field.values()))), 4),
        "validation_field": field,
    }


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for variant in sys.argv[1:]:
        result = run(variant)
        (OUT / f"{variant}.json").write_text(json.dumps(result, indent=1))
        print(json.dumps(result), flush=True)
