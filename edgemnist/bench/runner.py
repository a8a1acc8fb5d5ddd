"""Run each model in its own worker process and collect one row per model.

A worker that crashes, hangs past the timeout or lacks its runtime becomes a row with an ``error``;
the other models go on.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from ..common.files import write_npz
from ..common.progress import SILENT, Progress
from ..data import load_mnist
from .machine import machine_info

SCHEMA_VERSION = 1


@dataclass
class BenchRow:
    model: str
    file_bytes: int | None = None
    backend: str | None = None
    runtime_version: str | None = None
    quantization: str | None = None
    arch: str | None = None
    affinity: list | None = None  # the CPU cores the worker ran on
    contract: dict | None = None  # the input contract the predictor used
    cold_start_s: float | None = None
    load_s: float | None = None
    first_inference_s: float | None = None
    latency: dict = field(default_factory=dict)  # batch → {"predictor": stats, "<bare call>": stats, ...}
    peak_rss_bytes: int | None = None
    accuracy: float | None = None
    agreement: float | None = None
    max_abs_diff: float | None = None
    parameters: int | None = None
    macs: int | None = None
    flash_bytes: int | None = None
    arena_bytes: int | None = None  # inspect's estimate (for TFLite: what TFLite Micro needs, a safe bound)
    arena_measured_bytes: int | None = None  # TFLite: the smallest arena the real TFLite Micro interpreter runs in
    error: str | None = None
    board: str | None = None  # the remote board ("user@host") of ``bench --on``; None on this machine
    executable: str | None = None  # sys.executable of the worker that produced the row
    machine: dict | None = None  # the board's identity (machine_info on the board); this machine's is the report's
    state: dict | None = None  # {"before", "after"} the timed runs: clocks, governor, temperatures, throttling

    @property
    def name(self) -> str:
        return Path(self.model).name

    @property
    def label(self) -> str:
        return f"{self.board} {self.name}" if self.board else self.name

    def p50(self, batch, call="predictor"):
        return self.latency.get(str(batch), {}).get(call, {}).get("p50_us")

    def bare_ratio(self, batch=1):
        """Predictor p50 over the bare runtime call's p50 (the first baseline), at ``batch``."""
        calls = self.latency.get(str(batch), {})
        bare = next((stats for name, stats in calls.items() if name != "predictor"), None)
        return round(calls["predictor"]["p50_us"] / bare["p50_us"], 3) if bare and "predictor" in calls else None


@dataclass
class BenchReport:
    schema_version: int
    machine: dict
    settings: dict
    reference: str | None
    rows: list

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def worker_error(process: subprocess.CompletedProcess) -> str:
    if process.returncode < 0:
        return f"worker crashed ({signal.Signals(-process.returncode).name})"
    lines = [line for line in process.stderr.strip().splitlines() if line.strip()]
    return f"worker failed (exit {process.returncode}): {lines[-1][:200] if lines else 'no message'}"


def run_worker(job: dict, timeout: float) -> dict:
    job = {**job, "spawned_at": time.time()}
    try:
        process = subprocess.run(
            [sys.executable, "-m", "edgemnist.bench.worker"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    return worker_result(process)


def worker_result(process: subprocess.CompletedProcess) -> dict:
    if process.returncode != 0:
        return {"error": worker_error(process)}
    try:  # the result is the last line: a native library or a board's login shell may print before it
        return json.loads(process.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": "worker wrote no result"}


def row_from(model, result: dict, **fields) -> BenchRow:
    """A row for ``model`` from a worker's result (or an error); ``fields`` such as the board set the rest."""
    row = BenchRow(model=str(model), file_bytes=Path(model).stat().st_size if Path(model).is_file() else None, **fields)
    for key, value in result.items():
        if hasattr(row, key) and key != "model":
            setattr(row, key, value)
    return row


def bench_here(models, job: dict, timeout: float, progress: Progress) -> list[BenchRow]:
    """Each model in a worker process on this machine, one after the other."""
    rows = []
    first_batch = job["batches"][0]
    with progress.bar("bench workers", len(models)) as advance:
        for position, model in enumerate(models, 1):
            row = row_from(model, run_worker({**job, "model": str(model)}, timeout))
            rows.append(row)
            advance()
            progress.say(
                f"[{position}/{len(models)}] {row.name}: "
                + (row.error or f"p50 {row.p50(first_batch)} µs at batch {first_batch}")
            )
    return rows


def reference_probabilities(reference, digits, folder: Path, threads, contract: dict) -> str:
    from ..predict import load

    path = folder / "reference.npy"
    np.save(path, load(reference, threads=threads, **contract).predict_proba(digits))
    return str(path)


def bench(
    models,
    batches=(1,),
    threads: int | None = 1,
    cores=None,
    runs: int = 200,
    warmup: int = 20,
    timeout: float = 300,
    reference=None,
    data_dir=None,
    progress: Progress = SILENT,
    contract: dict | None = None,
    on=(),
    remote_python: str = "python3",
    ssh_options=(),
    backend: str | None = None,
) -> BenchReport:
    """Measure every model in ``models``; ``reference`` (a model file) gives agreement and max |Δp|;
    ``contract`` holds input_scale / normalize for models that cannot tell. ``on`` lists remote boards
    ("user@host[:port]") to measure on over SSH instead of this machine (see ``remote``). ``backend`` runs
    every model with that runtime (e.g. "tflm") instead of the one its format picks."""
    if not models:
        raise EdgemnistError("no model to benchmark")
    mnist = load_mnist(data_dir)
    with tempfile.TemporaryDirectory(prefix="edgemnist-bench-") as tmp:
        test_set = Path(tmp) / "test.npz"
        write_npz(test_set, x=mnist.x_test, y=mnist.y_test)  # the same bytes every run: a board's cache keeps it
        contract = {k: v for k, v in (contract or {}).items() if v is not None}
        job = {
            "test_set": str(test_set),
            "batches": list(batches),
            "threads": threads,
            "cores": cores,
            "runs": runs,
            "warmup": warmup,
            "contract": contract,
            "backend": backend,
        }
        if reference:
            progress.say(f"reference {reference}: predicting the test set")
            job["reference_probabilities"] = reference_probabilities(
                reference, mnist.x_test, Path(tmp), threads, contract
            )
        if on:
            from .remote import bench_on_boards

            rows = bench_on_boards(on, models, job, timeout, remote_python, ssh_options, progress)
        else:
            rows = bench_here(models, job, timeout, progress)
    settings = {
        "batches": list(batches),
        "threads": threads,
        "cores": cores,
        "runs": runs,
        "warmup": warmup,
        "timeout_s": timeout,
    }
    if on:
        settings.update(on=list(on), remote_python=remote_python)
    return BenchReport(SCHEMA_VERSION, machine_info(), settings, str(reference) if reference else None, rows)
