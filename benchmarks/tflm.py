"""The "TFLite Micro" table of benchmarks/RESULTS.md: for each shipped int8 TFLite file, inspect's arena estimate
against the arena the real TFLM interpreter needs, TFLM's agreement with LiteRT on the 10,000 test digits
(top-1 and max int8 difference in LSB), and the time per digit of TFLM's reference kernels beside MACs.

    python -m benchmarks --only tflm

The TFLM time is the bare ``set_input`` + ``invoke`` + ``get_output`` call (median of 200 after 20 warm-up
calls, this machine, one core): a proxy that ranks models as a micro-controller will, not an MCU latency.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgemnist.bench.timing import measure
from edgemnist.common.render import markdown_table
from edgemnist.inspect import inspect_model
from edgemnist.parity import Tolerance, parity
from edgemnist.predict import load
from edgemnist.pretrained import pretrained_dir

HEADERS = [
    "artifact",
    "MACs",
    "arena estimate",
    "arena measured",
    "estimate / measured",
    "TFLM vs LiteRT top-1",
    "max Δ (int8 LSB)",
    "TFLM µs/digit",
    "LiteRT µs/digit",
]


def bare_p50_us(path, backend=None) -> float:
    predictor = load(path, threads=1, backend=backend)
    digit = predictor.codec.encode(np.zeros((1, 28, 28), np.uint8))
    ((name, call),) = predictor.bare_calls(digit).items()
    return measure({name: call}, 1, 200, 20)[name]["p50_us"]


def row(path) -> list:
    found = inspect_model(path, measure=True)
    (comparison,) = parity(path, [path], Tolerance(), backend="tflm")  # the reference is LiteRT, on the same file
    lsb = "-" if comparison.max_abs_diff_lsb is None else f"{comparison.max_abs_diff_lsb:g}"
    return [
        os.path.basename(path),
        f"{found.macs:,}",
        f"{found.arena_bytes:,} B",
        f"{found.arena_measured_bytes:,} B",
        f"{found.arena_bytes / found.arena_measured_bytes:.3f}",
        f"{comparison.agreement:.2%}",
        lsb,
        f"{bare_p50_us(path, 'tflm'):,.0f}",
        f"{bare_p50_us(path):,.1f}",
    ]


def models() -> list[Path]:
    return [pretrained_dir() / f"{arch}_int8.tflite" for arch in ("mcu", "edge", "seed")]


def tflm_version() -> str:
    from importlib.metadata import version

    return version("tflite-micro")


def body() -> list[str]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one pinned core, as the bench settings
    return [
        "## TFLite Micro",
        "",
        f"tflite-micro {tflm_version()}, its 64-bit host build, 1 pinned core. *Arena estimate* is `inspect`'s bound, "
        "*measured* the smallest arena with which the real TFLM interpreter allocates and runs the model (bisection to "
        "the byte, `inspect --measure`). *TFLM vs LiteRT*: the same file on both, all 10,000 test digits, top-1 "
        "agreement and the largest int8 output difference in quantization steps. *TFLM µs/digit*: the bare call on "
        "TFLM's reference kernels (median of 200), a proxy that ranks models as an MCU will, not an MCU latency; "
        "*LiteRT µs/digit* is LiteRT's bare call beside it.",
        "",
        markdown_table(HEADERS, [row(path) for path in models()]),
        "",
    ]
