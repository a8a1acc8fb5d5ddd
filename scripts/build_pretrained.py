"""Rebuild the models shipped in ``edgemnist/pretrained/``, deterministically, from MNIST alone.

    EDGEMNIST_DATA=../shared/data/mnist python scripts/build_pretrained.py            # every shipped arch
    EDGEMNIST_DATA=../shared/data/mnist python scripts/build_pretrained.py --arch seed
    EDGEMNIST_DATA=../shared/data/mnist python scripts/build_pretrained.py --arch mcu --into /tmp/a   # elsewhere

Each architecture is trained with its own recipe (epochs, batch, schedule: ``edgemnist.models``) and seed 0
(deterministic on CPU), exported to int8 TFLite and int8 ONNX and validated against its Keras model (the export
gate), then copied into the package and recorded in ``manifest.json`` with its accuracy, size, sha256 and
parameters. The same command gives the same files: ``tests/test_pretrained.py`` checks each shipped file against its
manifest entry.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgemnist.common.files import sha256_file, write_bytes, write_json
from edgemnist.common.progress import TerminalProgress
from edgemnist.common.versions import tool_versions
from edgemnist.export.runner import export
from edgemnist.inspect import inspect_model
from edgemnist.pretrained import pretrained_dir
from edgemnist.train import TrainResult, train

SHIPPED = ("mcu", "edge", "seed")  # edgemnist.pretrained.DEFAULT_ARCH is one of them
FORMATS = ("tflite", "onnx")
SEED = 0


def trained_model(arch: str, work: Path, reuse: bool, progress) -> TrainResult:
    """Train with the recipe, or with ``reuse`` take the model an earlier run of this script left in ``work``
    (training is deterministic: the same model either way, so only the exports are redone)."""
    metrics = work / arch / "metrics.json"
    if reuse and metrics.is_file():
        progress.say(f"{arch}: reusing the model trained in {metrics.parent}")
        return TrainResult(**json.loads(metrics.read_text()))
    progress.say(f"{arch}: training with its recipe")
    return train(arch, None, None, SEED, work / arch, progress=progress.indented())


def build(arch: str, work: Path, into: Path, reuse: bool, progress) -> list[dict]:
    """Train and export one architecture; its manifest entries, files copied into ``into`` (the package)."""
    trained = trained_model(arch, work, reuse, progress)
    report = export(trained.model_path, list(FORMATS), "int8", work / arch / "export", progress=progress.indented())
    if report.failed:
        raise SystemExit(f"{arch}: export failed validation: {[a.file for a in report.failed]}")
    entries = []
    for artifact in report.artifacts:
        shipped = write_bytes(into / artifact.file, (Path(report.out) / artifact.file).read_bytes())
        entries.append(
            {
                "file": artifact.file,
                "arch": arch,
                "format": artifact.format,
                "quantization": artifact.quantization,
                "accuracy": round(artifact.validation["accuracy"], 4),
                "keras_accuracy": round(trained.test_accuracy, 4),
                "size_bytes": shipped.stat().st_size,
                "sha256": sha256_file(shipped),
                "parameters": inspect_model(shipped).parameters,
                "epochs": trained.epochs,
                "train_seconds": trained.wall_time_s,
                "train_cpu_seconds": trained.cpu_time_s,
            }
        )
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", action="append", choices=sorted(SHIPPED), help="Rebuild only these (repeatable).")
    parser.add_argument(
        "--work", type=Path, default=Path("runs/pretrained"), help="Folder for the trained models and exports."
    )
    parser.add_argument(
        "--into", type=Path, default=pretrained_dir(), help="Folder for the models and manifest (the package's)."
    )
    parser.add_argument("--reuse", action="store_true", help="Export the models already trained in --work again.")
    args = parser.parse_args()
    progress = TerminalProgress()
    manifest_path = args.into / "manifest.json"
    previous = manifest_path if manifest_path.is_file() else pretrained_dir() / "manifest.json"
    kept = [m for m in json.loads(previous.read_text())["models"] if args.arch and m["arch"] not in args.arch]
    built = [
        entry for arch in (args.arch or SHIPPED) for entry in build(arch, args.work, args.into, args.reuse, progress)
    ]
    order = list(SHIPPED)
    models = sorted(kept + built, key=lambda m: (order.index(m["arch"]), FORMATS.index(m["format"])))
    write_json(manifest_path, {"models": models, "tools": tool_versions()})
    progress.say(f"wrote {len(built)} models and {manifest_path}")


if __name__ == "__main__":
    main()
