"""On which CPU: every shipped model here and on emulated CPUs (Raspberry Pi 3/Zero 2 W, 4 and 5 cores; x86 without
AVX-512/VNNI; the int8 TFLite models compiled to C on Cortex-M4, M7 and M55 boards).

Each cell: accuracy on the first LIMIT test digits, top-1 agreement with this host and max |Δp| in int8
output steps (the candidate on the target, the same file here as the reference: ``edgemnist parity M M --on
T``), and guest instructions per digit at batch 1 (QEMU TCG plugin, RUNS calls between two marks). Writes
benchmarks/targets.json (each cell as it is measured) and the targets section of benchmarks/RESULTS.md. Needs the
arm64 root (`edgemnist emulate setup aarch64`).

    python -m benchmarks --only targets
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path

from edgemnist.bench.runner import bench_target
from edgemnist.bench.schema import BenchJob
from edgemnist.common.errors import ValidationFailed
from edgemnist.common.files import write_json, write_npz
from edgemnist.common.render import markdown_table
from edgemnist.data import load_mnist
from edgemnist.mcu import compile_model
from edgemnist.mcu.boards import BOARDS
from edgemnist.mcu.firmware import build_firmware
from edgemnist.parity import Tolerance, parity
from edgemnist.pretrained import pretrained_dir
from edgemnist.targets import resolve

from .firmware import code
from .sections import RESUMED, folder_sha256

HERE = Path(__file__).parent
CORTEX_M = [f"qemu:{cpu}" for cpu in BOARDS]
TARGETS = ["here", "qemu:cortex-a53", "qemu:cortex-a72", "qemu:cortex-a76", "qemu:haswell", *CORTEX_M]
RUNS, WARMUP = 50, 5
LIMIT = 1000
RESUME = "EDGEMNIST_TARGETS_RESUME"  # set: keep the cells benchmarks/targets.json holds, measure only the others


def models() -> list[Path]:
    return sorted(pretrained_dir().glob("*.tflite")) + sorted(pretrained_dir().glob("*.onnx"))


def say(message: str, steps: int = 0) -> None:
    """bench's progress report: its messages, on stderr."""
    print(message, file=sys.stderr, flush=True)


def runs_on(model: Path, target: str) -> bool:
    """A Cortex-M runs int8 TFLite models, compiled to C; every other target runs every shipped file."""
    return target not in CORTEX_M or model.suffix == ".tflite"


def cell(model: Path, target: str, limit: int, count_set: str) -> dict:
    """One model on one target: parity against this host, then the instruction count (emulated targets). A
    model larger than a Cortex-M board's memory raises ValidationFailed, in one line, before anything runs."""
    if target in CORTEX_M:
        build_firmware(model, compile_model(model), BOARDS[target.removeprefix("qemu:")])
    comparison = parity(model, [model], Tolerance(), limit=limit, threads=1, on=None if target == "here" else target)[0]
    found = {
        "accuracy": comparison.accuracy,
        "agreement": comparison.agreement,
        "max_lsb": comparison.max_abs_diff_lsb,
        "max_abs_diff": comparison.max_abs_diff,
        "disagreements": comparison.disagreements,
        "target": comparison.target,
    }
    if target != "here":
        job = BenchJob(test_set=count_set, batches=[1], threads=1, runs=RUNS, warmup=WARMUP)
        row = bench_target(resolve(target), [model], job, 3600, say, threading.Event())[0]
        found["instructions_per_digit"] = row.instructions.get("1", {}).get("predictor", {}).get("per_digit")
        found["instructions_bare"] = next(
            (v["per_digit"] for k, v in row.instructions.get("1", {}).items() if k != "predictor"), None
        )
        found["count_error"] = row.error
    return found


