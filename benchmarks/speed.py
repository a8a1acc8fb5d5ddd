"""How fast: every shipped model file (edgemnist/pretrained/: int8 TFLite and int8 ONNX of each architecture) in
each configuration of benchmarks/config.json, with its bare runtime call beside it and its accuracy on the 10,000
test digits. The quoted "how fast" tables of the README and docs/bench.md are this section's.

    python -m benchmarks --only speed
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from edgemnist.bench.report import markdown_report, write_plot
from edgemnist.bench.runner import bench
from edgemnist.bench.schema import BenchJob
from edgemnist.common.files import write_json
from edgemnist.common.progress import TerminalProgress
from edgemnist.common.render import human_bytes, markdown_table
from edgemnist.pretrained import pretrained_dir

HERE = Path(__file__).resolve().parent
CONFIG = json.loads((HERE / "config.json").read_text())


def shipped_files(arch: str) -> list[Path]:
    """The shipped int8 files of ``arch``: TFLite, then ONNX."""
    return [pretrained_dir() / f"{arch}_int8.{suffix}" for suffix in ("tflite", "onnx")]


def models() -> list[Path]:
    return [path for arch in CONFIG["archs"] for path in shipped_files(arch)]


def headline(report) -> list[str]:
    rows = [
        [row.name, row.p50(1), row.bare_ratio(1), f"{row.accuracy:.2%}", human_bytes(row.file_bytes)]
        for row in report.rows
        if not row.error
    ]
    return markdown_table(["artifact", "p50 µs, batch 1", "predictor / bare", "accuracy", "size"], rows).splitlines()


def failures(report) -> list[str]:
    return [f"{row.name}: {row.error}" for row in report.rows if row.error]


def body() -> list[str]:
    lines = [
        "## How fast: the shipped models",
        "",
        "Latencies are per call (a batch), measured in a worker process per model, interleaved with the bare runtime "
        f"call, {CONFIG['timed_calls']} timed calls after {CONFIG['warmup']} of warm-up (settings in "
        "`benchmarks/config.json`); accuracy is over the 10,000 MNIST test digits. No Keras reference is shipped, "
        "so there is no agreement column: `edgemnist pipeline` measures that against its own Keras model.",
        "",
    ]
    raw = {}
    for index, configuration in enumerate(CONFIG["configurations"]):
        job = BenchJob(
            batches=CONFIG["batches"],
            threads=configuration["threads"],
            cores=configuration["cores"],
            runs=CONFIG["timed_calls"],
            warmup=CONFIG["warmup"],
        )
        for arch in CONFIG["archs"]:
            label = f"{arch}, {configuration['name']}"
            print(f"== {label}", file=sys.stderr, flush=True)
            report = bench(shipped_files(arch), job, timeout=600, progress=TerminalProgress().indented())
            if failures(report):
                raise RuntimeError("; ".join(failures(report)))
            plot = HERE / f"{arch}_{index}.png"
            write_plot(report, plot)
            raw[label] = report.to_dict()
            lines += [
                f"### {label}",
                "",
                *headline(report),
                "",
                markdown_report(report, f"{label}: full table"),
                f"![{label}]({plot.name})",
                "",
            ]
    write_json(HERE / "results.json", raw)
    return lines
