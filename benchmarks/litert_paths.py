"""What LiteRT's private zero-copy path gains over its public API (set_tensor → invoke → get_tensor).

The same TFLite models are measured by the bench harness twice, once per path (``EDGEMNIST_LITERT_PUBLIC``
tells each worker which), at 1 thread on 1 pinned core, batch 1 and 64.

    EDGEMNIST_DATA=../shared/data/mnist python benchmarks/litert_paths.py edgemnist/pretrained/*.tflite
"""

from __future__ import annotations

import os
import sys

from results_file import write_section

from edgemnist.bench.runner import bench
from edgemnist.common.render import markdown_table
from edgemnist.predict.litert import PUBLIC_ONLY_ENV

BATCHES = (1, 64)


def measure(models, public: bool):
    os.environ[PUBLIC_ONLY_ENV] = "1" if public else "0"  # the workers inherit it
    try:
        return bench(models, batches=BATCHES, threads=1, cores=[0], runs=3000, warmup=300).rows
    finally:
        os.environ.pop(PUBLIC_ONLY_ENV)


def main(models: list[str]) -> None:
    native, public = measure(models, public=False), measure(models, public=True)
    rows = []
    for fast, slow in zip(native, public):
        for batch in BATCHES:
            a, b = fast.p50(batch), slow.p50(batch)
            rows.append([fast.name, batch, f"{a:.2f} µs", f"{b:.2f} µs", f"{b / a:.2f}×"])
    table = markdown_table(["model", "batch", "native path p50", "public API p50", "public / native"], rows)
    print(table)
    write_section(
        "litert-paths",
        "benchmarks/litert_paths.py",
        [
            "### LiteRT: the private zero-copy path against the public API (issue 10)",
            "",
            "The LiteRT backend uses the private `Interpreter._interpreter` only when it answers probe digits exactly "
            "like the",
            "public `set_tensor` → `invoke` → `get_tensor` path (checked at load; otherwise the public path is used). "
            "What it",
            f"gains, predictor p50 at 1 thread on 1 pinned core, 3,000 calls (load average {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores):",
            "",
            table,
            "",
        ],
    )


if __name__ == "__main__":
    main(sys.argv[1:] or ["edgemnist/pretrained/seed_int8.tflite", "edgemnist/pretrained/edge_int8.tflite"])
