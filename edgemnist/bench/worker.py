"""One model, measured in a process of its own: ``python -m edgemnist.bench.worker`` reads a job
(JSON) on stdin and writes the result (JSON) on stdout. A crash or hang here costs one row only."""
from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np


def pin(cores) -> None:
    if cores:
        os.sched_setaffinity(0, set(cores))


def peak_rss_bytes() -> int:
    """This process's high-water resident memory. VmHWM, not getrusage: Linux carries ru_maxrss
    across exec, so a worker would report its parent's peak."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def inspection_totals(path) -> dict:
    from ..common.errors import EdgemnistError
    from ..inspect import inspect_model

    try:
        found = inspect_model(path)
    except EdgemnistError as exc:  # e.g. the onnx package is not on this device
        return {"inspect_error": str(exc)}
    return {"parameters": found.parameters, "macs": found.macs, "flash_bytes": found.flash_bytes, "arena_bytes": found.arena_bytes}


def run_job(job: dict) -> dict:
    from .. import load
    from ..parity import Tolerance, compare
    from .timing import measure

    pin(job.get("cores"))
    test = np.load(job["test_set"])
    digits, labels = test["x"], test["y"]
    started = time.perf_counter()
    predictor = load(job["model"], threads=job.get("threads"), **job.get("contract", {}))
    loaded = time.perf_counter()
    predictor.predict_proba(digits[:1])
    first = time.perf_counter()
    result = {
        "cold_start_s": round(time.time() - job["spawned_at"], 4),
        "affinity": sorted(os.sched_getaffinity(0)),
        "load_s": round(loaded - started, 4),
        "first_inference_s": round(first - loaded, 5),
        **{k: v for k, v in predictor.describe().items() if k != "path"},
        "latency": {},
    }
    for batch in job["batches"]:
        sample = digits[:batch]
        calls = {"predictor": lambda: predictor.predict_proba(sample), **predictor.bare_calls(predictor.codec.encode(sample))}
        result["latency"][str(batch)] = measure(calls, batch, job["runs"], job["warmup"])
    result["peak_rss_bytes"] = peak_rss_bytes()  # before the full test-set pass, whose big batches would dominate
    probabilities = predictor.predict_proba(digits)
    result["accuracy"] = round(float(np.mean(probabilities.argmax(1) == labels)), 6)
    if job.get("reference_probabilities"):
        comparison = compare(probabilities, np.load(job["reference_probabilities"]), labels, Tolerance())
        result["agreement"], result["max_abs_diff"] = comparison.agreement, comparison.max_abs_diff
    result.update(inspection_totals(job["model"]))
    return result


def main() -> None:
    from ..common.deps import set_verbose
    from ..common.errors import EdgemnistError

    set_verbose(os.environ.get("EDGEMNIST_VERBOSE") == "1")
    job = json.load(sys.stdin)
    try:
        result = run_job(job)
    except EdgemnistError as exc:
        result = {"error": str(exc)}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
