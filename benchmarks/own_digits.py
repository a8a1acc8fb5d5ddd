"""Your own digits (issue 27): scikit-learn's 1,797 UCI optical digits (8×8 scans no one here made), written as an
image folder, split 50:0:50 (seeded, stratified). The shipped ``mcu`` int8 read on the test half; ``mcu`` trained
from scratch with its recipe (timed), then ``edgemnist finetune`` on the train half (timed); its int8 exports,
calibrated on the train half and on MNIST, on the test half and on the MNIST test set. The recipe's augmentation is
checked on a validation split of the train half (40:10:50): the test half chooses nothing. The ``own-digits`` section
of benchmarks/RESULTS.md.

    python -m benchmarks --only own-digits

Training mcu from scratch is most of its time; ``EDGEMNIST_OWN_DIGITS_START=DIR`` reuses a run of
``edgemnist train --arch mcu --out DIR`` on this machine instead (its model and the times in its metrics.json), and
the section says so.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edgemnist.common.progress import TerminalProgress
from edgemnist.common.render import markdown_table
from edgemnist.datasets import DataSelection, Split
from edgemnist.finetune import FinetuneRecipe, finetune
from edgemnist.pretrained import default_model

SPLIT = Split.parse("50:0:50", seed=0)
TUNING_SPLIT = Split.parse("40:10:50", seed=0)  # the same test half; a validation part cut from the train half
REUSED_START = "EDGEMNIST_OWN_DIGITS_START"
TARGETS = "Targets (issue 27): int8 after fine-tuning ≥ 98.5 % on the test half, MNIST test ≥ 99.3 %; fine-tuning "
TARGETS += "takes at most the time of training mcu from scratch."


def write_sklearn_digits(folder: Path) -> Path:
    """DIR/<label>/NNNN.png: each 8×8 scan, its 17 grey levels (0–16) scaled to 0–255, NNNN its index."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index, (image, label) in enumerate(zip(digits.images, digits.target)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.round(image * 255 / 16).astype(np.uint8)).save(folder / str(label) / f"{index:04d}.png")
    return folder


def models() -> list[Path]:
    return [default_model("mcu")]


def accuracy(path, data) -> float:
    from edgemnist.evaluate import evaluate_model

    return evaluate_model(path, data).accuracy


def pct(value: float) -> str:
    return f"{value:.2%}"


def recipe_line(recipe: dict) -> str:
    return (
        f"{recipe['epochs']} epochs, batch {recipe['batch_size']}, peak rate {recipe['learning_rate']:g} after "
        f"{recipe['warmup']:.0%} warm-up, MNIST share {recipe['mnist_share']:.0%}, augmentation "
        f"{recipe['augment'] or 'none'}"
    )


def augmentation_check(model_path, folder: Path, out: Path, progress) -> list[list]:
    """The default recipe with the architecture's augmentation and without, fine-tuned on the train part of the
    40:10:50 split and scored (Keras float) on its val part: the test half is not looked at."""
    rows = []
    for augment in (None, "none"):
        tuned = finetune(
            model_path,
            DataSelection(str(folder), None, TUNING_SPLIT),
            out / f"augment-{augment or 'default'}",
            FinetuneRecipe(augment=augment),
            formats=(),
            progress=progress.indented(),
        )
        last = tuned.history[-1]
        rows.append(
            [
                tuned.recipe["augment"] or "none",
                pct(last["val_accuracy"]),
                f"{last['val_loss']:.4f}",
                pct(tuned.scores[1].mnist_test),
                f"{tuned.wall_time_s:.0f}",
            ]
        )
    return rows


def mnist_calibrated(model_path, half: DataSelection, out: Path) -> list[list]:
    """The fine-tuned model's int8 exports calibrated on MNIST's training digits instead, on both test sets."""
    from edgemnist.export.runner import export

    report = export(model_path, ["tflite", "onnx"], "int8", out, validate=False)
    digits = f"{report.calibrated_on['images']} MNIST training digits"
    return [
        [artifact.file, digits, pct(accuracy(out / artifact.file, half)), pct(accuracy(out / artifact.file, None))]
        for artifact in report.artifacts
    ]


def from_scratch(out: Path, progress):
    """mcu trained from scratch with its recipe, seed 0: here, or the run ``$EDGEMNIST_OWN_DIGITS_START`` holds."""
    from edgemnist.train import TrainResult, train

    reused = os.environ.get(REUSED_START)
    if reused:
        return TrainResult(**json.loads((Path(reused) / "metrics.json").read_text()))
    progress.say("training mcu from scratch (its recipe, seed 0)")
    return train("mcu", seed=0, out=out, progress=progress.indented())


@dataclass
class Measured:
    shipped: list  # [name, test half, MNIST test] of the shipped mcu int8
    scratch: Any  # the TrainResult of mcu from scratch
    tuned: Any  # the FinetuneResult on the train half
    command_s: float  # the whole finetune call, wall
    mnist_calibrated: list  # rows of the int8 exports calibrated on MNIST
    augmentation: list  # rows of the augmentation check on the validation split


