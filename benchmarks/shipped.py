"""The shipped models against the micro-controller and field targets (issue 19): for each shipped int8 TFLite file,
its parameters, MACs, file size and measured TFLM arena (``edgemnist inspect --measure``), its accuracy on the 10,000
clean test digits, its MNIST-C mean and worst corruption (``edgemnist robustness``) and its training CPU time from the
manifest. The ``shipped`` section of benchmarks/RESULTS.md; README.md quotes its first table.

    python -m benchmarks --only shipped
"""

from __future__ import annotations

import json
from pathlib import Path

from edgemnist.common.progress import TerminalProgress
from edgemnist.common.render import human_bytes, markdown_table
from edgemnist.inspect import inspect_model
from edgemnist.pretrained import pretrained_dir
from edgemnist.robustness.runner import CLEAN, robustness

TARGETS = (
    "Targets for the default (issue 19): clean ≥ 99.40 %, MNIST-C mean ≥ 94 % with no corruption below 75 %, "
    "≤ 20,000 parameters, ≤ 1.5 M MACs, file ≤ 32,000 bytes, TFLM arena ≤ 24,000 bytes, training ≤ 5× the seed "
    "CNN's time."
)


def shipped_int8_tflite() -> list[dict]:
    """The manifest entries of the shipped int8 TFLite files, default first."""
    manifest = json.loads((pretrained_dir() / "manifest.json").read_text())
    return [m for m in manifest["models"] if m["format"] == "tflite" and m["quantization"] == "int8"]


def percent(value: float) -> str:
    return f"{value:.2%}"


def model_rows(paths: list[Path], entries: dict, report) -> list[list]:
    rows = []
    for path, scores in zip(paths, report.models):
        shape = inspect_model(path, measure=True)
        cpu = entries[path.name].get("train_cpu_seconds")
        rows.append(
            [
                path.name,
                f"{shape.parameters:,}",
                f"{shape.macs:,}",
                f"{shape.file_bytes:,} B ({human_bytes(shape.file_bytes)})",
                f"{shape.arena_measured_bytes:,} B",
                percent(scores.accuracy[CLEAN]),
                percent(scores.mean),
                f"{scores.worst.replace('_', ' ')} {percent(scores.accuracy[scores.worst])}",
                f"{cpu:,.0f}" if cpu else "-",
            ]
        )
    return rows


def corruption_rows(paths: list[Path], report) -> list[list]:
    names = list(report.models[0].accuracy)
    return [
        [
            name.replace("_", " "),
            report.severities.get(name) or "–",
            *(percent(m.accuracy[name]) for m in report.models),
        ]
        for name in names
    ] + [["mean of 15", "", *(percent(m.mean) for m in report.models)]]


def models() -> list[Path]:
    return [pretrained_dir() / entry["file"] for entry in shipped_int8_tflite()]


def body() -> list[str]:
    entries = {m["file"]: m for m in shipped_int8_tflite()}
    paths = models()
    report = robustness(paths, progress=TerminalProgress())
    headers = ["model", "parameters", "MACs", "file", "TFLM arena", "clean", "MNIST-C mean", "worst", "train CPU s"]
    return [
        "## The shipped models",
        "",
        markdown_table(headers, model_rows(paths, entries, report)),
        "",
        f"All {report.images:,} test digits, MNIST-C seed {report.seed} at the published severities; the arena is the "
        "smallest the real TFLM interpreter runs the model in; *train CPU s* is from the shipped manifest. " + TARGETS,
        "",
        "Per corruption:",
        "",
        markdown_table(["corruption", "severity", *(p.name for p in paths)], corruption_rows(paths, report)),
        "",
    ]
