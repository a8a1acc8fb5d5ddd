"""The predictor's own overhead at batch 1: predictor p50 / bare runtime call p50, 1 thread, 1 pinned core.

Target ≤ 1.10 for the float32 ONNX and int8 TFLite exports. Measured by the bench harness (worker process,
warm-up, interleaved rounds), many calls for a stable median.

    EDGEMNIST_DATA=../shared/data/mnist python benchmarks/predictor_overhead.py runs/seed/export/seed_float32.onnx runs/seed/export/seed_int8.tflite
"""
from __future__ import annotations

import sys

from edgemnist.bench.runner import bench

TARGET = 1.10


def main(models: list[str]) -> int:
    report = bench(models, batches=(1,), threads=1, cores=[0], runs=5000, warmup=500)
    worst = 0.0
    for row in report.rows:
        if row.error:
            print(f"{row.name}: {row.error}")
            return 2
        calls = row.latency["1"]
        bare_name, bare = next((name, stats) for name, stats in calls.items() if name != "predictor")
        ratio = row.bare_ratio(1)
        worst = max(worst, ratio)
        print(f"{row.name}: predictor p50 {calls['predictor']['p50_us']} µs, {bare_name} p50 {bare['p50_us']} µs, ratio {ratio}")
    print(f"worst ratio {worst} ({'within' if worst <= TARGET else 'over'} the {TARGET} target)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["runs/seed/export/seed_float32.onnx", "runs/seed/export/seed_int8.tflite"]))
