"""Fine-tune a trained Keras model on a user's own digits without forgetting MNIST, then export it int8 calibrated
on those digits and check parity there.

Recipe: the user's train part mixed with MNIST's training digits (``mnist_share`` of every epoch's examples, fresh
ones each epoch, so that the model keeps reading MNIST), no augmentation unless asked for, and Adam along a cosine
from a rate below training's peak to 0 (the start is already a good model).
It is scored before and after on the user's held-out test part and on the MNIST test set, and its int8 exports
on both; the test part chooses nothing (the recipe was chosen on a validation split: benchmarks/own_digits.py).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .augment import augment_dataset
from .common.deps import import_keras
from .common.errors import EdgemnistError
from .common.files import ensure_dir, write_json
from .common.progress import SILENT, Progress
from .common.render import percent, plural, text_table
from .common.versions import tool_versions
from .contract import to_float01
from .datasets import DataSelection, DigitSet, as_selection, scoring_digits, training_digits
from .export.calibration import DEFAULT_CALIBRATION, representative_indices
from .models import ARCHITECTURES

FINETUNE_NEEDS = "finetune starts from a trained Keras model (.keras): give the .keras it was exported from"


@dataclass(frozen=True)
class FinetuneRecipe:
    """How the fine-tuning trains; ``learning_rate`` and ``warmup`` shape the schedule as in ``train``.

    Chosen for mcu on scikit-learn's digits split 40:10:50, on the val part and on MNIST's last 5,000 training
    digits, never on the test half (benchmarks/own_digits.py): a share of 0.75 forgot less MNIST than 0.5 and
    learned the val part better than 0.9; a peak of 3e-4 learned it less well than 1e-3; mcu's own augmentation
    (field) learned it less well than none (val loss 0.017 against 0.010, the same accuracy) in twice the time."""

    epochs: int = 15
    batch_size: int = 64
    learning_rate: float = 1e-3  # the cosine's peak: a quarter of mcu's training peak
    warmup: float = 0.1
    mnist_share: float = 0.75  # of each epoch's examples (3 MNIST digits to 1 of yours); 0: yours only
    augment: str | None = "none"  # a name from edgemnist.augment, "none", or None: the architecture's own


@dataclass
class Scores:
    """One model's accuracy on the user's held-out test part and on the MNIST test set."""

    model: str
    user_test: float
    mnist_test: float


@dataclass
class FinetuneResult:
    start: str  # the model fine-tuned from
    arch: str
    seed: int
    recipe: dict  # the FinetuneRecipe, its augmentation resolved
    user_images: int  # the user's train digits
    mnist_images: int  # MNIST training digits an epoch draws, on average (fresh ones, from all 60,000)
    train_images: int  # examples an epoch: batches × batch size
    trained_on: dict  # the user's train part (a DataRef)
    validated_on: dict | None  # the user's val part (a DataRef); None: no val part
    tested_on: dict  # the user's test part (a DataRef)
    mnist_test: dict  # the MNIST test set (a DataRef)
    history: list = field(default_factory=list)  # per epoch: loss, accuracy[, val_loss, val_accuracy]
    scores: list = field(default_factory=list)  # Scores: before, after (Keras float), each int8 export
    calibrated_on: dict | None = None  # the digits the int8 exports were calibrated on (a DataRef)
    exports: list = field(default_factory=list)  # export ArtifactRecords
    parity: list = field(default_factory=list)  # Comparisons, int8 against the fine-tuned model, on the test part
    parity_passed: bool = True
    wall_time_s: float = 0.0  # fine-tuning alone, as TrainResult times training
    cpu_time_s: float = 0.0
    model_path: str = ""
    versions: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def finetune(
    model_path,
    data: DataSelection | str | Path,
    out: str | Path = "finetuned",
    recipe: FinetuneRecipe = FinetuneRecipe(),
    seed: int = 0,
    mnist: str | None = None,
    calibration: int = DEFAULT_CALIBRATION,
    formats=("tflite", "onnx"),
    progress: Progress = SILENT,
) -> FinetuneResult:
    """Fine-tune the Keras model ``model_path`` on the train part of the user's ``data``, mixed with MNIST
    (``mnist``: its folder, default as ``edgemnist.data.load_mnist`` finds it); write ``out/<arch>.keras``, its
    int8 ``formats`` calibrated on the user's train digits, and ``out/finetune.json``."""
    from .export.runner import calibration_source, require_keras_model
    from .predict.keras import load_keras_model
    from .train import fit, learning_rate_schedule, save_model, seed_everything

    source = require_keras_model(model_path, FINETUNE_NEEDS)
    selection = as_selection(data)
    own, val, test = user_parts(selection)
    representative_indices(own.labels, calibration, calibration_source(own))  # too few digits: said before training
    mnist_train, mnist_test = training_digits(mnist), scoring_digits(mnist)
    out = ensure_dir(out)
    seed_everything(seed)
    model = load_keras_model(source)
    arch = model.name
    final_path = out / f"{arch}.keras"
    if final_path.resolve() == source.resolve():
        raise EdgemnistError(f"--out {out} would overwrite {source}; write the fine-tuned model to another folder")
    augment = resolved_augment(recipe.augment, arch)
    recipe = replace(recipe, augment=augment)
    dataset = mixed_with_mnist(own, mnist_train, recipe.mnist_share, recipe.batch_size, seed, augment)
    examples = batches_per_epoch(own, recipe.mnist_share, recipe.batch_size) * recipe.batch_size
    progress.say(
        f"fine-tuning {arch} on {plural(len(own.labels), 'image')} of {own.source} ({own.part} part), "
        f"{recipe.mnist_share:.0%} of {examples:,} examples an epoch drawn from MNIST's training digits"
    )
    before = keras_scores(model, str(source), test, mnist_test)
    progress.say(f"before: {percent(before.user_test)} on the test part, {percent(before.mnist_test)} on MNIST test")
    steps = recipe.epochs * batches_per_epoch(own, recipe.mnist_share, recipe.batch_size)
    fitted = fit(
        model,
        dataset,
        recipe.epochs,
        learning_rate_schedule(import_keras(), recipe, steps),
        steps,
        f"fine-tuning {arch}",
        progress,
        validation=(to_float01(val.images), val.labels) if val is not None else None,
    )
    save_model(model, final_path)
    after = keras_scores(model, str(final_path), test, mnist_test)
    progress.say(f"after: {percent(after.user_test)} on the test part, {percent(after.mnist_test)} on MNIST test")
    exported = export_int8(final_path, selection, mnist, out, calibration, formats, progress)
    result = FinetuneResult(
        start=str(source),
        arch=arch,
        seed=seed,
        recipe=asdict(recipe),
        user_images=len(own.labels),
        mnist_images=round(examples * recipe.mnist_share),
        train_images=examples,
        trained_on=own.describe().to_dict(),
        validated_on=val.describe().to_dict() if val is not None else None,
        tested_on=test.describe().to_dict(),
        mnist_test=mnist_test.describe().to_dict(),
        history=fitted.history,
        scores=[before, after, *exported.scores],
        calibrated_on=exported.calibrated_on,
        exports=exported.artifacts,
        parity=exported.parity,
        parity_passed=all(comparison.passed for comparison in exported.parity),
        wall_time_s=fitted.wall_time_s,
        cpu_time_s=fitted.cpu_time_s,
        model_path=str(final_path),
        versions=tool_versions(),
    )
    write_json(out / "finetune.json", result.to_dict())
    return result


