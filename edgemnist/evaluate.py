"""Accuracy, per-class precision/recall, confusion matrix and the most confidently wrong test digits,
for any model that maps uint8 digits to probabilities (a Predictor)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .common.files import require_file
from .common.progress import SILENT, Progress
from .common.render import text_table
from .datasets import DataSelection, DigitSet, scoring_digits


@dataclass
class ClassScore:
    label: str
    precision: float
    recall: float
    support: int


@dataclass
class Mistake:
    index: int  # position in the digits scored
    label: int
    predicted: int
    confidence: float
    file: str | None = None  # the image's file, relative to the user's folder


@dataclass
class Evaluation:
    model: str
    backend: str
    quantization: str
    images: int
    accuracy: float
    per_class: list
    confusion: list  # confusion[true][predicted]
    confident_mistakes: list
    target: dict | None = None  # with --on: where it ran (name, guest_arch, cpu_model, python, versions)
    data: dict | None = None  # the digits scored (a DataRef: source, part, preprocessing, split)

    def to_dict(self) -> dict:
        return asdict(self)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def class_scores(matrix: np.ndarray, names) -> list[ClassScore]:
    hits = np.diag(matrix)
    predicted_totals, true_totals = matrix.sum(axis=0), matrix.sum(axis=1)
    return [
        ClassScore(
            label=str(names[c]),
            precision=round(float(hits[c] / predicted_totals[c]), 4) if predicted_totals[c] else 0.0,
            recall=round(float(hits[c] / true_totals[c]), 4) if true_totals[c] else 0.0,
            support=int(true_totals[c]),
        )
        for c in range(len(matrix))
    ]


def confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, count: int) -> list[Mistake]:
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:count]
    return [
        Mistake(int(i), int(labels[i]), int(predicted[i]), round(float(probabilities[i, predicted[i]]), 4))
        for i in order
    ]


def score(probabilities: np.ndarray, labels: np.ndarray, names=tuple("0123456789"), mistakes: int = 10) -> dict:
    """Everything an Evaluation holds but the model's description."""
    predicted = probabilities.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, len(names))
    return dict(
        images=int(len(labels)),
        accuracy=round(float(np.mean(predicted == labels)), 6),
        per_class=class_scores(matrix, names),
        confusion=matrix.tolist(),
        confident_mistakes=confident_mistakes(probabilities, labels, mistakes),
    )


def evaluate(
    predictor, images: np.ndarray, labels: np.ndarray, mistakes: int = 10, progress: Progress = SILENT
) -> Evaluation:
    from .predict.base import predict_all

    probabilities = predict_all(predictor, images, progress, f"evaluating {predictor.path.name}")
    return Evaluation(
        model=str(predictor.path),
        backend=predictor.backend,
        quantization=predictor.quantization,
        **score(probabilities, labels, predictor.labels, mistakes),
    )


def evaluate_model(
    path,
    data: DataSelection | str | None = None,
    limit: int | None = None,
    threads=None,
    progress: Progress = SILENT,
    backend: str | None = None,
    on: str | None = None,
    reach: dict | None = None,
    **contract,
) -> Evaluation:
    """Load ``path`` with whichever runtime its format needs (or ``backend``) and score it on ``data`` (the MNIST
    test set by default, or a user's digits: ``edgemnist.datasets``); ``on`` names a target (``qemu:cortex-a72``,
    ``pi@host``, ``labgrid:pi-1``) to run it there instead of here, ``reach`` how to reach it (``remote_python``,
    ``ssh_options`` of a board; ``coordinator``, ``lab_timeout`` of a lab's place)."""
    require_file(path, "model")  # a typo in the path is said before MNIST is looked for
    digits = scoring_digits(data, limit)
    if on:
        evaluation = evaluate_on(
            on, path, digits.images, digits.labels, threads, backend, contract, progress, **(reach or {})
        )
    else:
        from .predict import load

        predictor = load(path, threads=threads, backend=backend, **contract)
        evaluation = evaluate(predictor, digits.images, digits.labels, progress=progress)
    return with_data(evaluation, digits)


def with_data(evaluation: Evaluation, digits: DigitSet) -> Evaluation:
    """Record which digits were scored, and name each mistake's file when they came from a folder."""
    evaluation.data = digits.describe().to_dict()
    if digits.files is not None:
        for mistake in evaluation.confident_mistakes:
            mistake.file = digits.files[mistake.index]
    return evaluation


def evaluate_on(
    on: str, path, images, labels, threads, backend, contract: dict, progress: Progress, **reach
) -> Evaluation:
    from .targets import resolve
    from .targets.worker import predictions

    target = resolve(on, progress=progress, **reach)
    progress.say(f"evaluating {path} on {target.name} ({len(labels)} digits)")
    found = predictions(target, path, images, threads, backend, contract)
    return Evaluation(
        model=str(path),
        backend=found.description["backend"],
        quantization=found.description["quantization"],
        **score(found.probabilities, labels),
        target=found.target,
    )


def evaluation_text(evaluation) -> str:
    header = (
        f"{evaluation.model} ({evaluation.backend}, {evaluation.quantization}): "
        f"accuracy {evaluation.accuracy:.2%} on {data_title(evaluation)}"
    )
    per_class = text_table(
        ["class", "precision", "recall", "support"],
        [[c.label, c.precision, c.recall, c.support] for c in evaluation.per_class],
    )
    confusion = text_table(
        ["true\\pred", *[c.label for c in evaluation.per_class]],
        [[c.label, *row] for c, row in zip(evaluation.per_class, evaluation.confusion)],
    )
    from_folder = any(m.file for m in evaluation.confident_mistakes)
    mistakes = text_table(
        ["file" if from_folder else "test index", "label", "predicted", "confidence"],
        [
            [m.file if from_folder else m.index, m.label, m.predicted, m.confidence]
            for m in evaluation.confident_mistakes
        ],
    )
    return "\n\n".join([header, per_class, "confusion matrix", confusion, "most confidently wrong", mistakes])


def data_title(evaluation) -> str:
    """``10000 test images`` on MNIST, as before; a user's digits by folder and part."""
    data = evaluation.data
    if not data or data["kind"] == "mnist":
        return f"{evaluation.images} {data['part'] if data else 'test'} images"
    part = "all of it" if data["part"] == "all" else f"{data['part']} part"
    return (
        f"{evaluation.images} images of {data['source']} ({part}; {data['preprocessing'].split(':')[0]} preprocessing)"
    )
