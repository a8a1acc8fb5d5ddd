"""The per-target table (issue 17): every shipped model and every export of the seed model, here and on
emulated CPUs (Raspberry Pi 3/Zero 2 W, 4 and 5 cores; x86 without AVX-512/VNNI).

Each cell: accuracy on the first LIMIT test digits, top-1 agreement with this host and max |Δp| in int8
output steps (the candidate on the target, the same file here as the reference: ``edgemnist parity M M --on
T``), and guest instructions per digit at batch 1 (QEMU TCG plugin, RUNS calls between two marks). Writes
benchmarks/targets.json and the marked section of benchmarks/RESULTS.md.

    EDGEMNIST_DATA=... nice -n 10 python benchmarks/targets.py [--limit 10000] [--seed-dir runs/seed]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

from edgemnist.bench.runner import bench_target
from edgemnist.bench.schema import BenchJob
from edgemnist.common.files import write_json, write_npz
from edgemnist.common.render import markdown_table
from edgemnist.data import load_mnist
from edgemnist.parity import Tolerance, parity
from edgemnist.pretrained import pretrained_dir
from edgemnist.targets import resolve

HERE = Path(__file__).parent
TARGETS = ["here", "qemu:cortex-a53", "qemu:cortex-a72", "qemu:cortex-a76", "qemu:haswell"]
RUNS, WARMUP = 50, 5
BEGIN, END = "<!-- targets-table: begin (benchmarks/targets.py) -->", "<!-- targets-table: end -->"


def models(seed_dir: Path) -> list[Path]:
    shipped = sorted(pretrained_dir().glob("*.tflite")) + sorted(pretrained_dir().glob("*.onnx"))
    exports = sorted(p for p in seed_dir.glob("**/*") if p.suffix in (".tflite", ".onnx")) if seed_dir else []
    return shipped + exports


def cell(model: Path, target: str, limit: int, count_set: str) -> dict:
    """One model on one target: parity against this host, then the instruction count (emulated targets)."""
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
        row = bench_target(resolve(target), [model], job, 3600, lambda message, steps=0: print(message))[0]
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
        line = [model.replace("edgemnist/pretrained/", "shipped ").replace("runs/seed/export/", "seed export ")]
        for target in TARGETS:
            c = cells.get(target)
            if not c:
                line.append("—")
                continue
            # int8 outputs: their own step; float outputs: the step of an int8 softmax output, 1/256
            steps = c["max_lsb"] if c["max_lsb"] is not None else round(c["max_abs_diff"] * 256, 1)
            text = f"{c['accuracy']:.2%}, agree {c['agreement']:.2%}, Δ {steps:g} steps"
            if c.get("instructions_per_digit"):
                text += f", {c['instructions_per_digit'] / 1e6:.2f} M insn/digit"
            line.append(text)
        rows.append(line)
    return markdown_table(headers, rows)


def write_section(text: str) -> None:
    path = HERE / "RESULTS.md"
    current = path.read_text()
    section = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in current:
        current = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, current, flags=re.S)
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(current)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--seed-dir", type=Path, default=Path("runs/seed"))
    parser.add_argument("--out", type=Path, default=HERE / "targets.json")
    parser.add_argument("models", nargs="*", type=Path, help="Only these (default: shipped and seed exports).")
    args = parser.parse_args()
    mnist = load_mnist()
    out = args.out
    results: dict = json.loads(out.read_text())["results"] if out.is_file() else {}  # cells measured before stay
    with tempfile.TemporaryDirectory() as folder:
        count_set = str(Path(folder) / "count.npz")
        write_npz(count_set, x=mnist.x_test[:10], y=mnist.y_test[:10])  # the count's accuracy pass stays small
        for model in args.models or models(args.seed_dir if args.seed_dir.is_dir() else None):
            name = str(model.relative_to(Path.cwd())) if model.is_relative_to(Path.cwd()) else str(model)
            for target in TARGETS:
                if "error" not in results.get(name, {}).get(target, {"error": "not yet"}):
                    continue  # measured by an earlier run: the script resumes
                print(f"{name} on {target}", file=sys.stderr, flush=True)
                try:
                    results.setdefault(name, {})[target] = cell(model, target, args.limit, count_set)
                except Exception as exc:  # one failed cell must not lose the others: it is recorded
                    results.setdefault(name, {})[target] = {"error": str(exc)}
                write_json(out, {"limit": args.limit, "runs": RUNS, "results": results})
    text = table({m: {t: c for t, c in cells.items() if "error" not in c} for m, cells in results.items()})
    write_section(f"First {args.limit:,} test digits; instructions at batch 1, {RUNS} counted calls.\n\n{text}")
    print(text)


if __name__ == "__main__":
    main()
