"""Train a registered architecture on MNIST, seeded and deterministic on CPU.

Recipe: the tutorial's Adam and sparse categorical cross-entropy, with the learning rate decayed from
1e-3 to 0 along a cosine over all steps (the same architecture reaches a higher, steadier accuracy than
with a constant rate). An architecture may set its own epochs, batch size, peak rate and a linear warm-up
(a one-cycle-style schedule) and the augmentation it trains with (``edgemnist.augment``: ``jitter``, small shifts
and rotations; ``field``, what a camera or a sensor does to a digit).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .augment import augment_dataset
from .common.deps import import_keras, import_tensorflow
from .common.files import atomic_path, ensure_dir, write_json
from .common.progress import SILENT, Progress
from .common.render import plural
from .common.versions import tool_versions
from .contract import to_float01
from .data import load_mnist
from .models import ARCHITECTURES, build_model


@dataclass
class TrainResult:
    arch: str
    epochs: int
    batch_size: int
    seed: int
    train_images: int
    history: list = field(default_factory=list)  # one {"epoch", "loss", "accuracy"} per epoch
    test_accuracy: float = 0.0
    parameters: int = 0
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0  # every thread's CPU time while training: comparable on a busy machine
    model_path: str = ""
    versions: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    """Python, NumPy and TensorFlow seeds plus deterministic kernels: same command, same model. Keras' layer-name
    counters restart too, so a model trained after others in one process is named, and exports byte for byte,
    as in a fresh process."""
    tf = import_tensorflow()
    keras = import_keras()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def training_dataset(images, labels, batch_size: int, seed: int, augment: str):
    """Shuffled batches, passed through the architecture's augmentation (``edgemnist.augment``) if it names one."""
    tf = import_tensorflow()
    dataset = tf.data.Dataset.from_tensor_slices((to_float01(images), labels.astype(np.int32)))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    if augment:
        dataset = augment_dataset(dataset, augment, seed)
    return dataset.prefetch(2)


def epoch_reporter(keras, advance, progress: Progress, epochs: int):
    """A Keras callback feeding our progress bar (one library for every bar) instead of Keras' own."""

    class EpochReporter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            advance()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            validated = f", val accuracy {logs['val_accuracy']:.4f}" if "val_accuracy" in logs else ""
            progress.say(
                f"epoch {epoch + 1}/{epochs}: loss {logs.get('loss', 0):.4f}, accuracy {logs.get('accuracy', 0):.4f}"
                + validated
            )

    return EpochReporter()


def keras_accuracy(model, images, labels) -> float:
    probabilities = model.predict(to_float01(images), batch_size=1000, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))


def learning_rate_schedule(keras, architecture, steps: int):
    """Cosine decay to 0 over all steps, after a linear warm-up from 0 when the architecture asks for one."""
    warmup_steps = int(architecture.warmup * steps)
    if not warmup_steps:
        return keras.optimizers.schedules.CosineDecay(architecture.learning_rate, decay_steps=steps)
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=steps - warmup_steps, warmup_target=architecture.learning_rate, warmup_steps=warmup_steps
    )


@dataclass
class Fitted:
    """What one run of ``fit`` did: each epoch's metrics and the time it took."""

    history: list  # one {"epoch", "loss", "accuracy"[, "val_loss", "val_accuracy"]} per epoch
    wall_time_s: float
    cpu_time_s: float  # every thread's CPU time while training: comparable on a busy machine


def fit(model, dataset, epochs: int, schedule, steps: int, label: str, progress: Progress, validation=None) -> Fitted:
    """Adam over ``schedule`` with sparse categorical cross-entropy, ``epochs`` passes of ``dataset`` (which
    shuffles itself; an endless one gives ``steps // epochs`` batches an epoch), timed; ``validation``: (float
    images, labels) scored after each epoch."""
    keras = import_keras()
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    with progress.bar(label, steps) as advance:
        reporter = epoch_reporter(keras, advance, progress, epochs)
        history = model.fit(
            dataset,
            epochs=epochs,
            steps_per_epoch=None if dataset.cardinality() > 0 else steps // epochs,
            verbose=0,
            shuffle=False,
            callbacks=[reporter],
            validation_data=validation,
        ).history
    return Fitted(
        [
            {"epoch": epoch + 1, **{name: round(float(history[name][epoch]), 6) for name in metric_order(history)}}
            for epoch in range(len(history["loss"]))
        ],
        round(time.perf_counter() - started, 2),
        round(time.process_time() - cpu_started, 2),
    )


def metric_order(history: dict) -> list[str]:
    """loss, accuracy, then their validation twins: the order a reader compares them in."""
    return sorted(history, key=lambda name: (name.startswith("val_"), name.removeprefix("val_") != "loss"))


def train(
    arch: str = "seed",
    epochs: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    out: str | Path = "models",
    data_dir: str | None = None,
    train_limit: int | None = None,
    progress: Progress = SILENT,
) -> TrainResult:
    """Train ``arch`` and write ``out/<arch>.keras`` and ``out/metrics.json`` atomically.

    ``epochs`` and ``batch_size`` default to the architecture's recipe."""
    architecture = ARCHITECTURES.get(arch)
    epochs = epochs or architecture.epochs
    batch_size = batch_size or architecture.batch_size
    out = ensure_dir(out)
    mnist = load_mnist(data_dir)
    x_train, y_train = mnist.x_train[:train_limit], mnist.y_train[:train_limit]
    seed_everything(seed)
    model = build_model(arch)
    steps = epochs * math.ceil(len(x_train) / batch_size)
    fitted = fit(
        model,
        training_dataset(x_train, y_train, batch_size, seed, architecture.augment),
        epochs,
        learning_rate_schedule(import_keras(), architecture, steps),
        steps,
        f"training {arch}",
        progress,
    )
    result = TrainResult(
        arch=arch,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        train_images=len(x_train),
        history=fitted.history,
        test_accuracy=keras_accuracy(model, mnist.x_test, mnist.y_test),
        parameters=int(model.count_params()),
        wall_time_s=fitted.wall_time_s,
        cpu_time_s=fitted.cpu_time_s,
        model_path=str(out / f"{arch}.keras"),
        versions=tool_versions(),
    )
    save_model(model, result.model_path)
    write_json(out / "metrics.json", asdict(result))
    return result


def save_model(model, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        model.save(tmp)


def find_latest_model(root=".") -> Path:
    """The most recently written .keras model under ``root`` (up to two folders deep)."""
    from .common.errors import EdgemnistError

    root = Path(root)
    candidates = [p for pattern in ("*.keras", "*/*.keras", "*/*/*.keras") for p in root.glob(pattern)]
    if not candidates:
        raise EdgemnistError(
            "no model given and no trained .keras model found here; run 'edgemnist train' or pass MODEL"
        )
    return max(candidates, key=lambda p: p.stat().st_mtime)


def train_text(result) -> str:
    return (
        f"{result.arch}: test accuracy {result.test_accuracy:.2%} after {plural(result.epochs, 'epoch')} "
        f"({result.parameters:,} parameters, {result.wall_time_s:.0f} s) → {result.model_path}"
    )
