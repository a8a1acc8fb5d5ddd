"""Output-level comparison of a candidate with its reference: where on the test set their answers part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..evaluate import confusion_matrix, score

QUANTILES = (50, 90, 99, 99.9)


@dataclass
class Disagreement:
    index: int  # position in the test set
    label: int
    reference: int
    reference_confidence: float
    candidate: int
    candidate_confidence: float


@dataclass
class ClassDifference:
    label: str
    support: int
    reference_accuracy: float
    candidate_accuracy: float
    difference: float  # points, candidate − reference


@dataclass
class OutputAnalysis:
    confusion_difference: list  # candidate − reference, [true][predicted]
    per_class: list
    disagreements: list
    abs_diff_quantiles: dict  # largest |Δp| of each digit: quantile → value, and "max"
    abs_diff_histogram: dict  # {"edges": [...], "counts": [...]} on a log scale


def analyse_outputs(reference_probs: np.ndarray, candidate_probs: np.ndarray, labels: np.ndarray) -> OutputAnalysis:
    reference_top, candidate_top = reference_probs.argmax(axis=1), candidate_probs.argmax(axis=1)
    confusion = confusion_matrix(labels, candidate_top) - confusion_matrix(labels, reference_top)
    reference_classes, candidate_classes = (
        score(reference_probs, labels)["per_class"],
        score(candidate_probs, labels)["per_class"],
    )
    per_class = [
        ClassDifference(r.label, r.support, r.recall, c.recall, round((c.recall - r.recall) * 100, 2))
        for r, c in zip(reference_classes, candidate_classes)
    ]
    disagreements = [
        Disagreement(
            int(i),
            int(labels[i]),
            int(reference_top[i]),
            round(float(reference_probs[i, reference_top[i]]), 4),
            int(candidate_top[i]),
            round(float(candidate_probs[i, candidate_top[i]]), 4),
        )
        for i in np.flatnonzero(reference_top != candidate_top)
    ]
    worst = np.max(np.abs(candidate_probs.astype(np.float64) - reference_probs), axis=1)
    quantiles = {f"p{q:g}": float(np.percentile(worst, q)) for q in QUANTILES} | {"max": float(worst.max())}
    edges = np.concatenate([[0.0], np.logspace(-6, 0, 25)])
    counts, _ = np.histogram(np.clip(worst, 0, 1), bins=edges)
    return OutputAnalysis(
        confusion.tolist(), per_class, disagreements, quantiles, {"edges": edges.tolist(), "counts": counts.tolist()}
    )
