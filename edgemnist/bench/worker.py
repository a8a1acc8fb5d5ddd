"""One model, measured in a process of its own: ``python -m edgemnist.bench.worker`` reads a job
(JSON) on stdin and writes the result (JSON) on stdout. A crash or hang here costs one row only."""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
import time

import numpy as np

from .schema import BenchJob


def pin(cores) -> None:
    from ..common.errors import EdgemnistError

    if cores:
        try:
            os.sched_setaffinity(0, set(cores))
        except OSError:
            raise EdgemnistError(
                f"cannot pin to cores {cores}: this machine offers {sorted(os.sched_getaffinity(0))}"
            ) from None


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


def process_started_at() -> float:
    """When this process started, on this machine's clock (10 ms resolution): the cold-start origin on a
    remote board, whose clock the host's ``spawned_at`` cannot be compared with."""
    try:
        start_ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
        return time.time() - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return STARTED_AT


STARTED_AT = time.time()


def inspection_totals(path) -> dict:
    from ..common.errors import EdgemnistError
    from ..inspect import inspect_model

    try:
        found = inspect_model(path)
    except EdgemnistError as exc:  # e.g. the onnx package is not on this device
        return {"inspect_error": str(exc)}
    totals = {
        "parameters": found.parameters,
        "macs": found.macs,
        "flash_bytes": found.flash_bytes,
        "arena_bytes": found.arena_bytes,
    }
    return {**totals, **measured_arena(path)} if found.format == "tflite" else totals


def measured_arena(path) -> dict:
    """The TFLite Micro arena a TFLite model really needs, where tflite_micro is installed (≈ 0.1–0.3 s)."""
    import importlib.util

    from ..common.errors import EdgemnistError
    from ..predict.tflm import measure_arena

    if importlib.util.find_spec("tflite_micro") is None:
        return {}
    try:
        return {"arena_measured_bytes": measure_arena(path)}
    except EdgemnistError:  # float16 and dynamic-range models do not run in TFLite Micro
        return {}


def count_calls(calls: dict, batch: int, runs: int, warmup: int) -> list[dict]:
    """Under an instruction counter: each call ``runs`` times between two marks, after its warm-up; the regions
    in the order of the marks. Nothing is timed: emulated time means nothing."""
    from ..targets.qemu import mark

    regions = []
    for name, call in calls.items():
        for _ in range(warmup):
            call()
        mark()
        for _ in range(runs):
            call()
        mark()
        regions.append({"batch": batch, "call": name, "calls": runs})
    return regions


def batch_of(digits: np.ndarray, batch: int) -> np.ndarray:
    """``batch`` digits: the test set's first ones, repeated in order when ``--limit`` left fewer, so that a
    row's batch size is what was timed (the limit narrows the accuracy pass, not the batch)."""
    if not len(digits):
        from ..common.errors import EdgemnistError

        raise EdgemnistError("the test set holds no digits to time")
    return digits[np.arange(batch) % len(digits)]


def scored(probabilities: np.ndarray, labels: np.ndarray, reference_probabilities: str | None) -> dict:
    """The accuracy pass's fields: accuracy, and with --reference's answers (a .npy file) agreement and max |Δp|."""
    from ..parity import Tolerance, compare

    result = {"accuracy": round(float(np.mean(probabilities.argmax(1) == labels)), 6)}
    if reference_probabilities:
        comparison = compare(probabilities, np.load(reference_probabilities), labels, Tolerance())
        result.update(agreement=comparison.agreement, max_abs_diff=comparison.max_abs_diff)
    return result


def run_job(job: BenchJob) -> dict:
    from ..predict import load
    from ..targets.machine import machine_state
    from .timing import measure

    pin(job.cores)
    test = np.load(job.test_set)
    digits, labels = test["x"], test["y"]
    started = time.perf_counter()
    predictor = load(job.model, threads=job.threads, backend=job.backend, **job.contract)
    loaded = time.perf_counter()
    predictor.predict_proba(digits[:1])
    first = time.perf_counter()
    result = {
        "cold_start_s": round(time.time() - (job.spawned_at or process_started_at()), 4),
        "state": {"before": machine_state()},  # clocks and temperatures before the timed runs
        "affinity": sorted(os.sched_getaffinity(0)),
        "load_s": round(loaded - started, 4),
        "first_inference_s": round(first - loaded, 5),
        **{k: v for k, v in predictor.describe().items() if k != "path"},
        "latency": {},
        "counted": [] if job.count_instructions else None,
    }
    for batch in job.batches:
        sample = batch_of(digits, batch)
        calls = {
            "predictor": lambda sample=sample: predictor.predict_proba(sample),
            **predictor.bare_calls(predictor.codec.encode(sample)),
        }
        if job.count_instructions:
            result["counted"] += count_calls(calls, batch, job.runs, job.warmup)
        else:
            result["latency"][str(batch)] = measure(calls, len(sample), job.runs, job.warmup)
    result["peak_rss_bytes"] = peak_rss_bytes()  # before the full test-set pass, whose big batches would dominate
    result.update(scored(predictor.predict_proba(digits), labels, job.reference_probabilities))
    result.update(inspection_totals(job.model))
    result["state"]["after"] = machine_state()
    return result


def main() -> None:
    from ..common.errors import EdgemnistError

    try:
        job = BenchJob.from_json(sys.stdin.read())
        if job.time_limit_s:  # on a board, nobody is left to kill a hung worker once the connection drops
            signal.alarm(math.ceil(job.time_limit_s))
        result = run_job(job)
    except EdgemnistError as exc:
        result = {"error": str(exc)}
    sys.stdout.write(json.dumps({"executable": sys.executable, **result}))  # which Python produced the row


if __name__ == "__main__":
    main()
