"""A model's probabilities on a target: what ``evaluate --on`` and ``parity --on`` need from it.

``python -m edgemnist.targets.worker`` reads {model, digits, threads, backend, contract} (JSON) on stdin,
predicts the digits (an .npy file) and prints the probabilities (float32, base64) with the predictor's
description. ``predictions`` is the host's side: it writes the digits, runs the worker on a target, and
returns what came back.
"""

from __future__ import annotations

import base64
import json
import math
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError

TIMEOUT_S = 3600  # a whole test set under emulation takes minutes, not hours


@dataclass
class Predictions:
    probabilities: np.ndarray
    description: dict  # the predictor's describe() on the target, with its output quantization
    target: dict  # the target's identity: name, guest_arch, cpu_model, python, versions


def predictions(target, model, digits: np.ndarray, threads=None, backend=None, contract=None) -> Predictions:
    """``model`` run on ``target`` over ``digits``; a failure there is one EdgemnistError."""
    found = target.identify([model])
    with tempfile.TemporaryDirectory(prefix="edgemnist-predict-") as folder:
        path = Path(folder) / "digits.npy"
        np.save(path, digits)
        where, _ = target.place([str(path), str(model)])
        job = {
            "model": where.get(str(model), str(model)),
            "digits": where.get(str(path), str(path)),
            "threads": threads,
            "backend": backend,
            "contract": {k: v for k, v in (contract or {}).items() if v is not None},
            "time_limit_s": TIMEOUT_S,
        }
        result = target.run("targets.worker", job, TIMEOUT_S).result
    if "error" in result:
        raise EdgemnistError(f"{model} on {target.name}: {result['error']}")
    probabilities = np.frombuffer(base64.b64decode(result.pop("probabilities")), np.float32)
    return Predictions(probabilities.reshape(len(digits), -1), result, target_record(target, found))


def target_record(target, found: dict) -> dict:
    """What a report keeps of the target a model ran on."""
    keys = ("guest_arch", "cpu_model", "python", "versions", "executable")
    return {"name": target.name, **{key: found.get(key) for key in keys}, **target.settings()}


def run(job: dict) -> dict:
    from ..predict import load

    predictor = load(job["model"], threads=job.get("threads"), backend=job.get("backend"), **job.get("contract", {}))
    probabilities = predictor.predict_proba(np.load(job["digits"])).astype(np.float32)
    contract = predictor.contract
    quantized = contract.output_dtype in ("int8", "uint8")
    return {
        **predictor.describe(),
        "output_scale": contract.output_quant_scale if quantized else None,
        "probabilities": base64.b64encode(np.ascontiguousarray(probabilities).tobytes()).decode(),
    }


def main() -> None:
    job = json.load(sys.stdin)
    if job.get("time_limit_s"):  # on a board, nobody is left to kill a hung worker once the connection drops
        signal.alarm(math.ceil(job["time_limit_s"]))
    try:
        result = run(job)
    except EdgemnistError as exc:
        result = {"error": str(exc)}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
