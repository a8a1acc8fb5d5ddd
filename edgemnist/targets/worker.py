"""A model's probabilities on a target: what ``evaluate --on`` and ``parity --on`` need from it.

``python -m edgemnist.targets.worker`` reads a ``PredictJob`` (JSON) on stdin, predicts the digits (an .npy
file) and prints the probabilities (float32, base64) with the predictor's description. ``predictions`` is the
host's side: it writes the digits, runs the worker on a target, and returns what came back.
"""

from __future__ import annotations

import base64
import json
import math
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from ..common.jobs import WorkerJob

TIMEOUT_S = 3600  # a whole test set under emulation takes minutes, not hours


@dataclass
class PredictJob(WorkerJob):
    """One model over a file of digits; paths are as the target's worker sees them."""

    digits: str = ""
    threads: int | None = None
    backend: str | None = None
    contract: dict = field(default_factory=dict)


@dataclass
class Predictions:
    probabilities: np.ndarray
    description: dict  # the predictor's describe() on the target, with its output quantization step
    target: dict  # the target's identity: name, guest_arch, cpu_model, python, versions

    @property
    def output_step(self) -> float | None:
        return self.description.get("output_step")


def predictions(target, model, digits: np.ndarray, threads=None, backend=None, contract=None) -> Predictions:
    """``model`` run on ``target`` over ``digits``, the target held meanwhile; a failure there is one EdgemnistError."""
    with target, tempfile.TemporaryDirectory(prefix="edgemnist-predict-") as folder:
        found = target.identify([model])
        path = Path(folder) / "digits.npy"
        np.save(path, digits)
        where, _ = target.place([str(path), str(model)])
        job = PredictJob(
            model=where.get(str(model), str(model)),
            digits=where.get(str(path), str(path)),
            threads=threads,
            backend=backend,
            contract={k: v for k, v in (contract or {}).items() if v is not None},
            time_limit_s=TIMEOUT_S,
        )
        result = target.run("targets.worker", job, TIMEOUT_S).result
    if "error" in result:
        raise EdgemnistError(f"{model} on {target.name}: {result['error']}")
    return Predictions(decoded(result.pop("probabilities"), len(digits)), result, target_record(target, found))


def target_record(target, found: dict) -> dict:
    """What a report keeps of the target a model ran on."""
    keys = ("guest_arch", "cpu_model", "python", "versions", "executable")
    return {"name": target.name, **{key: found.get(key) for key in keys}, **target.settings()}


def run(job: PredictJob) -> dict:
    from ..predict import load

    predictor = load(job.model, threads=job.threads, backend=job.backend, **job.contract)
    probabilities = predictor.predict_proba(np.load(job.digits)).astype(np.float32)
    return {
        **predictor.describe(),
        "output_step": predictor.contract.output_step,
        "probabilities": encoded(probabilities),
    }


def encoded(probabilities: np.ndarray) -> str:
    """Probabilities as they cross the process boundary: float32 bytes, base64 (``predictions`` decodes them)."""
    return base64.b64encode(np.ascontiguousarray(probabilities, np.float32).tobytes()).decode()


def decoded(text: str, digits: int) -> np.ndarray:
    """``encoded``'s probabilities back, one row per digit."""
    return np.frombuffer(base64.b64decode(text), np.float32).reshape(digits, -1)


def main() -> None:
    try:
        job = PredictJob.from_json(sys.stdin.read())
        if job.time_limit_s:  # on a board, nobody is left to kill a hung worker once the connection drops
            signal.alarm(math.ceil(job.time_limit_s))
        result = run(job)
    except EdgemnistError as exc:
        result = {"error": str(exc)}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