def table(results: dict) -> str:
    headers = ["model", *[t.removeprefix("qemu:") for t in TARGETS]]
    rows = []
    for model, cells in results.items():
        line = [model]
        for target in TARGETS:
            c = cells.get(target)
            if not c:
                line.append("—")
                continue
            if "unfit" in c:
                line.append("does not fit the board")
                continue
            # int8 outputs: their own step; float outputs: the step of an int8 softmax output, 1/256
            steps = c["max_lsb"] if c["max_lsb"] is not None else round(c["max_abs_diff"] * 256, 1)
            text = f"{c['accuracy']:.2%}, agree {c['agreement']:.2%}, Δ {steps:g} steps"
            if c.get("instructions_per_digit"):
                text += f", {c['instructions_per_digit'] / 1e6:.2f} M insn/digit"
            line.append(text)
        rows.append(line)
    return markdown_table(headers, rows)


def firmware_code() -> dict[str, str]:
    """The hashes of the code a Cortex-M cell runs (the section records them: benchmarks/firmware.py's code())."""
    return {folder.name: folder_sha256(folder) for folder in code()}


def measured_before(out: Path) -> dict:
    """With RESUME set, the cells a previous run of the same settings measured (not its failed ones), so that
    a run that failed late measures only what it lacks; otherwise none. A Cortex-M cell is kept only if its
    firmware was compiled from the code there is now."""
    if not os.environ.get(RESUME) or not out.exists():
        return {}
    saved = json.loads(out.read_text())
    if (saved.get("limit"), saved.get("runs")) != (LIMIT, RUNS):
        return {}
    same_code = saved.get("firmware_code") == firmware_code()

    def kept(target: str, cell: dict) -> bool:
        return "error" not in cell and (same_code or target not in CORTEX_M)

    return {model: {t: c for t, c in cells.items() if kept(t, c)} for model, cells in saved["results"].items()}


def measure_all(count_set: str, out: Path) -> tuple[dict, int]:
    """Every cell not measured before; a failed cell is recorded and makes the section fail once all are
    tried. Also returns how many cells were kept from before."""
    results = measured_before(out)
    kept = sum(len(cells) for cells in results.values())
    for model in models():
        for target in (t for t in TARGETS if runs_on(model, t) and t not in results.get(model.name, {})):
            print(f"{model.name} on {target}", file=sys.stderr, flush=True)
            try:
                results.setdefault(model.name, {})[target] = cell(model, target, LIMIT, count_set)
            except ValidationFailed as exc:  # a model larger than a Cortex-M board's memory: a result, said so
                results.setdefault(model.name, {})[target] = {"unfit": str(exc)}
            except Exception as exc:  # one failed cell must not lose the others: it is recorded
                results.setdefault(model.name, {})[target] = {"error": str(exc)}
            write_json(out, {"limit": LIMIT, "runs": RUNS, "firmware_code": firmware_code(), "results": results})
    return results, kept


def body() -> list[str]:
    mnist = load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        count_set = str(Path(folder) / "count.npz")
        write_npz(count_set, x=mnist.x_test[:10], y=mnist.y_test[:10])  # the count's accuracy pass stays small
        results, kept = measure_all(count_set, HERE / "targets.json")
    failed = [f"{m} on {t}: {c['error']}" for m, cells in results.items() for t, c in cells.items() if "error" in c]
    if failed:
        raise RuntimeError("; ".join(failed))
    return [
        "## Emulated CPUs: Raspberry Pi cores, x86 without VNNI and Cortex-M",
        "",
        f"First {LIMIT:,} test digits; instructions at batch 1, {RUNS} counted calls. Each cell: the model on that CPU "
        "against the same file here (`edgemnist parity M M --on qemu:CPU`): accuracy, top-1 agreement and max |Δp| in "
        "int8 output steps; then guest instructions per digit of one `predict_proba` call (a proxy, not a latency: "
        "see the method notes in the manual). On a Cortex-M the int8 TFLite model is compiled to C with that core's "
        "own kernel set and run by the firmware in qemu-system-arm; its instructions are one inference's, counted in "
        "the firmware, and its reference here is LiteRT, whose kernels differ from TFLite Micro's by a few int8 steps "
        '(up to 17 over the test set: "TFLite Micro"; against TFLite Micro every score is identical: "Cortex-M '
        'firmware"). ONNX models do '
        "not run there (—), and `seed` (603 KiB of flash) does not fit the M55 board's 512 KiB.",
        *([f"{kept} of these cells were {RESUMED}, kept by {RESUME}."] if kept else []),
        "",
        table(results),
        "",
    ]
