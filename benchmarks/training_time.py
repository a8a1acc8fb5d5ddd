"""Training time against the tutorial's CNN (issue 19: the default trains in ≤ 5× the seed CNN's time): trains
``seed`` and each named architecture with its own recipe, one after the other on the same machine, and writes the
``training-time`` section of benchmarks/RESULTS.md. Run it on a quiet machine: wall time is what a user waits, and
CPU time (every thread's) is the fairer figure when something else runs. It trains models and keeps none: it
measures recipes, so it records no model file.

    python -m benchmarks --only training-time
"""

from __future__ import annotations

import os
import platform
import tempfile
from pathlib import Path

from edgemnist.common.render import markdown_table
from edgemnist.train import train


def measured(arch: str, out: str):
    trained = train(arch, seed=0, out=os.path.join(out, arch))
    print(f"{arch}: {trained.wall_time_s:.0f} s wall, {trained.cpu_time_s:.0f} CPU s", flush=True)
    return trained


ARCHS = ["seed", "mcu"]  # the tutorial's CNN first: the others are timed against it


def models() -> list[Path]:
    return []


def body() -> list[str]:
    with tempfile.TemporaryDirectory() as out:
        runs = [measured(arch, out) for arch in ARCHS]
    seed = runs[0]
    rows = [
        [
            run.arch,
            run.epochs,
            run.batch_size,
            f"{run.wall_time_s:.0f}",
            f"{run.cpu_time_s:.0f}",
            f"{run.wall_time_s / seed.wall_time_s:.2f}×",
            f"{run.cpu_time_s / seed.cpu_time_s:.2f}×",
            f"{run.test_accuracy:.2%}",
        ]
        for run in runs
    ]
    headers = ["arch", "epochs", "batch", "wall s", "CPU s", "× seed wall", "× seed CPU", "Keras test accuracy"]
    return [
        "## Training time against the tutorial's CNN",
        "",
        markdown_table(headers, rows),
        "",
        "Each architecture's own recipe, seed 0, "
        f"all 60,000 training digits, one after the other on {os.cpu_count()} cores ({platform.machine()}). "
        "Target for the default (issue 19): ≤ 5× the seed CNN's time.",
        "",
    ]