def measure(work: Path) -> Measured:
    progress = TerminalProgress()
    folder = write_sklearn_digits(work / "digits")
    half = DataSelection(str(folder), "test", SPLIT)
    shipped = default_model("mcu")
    before = [f"shipped `{shipped.name}`", pct(accuracy(shipped, half)), pct(accuracy(shipped, None))]
    scratch = from_scratch(work / "scratch", progress)
    progress.say("fine-tuning on the train half")
    started = time.perf_counter()
    tuned = finetune(scratch.model_path, replace(half, part=None), work / "finetuned", progress=progress.indented())
    command_s = time.perf_counter() - started
    on_mnist = mnist_calibrated(tuned.model_path, half, work / "mnist-calibrated")
    progress.say("the augmentation, on a validation split of the train half")
    augmentation = augmentation_check(scratch.model_path, folder, work, progress)
    return Measured(before, scratch, tuned, command_s, on_mnist, augmentation)


def body() -> list[str]:
    with tempfile.TemporaryDirectory() as work:
        measured = measure(Path(work))
    return report_lines(measured)


def report_lines(m: Measured) -> list[str]:
    tuned, scratch = m.tuned, m.scratch
    start, after, *int8 = tuned.scores
    reused = os.environ.get(REUSED_START)
    origin = f"reused from `edgemnist train --arch mcu --out {reused}`" if reused else "trained in this run"
    return [
        "## Your own digits: scikit-learn's 8×8 scans, before and after `finetune`",
        "",
        "scikit-learn's `load_digits` (1,797 UCI optical digits, 8×8, 17 grey levels scaled to 0–255) written as an "
        f"image folder and read through predict's photo preprocessing; split {SPLIT.describe()}: "
        f"{tuned.trained_on['images']} train, {tuned.tested_on['images']} test (the test half).",
        "",
        markdown_table(
            ["model", "test half", "MNIST test"],
            [
                m.shipped,
                ["`mcu` from scratch (Keras float), before", pct(start.user_test), pct(start.mnist_test)],
                ["fine-tuned (Keras float)", pct(after.user_test), pct(after.mnist_test)],
                *[[f"fine-tuned `{Path(s.model).name}`", pct(s.user_test), pct(s.mnist_test)] for s in int8],
            ],
        ),
        "",
        f"`edgemnist finetune` with its default recipe ({recipe_line(tuned.recipe)}), seed 0, from `mcu` trained "
        f"from scratch with its recipe ({origin}): {tuned.train_images:,} examples an epoch, each drawn from the "
        f"{tuned.user_images} train-half digits or, {tuned.recipe['mnist_share']:.0%} of the time, from MNIST's "
        "training digits. Parity of each int8 export against the fine-tuned "
        "model on the test half: "
        + ", ".join(f"`{Path(c.candidate).name}` {pct(c.agreement)} agreement" for c in tuned.parity)
        + ".",
        "",
        "### int8 calibrated on your digits or on MNIST",
        "",
        markdown_table(
            ["fine-tuned artifact", "calibrated on", "test half", "MNIST test"],
            [
                [
                    Path(s.model).name,
                    f"{tuned.calibrated_on['images']} train-half digits",
                    pct(s.user_test),
                    pct(s.mnist_test),
                ]
                for s in int8
            ]
            + m.mnist_calibrated,
        ),  # fmt: skip
        "",
        "### Time: fine-tuning against training from scratch",
        "",
        markdown_table(
            ["run", "examples × epochs", "wall s", "CPU s"],
            [
                [
                    f"`mcu` from scratch ({origin})",
                    f"{scratch.train_images:,} × {scratch.epochs}",
                    f"{scratch.wall_time_s:.0f}",
                    f"{scratch.cpu_time_s:.0f}",
                ],
                [
                    "finetune: training",
                    f"{tuned.train_images:,} × {tuned.recipe['epochs']}",
                    f"{tuned.wall_time_s:.0f}",
                    f"{tuned.cpu_time_s:.0f}",
                ],
                ["finetune: the whole call (scores, training, export, parity)", "", f"{m.command_s:.0f}", ""],
            ],
        ),  # fmt: skip
        "",
        "### The augmentation, checked on a validation split",
        "",
        markdown_table(
            ["augmentation", "val accuracy (Keras float)", "val loss", "MNIST test (Keras float)", "training wall s"],
            m.augmentation,
        ),
        "",
        "finetune's recipe fine-tuned on the train part of a 40:10:50 split (the same test half, untouched) and "
        "scored on its val part, with mcu's own augmentation (field) and without: the check that the augmentation "
        "does not hurt these digits. It chose finetune's default, none, by the val part (equal accuracy, lower "
        f"loss), and faster. Everything on {os.cpu_count()} cores ({platform.machine()}), one run after "
        f"another; CPU time is the fairer figure on a shared machine. {TARGETS}",
        "",
    ]
