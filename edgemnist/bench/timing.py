"""Latency sampling: warm-up, then interleaved rounds so slow drifts of the machine hit every
measured call alike; percentiles rather than a single mean."""

from __future__ import annotations

import time

import numpy as np

ROUNDS = 10


def latency_stats(samples_ns, digits_per_call: int) -> dict:
    us = np.asarray(samples_ns, dtype=np.float64) / 1e3
    return {
        "runs": int(us.size),
        "p50_us": round(float(np.percentile(us, 50)), 2),
        "p90_us": round(float(np.percentile(us, 90)), 2),
        "p99_us": round(float(np.percentile(us, 99)), 2),
        "mean_us": round(float(us.mean()), 2),
        "std_us": round(float(us.std()), 2),
        "images_per_s": round(digits_per_call / (us.mean() / 1e6), 1),
    }


def measure(calls: dict, digits_per_call: int, runs: int, warmup: int) -> dict:
    """{name: callable} → {name: latency stats}, the calls interleaved round by round; each call predicts
    ``digits_per_call`` digits, the count its images/s divides by."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    rounds = min(ROUNDS, runs)
    clock = time.perf_counter_ns
    for round_number in range(rounds):
        for name, call in calls.items():
            record = samples[name].append
            for _ in range(runs // rounds + (round_number < runs % rounds)):  # runs calls in all, exactly
                start = clock()
                call()
                record(clock() - start)
    return {name: latency_stats(values, digits_per_call) for name, values in samples.items()}
