"""What LiteRT's private zero-copy path gains over its public API (set_tensor → invoke → get_tensor).

The same TFLite models are measured by the bench harness twice, once per path (``EDGEMNIST_LITERT_PUBLIC``
tells each worker which), at 1 thread on 1 pinned core, batch 1 and 64.

    python -m benchmarks --only litert-paths         # the shipped TFLite files
"""

from __future__ import annotations

import os
from pathlib import Path

from edgemnist.bench.runner import bench
from edgemnist.bench.schema import BenchJob
from edgemnist.common.render import markdown_table
from edgemnist.predict.litert import PUBLIC_ONLY_ENV
from edgemnist.pretrained import pretrained_dir

BATCHES = (1, 64)
CALLS, WARMUP = 1000, 100
TIMEOUT_S = 1800  # a worker's batch-64 calls take minutes on a slow 2-core machine


def measure(models, public: bool):
    os.environ[PUBLIC_ONLY_ENV] = "1" if public else "0"  # the workers inherit it
    try:
        job = BenchJob(batches=list(BATCHES), threads=1, cores=[0], runs=CALLS, warmup=WARMUP)
        return bench(models, job, timeout=TIMEOUT_S).rows
    finally:
        os.environ.pop(PUBLIC_ONLY_ENV)


def models() -> list[Path]:
    return sorted(pretrained_dir().glob("*.tflite"))


def body() -> list[str]:
    paths = models()
    native, public = measure(paths, public=False), measure(paths, public=True)
    rows = []
    for fast, slow in zip(native, public):
        if fast.error or slow.error:
            raise RuntimeError(f"{fast.name}: {fast.error or slow.error}")
        for batch in BATCHES:
            a, b = fast.p50(batch), slow.p50(batch)
            rows.append([fast.name, batch, f"{a:.2f} µs", f"{b:.2f} µs", f"{b / a:.2f}×"])
    table = markdown_table(["model", "batch", "native path p50", "public API p50", "public / native"], rows)
    return [
        "### LiteRT: the private zero-copy path against the public API",
        "",
        "The LiteRT backend uses the private `Interpreter._interpreter` only when it answers probe digits exactly like "
        "the public `set_tensor` → `invoke` → `get_tensor` path (checked at load; otherwise the public path is used). "
        f"What it gains, predictor p50 at 1 thread on 1 pinned core, {CALLS:,} calls:",
        "",
        table,
        "",
    ]
