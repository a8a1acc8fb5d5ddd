"""The predictor's own overhead at batch 1: predictor p50 / bare runtime call p50, 1 thread, 1 pinned core, on the
shipped seed model (int8 ONNX and int8 TFLite). Target ≤ 1.10. Measured by the bench harness (worker process,
warm-up, interleaved rounds), many calls for a stable median. docs/predict.md quotes it.

    python -m benchmarks --only overhead
"""

from __future__ import annotations

from pathlib import Path

from edgemnist.bench.runner import bench
from edgemnist.bench.schema import BenchJob
from edgemnist.pretrained import pretrained_dir

TARGET = 1.10
CALLS, WARMUP = 5000, 500


def models() -> list[Path]:
    return [pretrained_dir() / "seed_int8.onnx", pretrained_dir() / "seed_int8.tflite"]


def overhead_lines(paths) -> list[str]:
    """One line per model, then the verdict; raises when a model cannot be measured."""
    report = bench(paths, BenchJob(batches=[1], threads=1, cores=[0], runs=CALLS, warmup=WARMUP))
    lines, worst = [], 0.0
    for row in report.rows:
        if row.error:
            raise RuntimeError(f"{row.name}: {row.error}")
        calls = row.latency["1"]
        bare_name, bare = next((name, stats) for name, stats in calls.items() if name != "predictor")
        worst = max(worst, row.bare_ratio(1))
        lines.append(
            f"{row.name}: predictor p50 {calls['predictor']['p50_us']} µs, {bare_name} p50 {bare['p50_us']} µs, "
            f"ratio {row.bare_ratio(1)}"
        )
    lines.append(f"worst ratio {worst} ({'within' if worst <= TARGET else 'over'} the {TARGET} target)")
    return lines


def body() -> list[str]:
    return [
        f"### Predictor overhead at batch 1 ({CALLS:,} calls, 1 thread, 1 pinned core; target ≤ {TARGET:.2f})",
        "",
        "```text",
        *overhead_lines(models()),
        "```",
        "",
    ]