@dataclass
class Int8Exports:
    calibrated_on: dict | None  # a DataRef; None when no format was asked for
    artifacts: list  # export ArtifactRecords
    scores: list  # Scores of each artifact
    parity: list  # Comparisons with the fine-tuned model on the user's test part


def export_int8(model_path: Path, selection: DataSelection, mnist, out: Path, calibration: int, formats, progress):
    """int8 ``formats`` of the fine-tuned model calibrated on the user's train digits, each scored on both test sets
    and held to export's int8 parity tolerance against the model on the user's test part."""
    from .export.runner import export
    from .export.validate import TOLERANCES
    from .parity import parity

    if not formats:
        return Int8Exports(None, [], [], [])
    progress.say(f"exporting int8 {', '.join(formats)}, calibrated on the user's train digits")
    exported = export(
        model_path,
        list(formats),
        "int8",
        out,
        calibration,
        validate=False,
        data=selection,
        progress=progress.indented(),
    )
    paths = [Path(exported.out) / artifact.file for artifact in exported.artifacts]
    on_test = parity(model_path, paths, TOLERANCES["int8"], data=replace(selection, part="test"), progress=progress)
    on_mnist = parity(model_path, paths, TOLERANCES["int8"], data=mnist, progress=progress)
    scores = [Scores(str(path), user.accuracy, whole.accuracy) for path, user, whole in zip(paths, on_test, on_mnist)]
    return Int8Exports(exported.calibrated_on, exported.artifacts, scores, on_test)


