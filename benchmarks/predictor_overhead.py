"""The predictor's own overhead at batch 1: predictor p50 / bare runtime call p50, 1 thread, 1 pinned core.

Target ≤ 1.10 for the float32 ONNX and int8 TFLite exports. Measured by the bench harness (worker process,
warm-up, interleaved rounds), many calls for a stable median.

    EDGEMNIST_DATA=../shared/data/mnist python benchmarks/predictor_overhead.py \
        runs/seed/export/seed_float32.onnx runs/seed/export/seed_int8.tflite
"""

from __future__ import annotations

import sys

from edgemnist.bench.runner import bench

TARGET = 1.10


def overhead_lines(models) -> list[str]:
    """One line per model, then the verdict; raises SystemExit when a model cannot be measured."""
    report = bench(models, batches=(1,), threads=1, cores=[0], runs=5000, warmup=500)
    lines, worst = [], 0.0
    for row in report.rows:
        if row.error:
            raise SystemExit(f"{row.name}: {row.error}")
        calls = row.latency["1"]
        bare_name, bare = next((name, stats) for name, stats in calls.items() if name != "predictor")
        worst = max(worst, row.bare_ratio(1))
        lines.append(
            f"{row.name}: predictor p50 {calls['predictor']['p50_us']} µs, {bare_name} p50 {bare['p50_us']} µs, "
            f"ratio {row.bare_ratio(1)}"
        )
    lines.append(f"worst ratio {worst} ({'within' if worst <= TARGET else 'over'} the {TARGET} target)")
    return lines


def main(models: list[str]) -> int:
    lines = overhead_lines(models)
    print("\n".join(lines))
    return 0 if "within" in lines[-1] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["runs/seed/export/seed_float32.onnx", "runs/seed/export/seed_int8.tflite"]))
