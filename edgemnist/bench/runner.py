"""Run each model in its own worker process on a target and collect one row per model.

A worker that crashes, hangs past the timeout or lacks its runtime becomes a row with an ``error``;
the other models go on. ``on`` names the targets (``here`` by default; boards, emulated CPUs), measured
in parallel, each model one after the other on each.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from ..common.files import require_file, write_npz
from ..common.progress import SILENT, Progress
from ..datasets import DataSelection, scoring_digits
from ..targets import resolve
from ..targets.base import Outcome, Target, TargetError
from ..targets.machine import machine_info
from ..targets.worker import decoded
from .schema import SCHEMA_VERSION, BenchJob, BenchReport, BenchRow
from .worker import scored

__all__ = ["SCHEMA_VERSION", "BenchReport", "BenchRow", "bench"]


def instruction_counts(outcome: Outcome) -> dict:
    """The worker's counted regions (``counted``) paired with the counter's marks: per batch and call, guest
    instructions per call and per digit."""
    regions, marks = outcome.result.get("counted") or [], outcome.marks or []
    if len(marks) != 2 * len(regions):
        return {"error": f"instruction counter saw {len(marks)} marks for {len(regions)} regions"}
    counted: dict = {}
    for region, start, end in zip(regions, marks[::2], marks[1::2]):
        per_call = (end - start) / region["calls"]
        counted.setdefault(str(region["batch"]), {})[region["call"]] = {
            "per_inference": round(per_call),
            "per_digit": round(per_call / region["batch"]),
            "calls": region["calls"],
        }
    return {"instructions": counted, "instructions_total": outcome.instructions_total}


def summary(row: BenchRow, batch: int) -> str:
    if row.error:
        return row.error
    if row.instructions:
        return f"{row.per_inference(batch):,} guest instructions per call at batch {batch}"
    return f"p50 {row.p50(batch)} µs at batch {batch}"


def scored_here(probabilities: str, job: BenchJob) -> dict:
    """A firmware's accuracy pass, scored on the host: no Python runs on a micro-controller, so its target hands
    back the test set's probabilities instead of the worker's accuracy and agreement."""
    labels = np.load(job.test_set)["y"]
    return scored(decoded(probabilities, len(labels)), labels, job.reference_probabilities)


def failed_rows(target: Target, models, exc: TargetError, report) -> list[BenchRow]:
    report(f"{target.name}: {exc}", steps=len(models))
    return [BenchRow.from_result(model, {"error": str(exc)}, target=target.name) for model in models]


def bench_target(target: Target, models, job: BenchJob, timeout: float, report, stopped) -> list[BenchRow]:
    """Every model on one target, one worker after another; every failure is on the rows. A target that holds
    something while in use (a lab's place) holds it from the first worker to the last, and gives it back
    whatever happens."""
    try:
        with target:
            return bench_held(target, models, job, timeout, report, stopped)
    except TargetError as exc:  # the target could not be held: a lab's place others kept, a coordinator gone
        return failed_rows(target, models, exc, report)


def bench_held(target: Target, models, job: BenchJob, timeout: float, report, stopped) -> list[BenchRow]:
    try:
        machine = target.identify(models)
        where, placed_note = target.place([*job.files(), *map(str, models)])
    except TargetError as exc:
        return failed_rows(target, models, exc, report)
    if target.name != "here":
        note = f"; {placed_note}" if placed_note else ""
        software = f"Python {machine['python']}" if machine.get("python") else "bare metal"  # a Cortex-M firmware
        report(f"{target.name}: {machine['hostname']}, {machine['cpu']}, {software}{note}")
    seen = {key: machine.get(key) for key in ("guest_arch", "cpu_model", "python")}
    lab = target.settings().get("lab")  # the lab's place, exporter and resource the board was held through
    rows, lost = [], None
    for position, model in enumerate(models, 1):
        if lost or stopped.is_set():
            result = {"error": f"not run: {lost or 'interrupted'}"}
        elif str(model) not in where:
            result = {"error": f"model not found: {model}"}
        else:
            placed = job.placed(where, model=where[str(model)], count_instructions=target.counts_instructions)
            try:
                outcome = target.run("bench.worker", placed, timeout * target.time_scale)
                result = {**outcome.result, **(instruction_counts(outcome) if placed.count_instructions else {})}
                if "probabilities" in result:
                    result.update(scored_here(result.pop("probabilities"), job))
            except TargetError as exc:
                lost = str(exc)
                result = {"error": lost}
        machine_field = None if target.name == "here" else machine
        row = BenchRow.from_result(model, result, target=target.name, machine=machine_field, lab=lab, **seen)
        rows.append(row)
        report(f"[{position}/{len(models)}] {row.label}: {summary(row, job.batches[0])}", steps=1)
    return rows


def bench_targets(targets: list[Target], models, job: BenchJob, timeout: float, progress: Progress) -> list[BenchRow]:
    """``job`` on every target at once; the rows come back grouped by target, in the order of ``targets``.
    Interrupted, every target stops before its next worker and gives back what it holds."""
    if len({target.name for target in targets}) < len(targets):
        raise EdgemnistError("a target is given twice to --on")
    lock, stopped = threading.Lock(), threading.Event()
    with progress.bar("bench workers", len(targets) * len(models)) as advance:

        def report(message: str, steps: int = 0) -> None:
            with lock:
                progress.say(message)
                advance(steps)

        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            runs = [pool.submit(bench_target, target, models, job, timeout, report, stopped) for target in targets]
            try:
                while wait(runs, timeout=0.5).not_done:  # awake: Python raises a Ctrl-C only in a running main thread
                    pass
            except BaseException:  # the pool then waits for the targets' threads, which stop before their next worker
                stopped.set()
                raise
    return [row for run in runs for row in run.result()]


def reference_probabilities(reference, digits, folder: Path, threads) -> str:
    """The reference's answers, read as the reference describes itself: the job's contract is the models'."""
    from ..predict import load

    path = folder / "reference.npy"
    np.save(path, load(reference, threads=threads).predict_proba(digits))
    return str(path)


def check_models(models, job: BenchJob) -> None:
    """A path that is not there, or not a model at all, is the user's typo: one line and exit 2 before any
    worker starts, rather than a table of failed rows. A damaged model still becomes its row's error."""
    from ..predict import detect_backend

    for model in models:
        path = require_file(model, "model")
        if not job.backend and path.is_file():  # a pipe or device is the worker's to open, never this process's
            detect_backend(path)


def bench(
    models,
    job: BenchJob | None = None,
    *,
    on=(),
    reference=None,
    data: DataSelection | str | None = None,
    limit: int | None = None,
    timeout: float = 300,
    progress: Progress = SILENT,
    remote_python: str = "python3",
    ssh_options=(),
    coordinator: str | None = None,
    lab_timeout: float | None = None,
) -> BenchReport:
    """Measure every model in ``models`` as ``job`` says (batches, threads, cores, runs, warm-up, contract,
    backend; its file fields are filled here). ``on`` lists targets: boards ("user@host[:port]", over SSH),
    emulated CPUs ("qemu:cortex-a72", counted in instructions, not timed) or "here" (the default).
    Places of a labgrid lab ("labgrid:PLACE", "labgrid:TAG=VALUE") are reached through ``coordinator`` (default
    $LG_COORDINATOR), each waited for at most ``lab_timeout`` seconds while others hold it.
    ``reference`` (a model file, run here) gives agreement and max |Δp|; the accuracy pass scores ``data`` (the
    MNIST test set by default, or a user's digits: ``edgemnist.datasets``), its first ``limit`` digits if given;
    ``timeout``: seconds before a worker is killed."""
    if not models:
        raise EdgemnistError("no model to benchmark")
    check_models(models, job := job or BenchJob())
    reach = dict(remote_python=remote_python, ssh_options=ssh_options, coordinator=coordinator, lab_timeout=lab_timeout)
    targets = [resolve(spec, progress=progress, **reach) for spec in on or ("here",)]
    scored = scoring_digits(data, limit)
    contract = {k: v for k, v in job.contract.items() if v is not None}
    with tempfile.TemporaryDirectory(prefix="edgemnist-bench-") as tmp:
        test_set = Path(tmp) / "test.npz"
        digits, labels = scored.images, scored.labels
        write_npz(test_set, x=digits, y=labels)  # the same bytes every run: a board's cache keeps it
        job = dataclasses.replace(job, test_set=str(test_set), contract=contract, reference_probabilities=None)
        if reference:
            progress.say(f"reference {reference}: predicting the test set")
            job.reference_probabilities = reference_probabilities(reference, digits, Path(tmp), job.threads)
        rows = bench_targets(targets, models, job, timeout, progress)
    settings: dict = {
        "batches": list(job.batches),
        "threads": job.threads,
        "cores": job.cores,
        "runs": job.runs,
        "warmup": job.warmup,
        "timeout_s": timeout,
        "digits": len(labels),
        "data": scored.describe().to_dict(),
    }
    if on:
        settings.update(on=list(on), targets={target.name: target.settings() for target in targets})
        settings.update(remote_python=remote_python)
    return BenchReport(SCHEMA_VERSION, machine_info(), settings, str(reference) if reference else None, rows)
