"""Compare a candidate model with a reference on the same digits: accuracy, top-1 agreement, max |Δp|.

The exporters' validation gate and ``edgemnist parity`` both use this one comparison.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .common.progress import SILENT, Progress
from .data import load_mnist


@dataclass(frozen=True)
class Tolerance:
    max_drop: float | None = None  # accuracy points (0.3 = 0.3 %) the candidate may lose
    min_agreement: float | None = None  # share of top-1 labels equal to the reference's
    atol: float | None = None  # max |Δp| over every probability

    def failures(self, comparison: "Comparison") -> list[str]:
        reasons = []
        if self.max_drop is not None and comparison.accuracy_drop > self.max_drop + 1e-9:
            reasons.append(f"accuracy drop {comparison.accuracy_drop:.2f} points > {self.max_drop}")
        if self.min_agreement is not None and comparison.agreement < self.min_agreement:
            reasons.append(f"agreement {comparison.agreement:.4f} < {self.min_agreement}")
        if self.atol is not None and comparison.max_abs_diff > self.atol:
            reasons.append(f"max |Δp| {comparison.max_abs_diff:.2e} > {self.atol:g}")
        return reasons


@dataclass
class Comparison:
    candidate: str
    reference: str
    images: int
    accuracy: float
    reference_accuracy: float
    accuracy_drop: float  # in points: (reference - candidate) × 100
    agreement: float
    max_abs_diff: float
    disagreements: list = field(default_factory=list)  # test indices where top-1 differs
    passed: bool = True
    failures: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def compare(candidate_probs, reference_probs, labels, tolerance: Tolerance, candidate="", reference="") -> Comparison:
    candidate_top, reference_top = candidate_probs.argmax(axis=1), reference_probs.argmax(axis=1)
    accuracy = float(np.mean(candidate_top == labels))
    reference_accuracy = float(np.mean(reference_top == labels))
    comparison = Comparison(
        candidate=candidate,
        reference=reference,
        images=int(len(labels)),
        accuracy=round(accuracy, 6),
        reference_accuracy=round(reference_accuracy, 6),
        accuracy_drop=round((reference_accuracy - accuracy) * 100, 4),
        agreement=round(float(np.mean(candidate_top == reference_top)), 6),
        max_abs_diff=float(np.max(np.abs(candidate_probs.astype(np.float64) - reference_probs))),
        disagreements=np.flatnonzero(candidate_top != reference_top).tolist(),
    )
    comparison.failures = tolerance.failures(comparison)
    comparison.passed = not comparison.failures
    return comparison


def parity(reference_path, candidate_paths, tolerance: Tolerance, data_dir=None, limit=None, threads=None,
           progress: Progress = SILENT, **contract):
    """Run the test set through the reference and each candidate; one Comparison per candidate."""
    from .predict import load
    from .predict.base import predict_all

    mnist = load_mnist(data_dir)
    images, labels = mnist.x_test[:limit], mnist.y_test[:limit]
    reference_probs = predict_all(load(reference_path, threads=threads, **contract), images, progress, f"{reference_path}")
    results = []
    for path in candidate_paths:
        probs = predict_all(load(path, threads=threads, **contract), images, progress, f"{path}")
        results.append(compare(probs, reference_probs, labels, tolerance, str(path), str(reference_path)))
    return results
