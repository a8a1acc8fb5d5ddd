"""Compare a candidate model with a reference on the same digits: accuracy, top-1 agreement, max |Δp|.

The exporters' validation gate and ``edgemnist parity`` both use this one comparison.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field

import numpy as np

from .common.files import require_file
from .common.progress import SILENT, Progress
from .common.render import percent, text_table
from .datasets import DataSelection, scoring_digits


@dataclass(frozen=True)
class Tolerance:
    max_drop: float | None = None  # accuracy points (0.3 = 0.3 %) the candidate may lose
    min_agreement: float | None = None  # share of top-1 labels equal to the reference's
    atol: float | None = None  # max |Δp| over every probability
    max_lsb: float | None = None  # max |Δ| of an integer output, in its quantization steps

    def failures(self, comparison: Comparison) -> list[str]:
        reasons = []
        if self.max_drop is not None and comparison.accuracy_drop > self.max_drop + 1e-9:
            reasons.append(f"accuracy drop {comparison.accuracy_drop:.2f} points > {self.max_drop}")
        if self.min_agreement is not None and comparison.agreement < self.min_agreement:
            reasons.append(f"agreement {comparison.agreement:.4f} < {self.min_agreement}")
        if self.atol is not None and comparison.max_abs_diff > self.atol:
            reasons.append(f"max |Δp| {comparison.max_abs_diff:.2e} > {self.atol:g}")
        if (
            self.max_lsb is not None
            and comparison.max_abs_diff_lsb is not None
            and comparison.max_abs_diff_lsb > self.max_lsb
        ):
            reasons.append(f"max |Δ| {comparison.max_abs_diff_lsb:g} LSB > {self.max_lsb:g}")
        return reasons

    def for_backend(self, backend: str | None) -> Tolerance:
        """Micro-controller candidates are held to ``TFLM_MAX_LSB`` unless a max_lsb is given."""
        held = backend in MICRO_BACKENDS and self.max_lsb is None
        return dataclasses.replace(self, max_lsb=TFLM_MAX_LSB) if held else self


# TFLite Micro against LiteRT: TFLM's reference kernels round some requantizations differently from LiteRT's
# (tflite-micro#3130, #3252), so the int8 logits may differ by one step (measured: at most 1 on 4,000 test
# digits, both shipped int8 models). The int8 softmax output steps by 1/256 of probability while one logit step
# moves a probability by several percent: one logit step becomes up to 17 output steps (measured over all
# 10,000 digits, top-1 always equal). 32 LSB, an eighth of the int8 range, bounds that and no more.
TFLM_MAX_LSB = 32
# Backends with a micro-controller's arithmetic (TFLite Micro's reference kernels, and edgemnist's own C
# compiled from the model, bit-exact with them): held to TFLM_MAX_LSB against LiteRT.
MICRO_BACKENDS = ("tflm", "mcu-c")


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
    max_abs_diff_lsb: float | None = None  # max_abs_diff in the candidate's output quantization steps (int8 outputs)
    disagreements: list = field(default_factory=list)  # test indices where top-1 differs
    passed: bool = True
    failures: list = field(default_factory=list)
    target: dict | None = None  # with --on: where the candidate ran (name, guest_arch, cpu_model, python, versions)
    elsewhere: list = field(default_factory=list)  # the same check on other CPUs (export validation: qemu:haswell)
    data: dict | None = None  # the digits compared on (a DataRef); None: the MNIST test set

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParityReport:
    """What ``edgemnist parity`` reports: the tolerance every candidate was held to, and one Comparison each."""

    tolerance: Tolerance
    results: list[Comparison]


def compare(
    candidate_probs,
    reference_probs,
    labels,
    tolerance: Tolerance,
    candidate="",
    reference="",
    output_scale: float | None = None,
) -> Comparison:
    """``output_scale``: the candidate's output quantization step, to state max |Δp| in LSB as well."""
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
    if output_scale:
        comparison.max_abs_diff_lsb = round(comparison.max_abs_diff / output_scale, 2)
    comparison.failures = tolerance.failures(comparison)
    comparison.passed = not comparison.failures
    return comparison


