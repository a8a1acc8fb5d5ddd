"""What crosses the process boundary of a benchmark: the job a worker reads and the row it becomes.

The runner, every target and the worker import these two dataclasses from here, so a field added to the
worker's result is a field of the row: ``BenchRow.from_result`` refuses nothing and drops nothing (a key the
row does not know is kept under ``extra``, where the report shows it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..common.jobs import WorkerJob

SCHEMA_VERSION = 2  # 2: target, guest fields, instructions, litert_path, inspect_error, extra


@dataclass
class BenchJob(WorkerJob):
    """One worker's instructions; paths are as the target's worker sees them."""

    test_set: str = ""
    batches: list[int] = field(default_factory=lambda: [1])
    threads: int | None = 1
    cores: list[int] | None = None
    runs: int = 200
    warmup: int = 20
    contract: dict = field(default_factory=dict)
    backend: str | None = None
    reference_probabilities: str | None = None
    count_instructions: bool = False  # under emulation: mark each batch's calls for the instruction counter, no timing

    def files(self) -> list[str]:
        """The local files the worker reads: a target must make them visible to it."""
        return [path for path in (self.test_set, self.reference_probabilities, self.model) if path]

    def placed(self, where: dict[str, str], **changes) -> BenchJob:
        """This job with its files at ``where`` ({local path: the target's path}) and ``changes`` applied."""
        moved = {key: where.get(getattr(self, key), getattr(self, key)) for key in ("model", "test_set")}
        if self.reference_probabilities:
            moved["reference_probabilities"] = where.get(self.reference_probabilities, self.reference_probabilities)
        return dataclasses.replace(self, **{**moved, **changes})


@dataclass
class BenchRow:
    model: str
    target: str = "here"  # where the worker ran: "here", a board's "user@host", an emulated "qemu:cortex-a72"
    guest_arch: str | None = None  # the worker's machine: its architecture, CPU model and Python
    cpu_model: str | None = None
    python: str | None = None
    file_bytes: int | None = None
    backend: str | None = None
    runtime_version: str | None = None
    litert_path: str | None = None  # LiteRT: which call path the predictor took
    quantization: str | None = None
    arch: str | None = None
    affinity: list | None = None  # the CPU cores the worker ran on
    contract: dict | None = None  # the input contract the predictor used
    cold_start_s: float | None = None
    load_s: float | None = None
    first_inference_s: float | None = None
    latency: dict = field(default_factory=dict)  # batch → {"predictor": stats, "<bare call>": stats, ...}
    # Under emulation, instead of latency: batch → call → {"per_inference", "per_digit", "calls"}, guest
    # instructions executed (QEMU TCG plugin), never microseconds.
    instructions: dict = field(default_factory=dict)
    instructions_total: int | None = None  # the whole worker process, start to exit (load, accuracy pass, …)
    peak_rss_bytes: int | None = None
    accuracy: float | None = None
    agreement: float | None = None
    max_abs_diff: float | None = None
    parameters: int | None = None
    macs: int | None = None
    flash_bytes: int | None = None
    arena_bytes: int | None = None  # inspect's estimate (for TFLite: what TFLite Micro needs, a safe bound)
    arena_measured_bytes: int | None = None  # TFLite: the smallest arena the real TFLite Micro interpreter runs in
    inspect_error: str | None = None  # why parameters/MACs are missing (e.g. no onnx package on the board)
    error: str | None = None
    executable: str | None = None  # sys.executable of the worker that produced the row
    machine: dict | None = None  # the target's identity (machine_info there); this machine's is the report's
    state: dict | None = None  # {"before", "after"} the timed runs: clocks, governor, temperatures, throttling
    lab: dict | None = None  # labgrid's place held for the run: coordinator, place, exporter, resource, ssh
    counted: list | None = None  # the worker's marked regions, in order: [{"batch", "call", "calls"}, ...]
    extra: dict = field(default_factory=dict)  # result keys from a worker that this row has no field for

    @classmethod
    def from_result(cls, model, result: dict, **fields) -> BenchRow:
        """A row for ``model`` from a worker's ``result`` (or an error); ``fields`` (the target, …) set the rest."""
        known = {f.name for f in dataclasses.fields(cls)} - {"model", "extra"}
        size = Path(model).stat().st_size if Path(model).is_file() else None
        given = {key: value for key, value in result.items() if key in known}
        extra = {key: value for key, value in result.items() if key not in known and key != "model"}
        return cls(model=str(model), file_bytes=size, **{**given, **fields}, extra=extra)

    @property
    def name(self) -> str:
        return Path(self.model).name

    @property
    def board(self) -> str | None:
        """The target when it is not this machine: a board or an emulated CPU."""
        return None if self.target == "here" else self.target

    @property
    def label(self) -> str:
        return f"{self.board} {self.name}" if self.board else self.name

    def p50(self, batch, call="predictor"):
        return self.latency.get(str(batch), {}).get(call, {}).get("p50_us")

    def per_inference(self, batch, call="predictor"):
        """Guest instructions per call at ``batch`` under emulation (None when the row was timed)."""
        return self.instructions.get(str(batch), {}).get(call, {}).get("per_inference")

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
    rows: list[BenchRow]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
