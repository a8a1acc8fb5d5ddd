"""The search behind the ``mcu`` architecture: train the seed CNN and each candidate in one run, export each
candidate to full-int8 TFLite, and record training time, int8 accuracy, parameters, MACs, file size and the
arena the real TensorFlow Lite Micro interpreter needs.

    EDGEMNIST_DATA=/path/to/mnist nice -n 10 python -m benchmarks.mcu_search \
        [--only seed,mcu] [--out runs/mcu-search]

Writes OUT/search.json and prints the Markdown table for benchmarks/RESULTS.md. The load average is recorded
around each training, since the time budget (≤ 3× the seed's training time) is only fair on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from edgemnist.common.files import write_json
from edgemnist.common.render import markdown_table
from edgemnist.export.runner import export
from edgemnist.inspect import inspect_model
from edgemnist.models import ARCHITECTURES, architecture, conv_bn_relu
from edgemnist.predict.tflm import measure_arena
from edgemnist.train import train

TARGETS = {
    "accuracy": 0.9940,
    "parameters": 20_000,
    "macs": 1_500_000,
    "file_bytes": 32 * 1024,
    "arena_bytes": 24 * 1024,
}
# Every candidate trains with the chosen architecture's recipe, so the table compares architectures only.
MCU_RECIPE = {
    name: getattr(ARCHITECTURES.get("mcu"), name)
    for name in ("augment", "epochs", "batch_size", "learning_rate", "warmup")
}


def separable_bn_relu(layers, x, filters):
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return conv_bn_relu_1x1(layers, x, filters)


def conv_bn_relu_1x1(layers, x, filters):
    x = layers.Conv2D(filters, 1, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def head(keras, inputs, x, name):
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


@architecture("mcu_same", "candidate: padded 3×3 convs 8 | pool | 16-16 | pool | 32-32, GAP", **MCU_RECIPE)
def build_same(keras):
    layers, inputs = keras.layers, keras.Input(shape=(28, 28, 1), name="digits")
    x = layers.MaxPooling2D()(conv_bn_relu(layers, inputs, 8))
    x = layers.MaxPooling2D()(conv_bn_relu(layers, conv_bn_relu(layers, x, 16), 16))
    x = conv_bn_relu(layers, conv_bn_relu(layers, x, 32), 32)
    return head(keras, inputs, x, "mcu_same")


@architecture(
    "mcu_separable", "candidate: conv 16 | pool | separable 32-32 | pool | separable 64-64, GAP", **MCU_RECIPE
)
def build_separable(keras):
    layers, inputs = keras.layers, keras.Input(shape=(28, 28, 1), name="digits")
    x = conv_bn_relu(layers, inputs, 16)
    x = layers.MaxPooling2D()(x)
    x = separable_bn_relu(layers, separable_bn_relu(layers, x, 32), 32)
    x = layers.MaxPooling2D()(x)
    x = separable_bn_relu(layers, separable_bn_relu(layers, x, 64), 64)
    return head(keras, inputs, x, "mcu_separable")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def measure(arch: str, out: Path, data_dir: str | None) -> dict:
    load_before = load_average()
    trained = train(arch, seed=0, out=out / arch, data_dir=data_dir)
    row = {
        "arch": arch,
        "epochs": trained.epochs,
        "batch_size": trained.batch_size,
        "train_s": trained.wall_time_s,
        "load_before": load_before,
        "load_after": load_average(),
        "keras_accuracy": trained.test_accuracy,
    }
    if arch == "seed":
        return row
    report = export(trained.model_path, ["tflite"], "int8", out / arch / "export", data=data_dir)
    artifact = Path(report.out) / report.artifacts[0].file
    inspection = inspect_model(artifact)
    row.update(
        file=str(artifact),
        int8_accuracy=report.artifacts[0].validation["accuracy"],
        parameters=inspection.parameters,
        macs=inspection.macs,
        file_bytes=inspection.file_bytes,
        arena_estimate_bytes=inspection.arena_bytes,
        arena_bytes=measure_arena(artifact),
    )
    return row


def markdown(rows: list[dict]) -> str:
    seed_s = next((r["train_s"] for r in rows if r["arch"] == "seed"), None)
    headers = ["candidate", "epochs × batch", "train s (× seed)", "load avg before/after", "Keras acc", "int8 acc"]
    headers += ["params", "MACs", "file", "TFLM arena"]
    table = []
    for r in rows:
        ratio = f" ({r['train_s'] / seed_s:.2f}×)" if seed_s else ""
        cells = [
            r["arch"],
            f"{r['epochs']} × {r['batch_size']}",
            f"{r['train_s']:.0f}{ratio}",
            f"{r['load_before']} / {r['load_after']}",
            f"{r['keras_accuracy']:.2%}",
        ]
        if "int8_accuracy" in r:
            cells += [
                f"{r['int8_accuracy']:.2%}",
                f"{r['parameters']:,}",
                f"{r['macs']:,}",
                f"{r['file_bytes'] / 1024:.1f} KiB",
                f"{r['arena_bytes'] / 1024:.1f} KiB",
            ]
        else:
            cells += ["-"] * 5
        table.append(cells)
    return markdown_table(headers, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated architectures (default: seed and every mcu candidate)")
    parser.add_argument("--out", default="runs/mcu-search")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    names = args.only.split(",") if args.only else ["seed", *[n for n in ARCHITECTURES.names() if n.startswith("mcu")]]
    out = Path(args.out)
    rows = []
    for name in names:
        rows.append(measure(name, out, args.data))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        write_json(out / "search.json", {"targets": TARGETS, "rows": rows})
    print(markdown(rows))


if __name__ == "__main__":
    main()
