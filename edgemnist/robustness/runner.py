"""Accuracy of each model on the MNIST test set under each MNIST-C corruption, and int8 versus float.

Corrupted sets are made once and cached as .npz files keyed by corruption, severity, seed, the corruption
code's VERSION and a digest of the clean digits. An int8 model is paired with the float32 model of the same
architecture (from the metadata our exports carry; a Keras model's arch is its name), preferring the same format.
"""

from __future__ import annotations

import builtins  # Difference has a field named "float"
import hashlib
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..common.files import cache_dir, ensure_dir, write_bytes
from ..common.progress import SILENT, Progress
from ..datasets import DataSelection, scoring_digits
from .corruptions import CORRUPTIONS, VERSION

CLEAN = "clean"


@dataclass
class ModelRobustness:
    model: str
    arch: str | None
    format: str
    quantization: str
    accuracy: dict  # corruption (and "clean") → accuracy on the corrupted test set
    mean: float = 0.0  # over the corruptions, clean left out: MNIST-C's headline figure
    worst: str = ""  # the corruption it reads worst

    def __post_init__(self):
        corrupted = {name: value for name, value in self.accuracy.items() if name != CLEAN}
        if corrupted:
            self.mean = round(float(np.mean(list(corrupted.values()))), 6)
            self.worst = min(corrupted, key=corrupted.get)


@dataclass
class Difference:
    """int8 against its float model on one corrupted set; discordant digits decide significance."""

    corruption: str
    int8: str
    float: str
    int8_accuracy: builtins.float
    float_accuracy: builtins.float
    difference: builtins.float  # accuracy points, int8 − float
    only_int8_right: int
    only_float_right: int
    p_value: builtins.float  # exact two-sided McNemar (binomial) test on the discordant digits


@dataclass
class RobustnessReport:
    images: int
    seed: int
    severities: dict  # corruption → severity used (0: the corruption has none)
    models: list
    differences: list = field(default_factory=list)
    data: dict | None = None  # the clean digits corrupted (a DataRef); None: the MNIST test set

    def to_dict(self) -> dict:
        return asdict(self)


def default_cache() -> Path:
    return cache_dir("mnist-c")


def corrupted_set(name: str, digits: np.ndarray, severity: int | None, seed: int, cache: Path | None) -> np.ndarray:
    corruption = CORRUPTIONS.get(name)
    level = corruption.severity(severity)
    digest = hashlib.sha256(digits.tobytes()).hexdigest()[:16]
    path = cache / f"{name}-s{level}-seed{seed}-v{VERSION}-{digest}.npz" if cache else None
    if path and path.exists():
        with np.load(path) as cached:
            return cached["images"]
    images = corruption(digits, severity, seed)
    if path:
        import io

        buffer = io.BytesIO()
        np.savez_compressed(buffer, images=images)
        write_bytes(path, buffer.getvalue())
    return images


def mcnemar_p(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value: the discordant pairs as a fair coin's flips (binomial, p = ½)."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1))
    return min(1.0, float(2 * tail / 2**n))


def describe(predictor) -> tuple[str | None, str, str]:
    metadata = predictor.metadata or {}
    arch = metadata.get("arch") or getattr(getattr(predictor, "model", None), "name", None)
    return arch, metadata.get("format") or predictor.backend, predictor.quantization


def float_partner(candidate: ModelRobustness, models: list[ModelRobustness]) -> ModelRobustness | None:
    floats = [m for m in models if m.quantization == "float32" and m.arch == candidate.arch]
    same_format = [m for m in floats if m.format == candidate.format]
    return next(iter(same_format or floats), None)


def robustness(
    model_paths,
    severity: int | None = None,
    limit: int | None = None,
    seed: int = 0,
    corruptions=None,
    data: DataSelection | str | None = None,
    cache: Path | None = None,
    threads=None,
    progress: Progress = SILENT,
) -> RobustnessReport:
    from ..predict import load
    from ..predict.base import predict_all

    predictors = [load(path, threads=threads) for path in model_paths]  # a bad file fails before the corrupting
    scored = scoring_digits(data, limit)
    digits, labels = scored.images, scored.labels
    names = [CORRUPTIONS.get(name).name for name in corruptions or CORRUPTIONS.names()]
    cache = ensure_dir(cache) if cache else None
    sets = {CLEAN: digits}
    with progress.bar("corrupting the test set", len(names)) as advance:
        for name in names:
            sets[name] = corrupted_set(name, digits, severity, seed, cache)
            advance()
    models, correct = [], {}
    for path, predictor in zip(model_paths, predictors):
        arch, fmt, quantization = describe(predictor)
        hits = {}
        for name, images in sets.items():
            hits[name] = (
                predict_all(predictor, images, progress, f"{Path(path).name} × {name}").argmax(axis=1) == labels
            )
        correct[str(path)] = hits
        models.append(
            ModelRobustness(
                str(path), arch, fmt, quantization, {name: round(float(h.mean()), 6) for name, h in hits.items()}
            )
        )
    severities = {name: CORRUPTIONS.get(name).severity(severity) for name in names}
    return RobustnessReport(
        int(len(labels)),
        seed,
        severities,
        models,
        differences(models, correct, list(sets)),
        scored.describe().to_dict(),
    )


def differences(models: list[ModelRobustness], correct: dict, names: list[str]) -> list[Difference]:
    rows = []
    for candidate in models:
        partner = float_partner(candidate, models) if candidate.quantization == "int8" else None
        if partner is None:
            continue
        for name in names:
            a, b = correct[candidate.model][name], correct[partner.model][name]
            only_int8, only_float = int(np.sum(a & ~b)), int(np.sum(b & ~a))
            rows.append(
                Difference(
                    name,
                    candidate.model,
                    partner.model,
                    candidate.accuracy[name],
                    partner.accuracy[name],
                    round((candidate.accuracy[name] - partner.accuracy[name]) * 100, 4),
                    only_int8,
                    only_float,
                    mcnemar_p(only_int8, only_float),
                )
            )
    return rows