def parity(
    reference_path,
    candidate_paths,
    tolerance: Tolerance,
    data: DataSelection | str | None = None,
    limit=None,
    threads=None,
    progress: Progress = SILENT,
    backend: str | None = None,
    on: str | None = None,
    reach: dict | None = None,
    reference_backend: str | None = None,
    **contract,
):
    """Run ``data`` (the MNIST test set by default, or a user's digits: ``edgemnist.datasets``) through the
    reference and each candidate; one Comparison per candidate.

    ``backend`` runs the candidates (not the reference) with that runtime: ``parity(m, [m], t, backend="tflm")``
    compares TFLite Micro with LiteRT on the same file, held to ``TFLM_MAX_LSB`` unless ``tolerance`` says.
    ``on`` runs the candidates on that target and the reference here: ``parity(m, [m], t, on="qemu:cortex-a72")``
    asks whether a Pi 4 reads what this machine reads; ``reach`` says how to reach the target (as in
    ``evaluate_model``). ``reference_backend`` runs the reference on that runtime: ``reference_backend="tflm"``
    with ``on="qemu:cortex-m4"`` asks whether the firmware answers exactly as TFLite Micro. ``contract``
    (input_scale, normalize) applies to the candidates only."""
    from .predict import load
    from .predict.base import predict_all

    for path in (reference_path, *candidate_paths):  # a typo in a path is said before MNIST is looked for
        require_file(path, "model")
    digits = scoring_digits(data, limit)
    images, labels = digits.images, digits.labels
    # The contract describes the candidates: the reference is read as it describes itself, so that a foreign
    # candidate needing --input-scale 255 can be checked against a model of ours.
    reference_name = f"{reference_path} ({reference_backend})" if reference_backend else str(reference_path)
    reference = load(reference_path, threads=threads, backend=reference_backend)
    reference_probs = predict_all(reference, images, progress, reference_name)
    tolerance = tolerance.for_backend(backend)
    run_candidate = candidate_on(on, threads, backend, contract, progress, **(reach or {})) if on else None
    results = []
    for path in candidate_paths:
        if run_candidate:
            probs, scale, where = run_candidate(path, images)
        else:
            candidate = load(path, threads=threads, backend=backend, **contract)
            probs, where = predict_all(candidate, images, progress, f"{path}"), None
            scale = candidate.contract.output_step
        label = f"{path} ({backend})" if backend else str(path)
        comparison = compare(probs, reference_probs, labels, tolerance, label, reference_name, scale)
        comparison.target, comparison.data = where, digits.describe().to_dict()
        results.append(comparison)
    return results


def candidate_on(on: str, threads, backend, contract: dict, progress: Progress, **reach):
    """A function running one candidate on the target ``on``: path, digits → (probabilities, output step, target)."""
    from .targets import resolve
    from .targets.worker import predictions

    target = resolve(on, progress=progress, **reach)

    def run(path, images):
        progress.say(f"{path} on {target.name} ({len(images)} digits)")
        found = predictions(target, path, images, threads, backend, contract)
        return found.probabilities, found.output_step, found.target

    return run


PARITY_HEADERS = [
    "candidate",
    "accuracy",
    "reference",
    "drop (pts)",
    "agreement",
    "max |Δp|",
    "max LSB",
    "disagree",
    "result",
]


def parity_text(comparisons, show: int = 10) -> str:
    rows = [
        [
            c.candidate,
            percent(c.accuracy),
            percent(c.reference_accuracy),
            round(c.accuracy_drop, 2),
            percent(c.agreement),
            f"{c.max_abs_diff:.1e}",
            "-" if c.max_abs_diff_lsb is None else f"{c.max_abs_diff_lsb:g}",
            len(c.disagreements),
            "pass" if c.passed else "FAIL",
        ]
        for c in comparisons
    ]
    lines = [text_table(PARITY_HEADERS, rows)]
    for c in comparisons:
        if c.disagreements:
            shown = ", ".join(map(str, c.disagreements[:show])) + (" …" if len(c.disagreements) > show else "")
            lines.append(f"{c.candidate}: disagrees with the reference on test images {shown}")
        if c.failures:
            lines.append(f"{c.candidate} FAILED: {'; '.join(c.failures)}")
    users = {c.data["source"]: c.data for c in comparisons if c.data and c.data["kind"] != "mnist"}
    lines += [f"compared on {data['images']} images of {source} ({data['part']})" for source, data in users.items()]
    return "\n".join(lines)