def user_parts(selection: DataSelection) -> tuple[DigitSet, DigitSet | None, DigitSet]:
    """The user's train, val (None when the split gives it no share) and test parts; MNIST is refused."""
    own = training_digits(selection)
    if own.kind == "mnist":
        raise EdgemnistError(
            "finetune learns your own digits: give --data a folder of images (DIR/0 … DIR/9) or an .npz with x and y"
        )
    val = scoring_digits(replace(selection, part="val")) if selection.split.val > 0 else None
    return own, val, scoring_digits(replace(selection, part="test"))


def resolved_augment(augment: str | None, arch: str) -> str:
    """None: the architecture's own augmentation when the model is a registered architecture; "none": none."""
    from .augment import AUGMENTATIONS

    if augment is None:
        return ARCHITECTURES.get(arch).augment if arch in ARCHITECTURES.names() else ""
    if augment == "none":
        return ""
    AUGMENTATIONS.get(augment)  # an unknown name is refused with the known ones
    return augment


def mixed_with_mnist(own: DigitSet, mnist_train: DigitSet, share: float, batch_size: int, seed: int, augment: str):
    """Endless batches drawing each example from the user's digits or, with probability ``share``, from all of
    MNIST's training digits: every epoch rehearses fresh MNIST digits, never the same few. Each stream reshuffles
    on every pass; the augmentation, if any, applies to both."""
    from .common.deps import import_tensorflow

    tf = import_tensorflow()
    if not 0 <= share < 1:
        raise EdgemnistError(f"--mnist-share {share:g} must be at least 0 and below 1 (0: your digits only)")

    def endless(digits: DigitSet, stream_seed: int):
        examples = tf.data.Dataset.from_tensor_slices((to_float01(digits.images), digits.labels.astype(np.int32)))
        return examples.shuffle(len(digits.labels), seed=stream_seed, reshuffle_each_iteration=True).repeat()

    streams = [endless(own, seed), endless(mnist_train, seed + 1)]
    dataset = tf.data.Dataset.sample_from_datasets(streams, weights=[1 - share, share], seed=seed).batch(batch_size)
    return (augment_dataset(dataset, augment, seed) if augment else dataset).prefetch(2)


def batches_per_epoch(own: DigitSet, share: float, batch_size: int) -> int:
    """Enough batches that an epoch holds about as many of the user's digits as there are."""
    return math.ceil(len(own.labels) / (1 - share) / batch_size)


def keras_scores(model, name: str, test: DigitSet, mnist_test: DigitSet) -> Scores:
    from .train import keras_accuracy

    return Scores(
        name,
        keras_accuracy(model, test.images, test.labels),
        keras_accuracy(model, mnist_test.images, mnist_test.labels),
    )


SCORE_HEADERS = ["model", "your test part", "MNIST test"]


def finetune_text(result: FinetuneResult) -> str:
    trained_on = result.trained_on
    rows = [
        [label, percent(s.user_test), percent(s.mnist_test)] for label, s in zip(score_labels(result), result.scores)
    ]
    lines = [
        f"{result.arch} fine-tuned on {plural(result.user_images, 'image')} of {trained_on['source']} (train part) "
        f"and ~{plural(result.mnist_images, 'MNIST digit')} an epoch, {plural(result.recipe['epochs'], 'epoch')} in "
        f"{result.wall_time_s:.0f} s → {result.model_path}",
        text_table(SCORE_HEADERS, rows),
        f"your test part: {result.tested_on['images']:,} images; MNIST test: {result.mnist_test['images']:,} images",
    ]
    if result.calibrated_on:
        lines.append(f"int8 calibrated on {result.calibrated_on['images']:,} of your train digits")
    lines += [
        f"parity {Path(c.candidate).name} against the fine-tuned model on your test part: "
        f"agreement {percent(c.agreement)}, {'pass' if c.passed else 'FAIL: ' + '; '.join(c.failures)}"
        for c in result.parity
    ]
    return "\n".join(lines)


def score_labels(result: FinetuneResult) -> list[str]:
    return ["before (Keras float)", "after (Keras float)", *(f"after: {Path(s.model).name}" for s in result.scores[2:])]
