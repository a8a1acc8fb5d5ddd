"""Workstation commands: train, export, finetune, pipeline."""

from __future__ import annotations

import click

from ..augment import AUGMENTATIONS
from ..common.errors import ValidationFailed
from ..export import QUANTIZATIONS, format_names
from ..finetune import FinetuneRecipe
from ..models import ARCHITECTURES
from .group import cli
from .options import (
    MNIST_HELP,
    TRAINING_IMAGES,
    calibration_option,
    data_option,
    data_options,
    emit_result,
    json_options,
    parse_int_list,
    progress_for,
    quiet_option,
    runs_option,
    threads_option,
)

model_seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, help="Same seed, same model (deterministic on CPU)."
)


@cli.command()
@click.option(
    "--arch",
    type=click.Choice(ARCHITECTURES.names()),
    default="seed",
    show_default=True,
    help="Architecture from the registry.",
)
@click.option(
    "--epochs", type=click.IntRange(1, 1000), default=None, help="Default: the architecture's recipe (seed: 10)."
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, TRAINING_IMAGES),
    default=None,
    help="Default: the architecture's recipe (seed: 32).",
)
@model_seed_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="models",
    show_default=True,
    help="Folder for <arch>.keras and metrics.json.",
)
@click.option(
    "--train-limit",
    type=click.IntRange(1, TRAINING_IMAGES),
    default=None,
    help="Train on the first N training images only (quick tries).",
)
@json_options
@quiet_option
@data_option
def train(arch, epochs, batch_size, seed, out, train_limit, as_json, json_path, quiet, data_dir):
    """Train an architecture on MNIST and write OUT/<arch>.keras and OUT/metrics.json.

    \b
    Example:
      edgemnist train --arch seed --epochs 10 --out models
    """
    from ..train import train as run_training
    from ..train import train_text

    result = run_training(arch, epochs, batch_size, seed, out, data_dir, train_limit, progress=progress_for(quiet))
    emit_result(result, as_json, json_path, train_text)


@cli.command()
@click.argument("model", required=False, type=click.Path())
@click.option(
    "--format",
    "formats",
    type=click.Choice([*format_names(), "all"]),
    multiple=True,
    default=["tflite"],
    show_default=True,
    help="Output format; repeat it, or 'all' for every format × quantization.",
)
@click.option(
    "--quantize",
    type=click.Choice(["none", *QUANTIZATIONS[1:]]),
    is_flag=False,
    flag_value="int8",
    default=None,
    help="Quantization; a bare --quantize means full int8 (int8 input and output).",
)
@click.option("--out", type=click.Path(file_okay=False), default="export", show_default=True)
@calibration_option
@click.option("--no-validate", is_flag=True, help="Skip the comparison with the Keras model.")
@json_options
@quiet_option
@data_options(part=False)
def export(model, formats, quantize, out, calibration, no_validate, as_json, json_path, quiet, data):
    """Export MODEL (default: the newest trained .keras here) to TFLite, ONNX or C, validated.

    int8 is calibrated on the training digits of --data (MNIST's training set, or the train part of your own
    digits) and every artifact validated on its test digits (MNIST's test set, or the test part).

    \b
    Examples:
      edgemnist export models/seed.keras --format tflite --quantize
      edgemnist export models/seed.keras --format all --out export
      edgemnist export models/seed.keras --quantize --data my_digits/ --split-ratio 70:15:15
    """
    from ..export.report import export_text
    from ..export.runner import export as run_export
    from ..train import find_latest_model

    quantization = "float32" if quantize == "none" else quantize
    report = run_export(
        model or find_latest_model(),
        formats,
        quantization,
        out,
        calibration,
        not no_validate,
        data,
        progress=progress_for(quiet),
    )
    emit_result(report, as_json, json_path, export_text)
    if report.failed:
        raise ValidationFailed(
            f"{len(report.failed)} artifact(s) failed validation: " + ", ".join(a.file for a in report.failed)
        )


@cli.command()
@click.argument("model", type=click.Path())
@click.option("--epochs", type=click.IntRange(1, 1000), default=FinetuneRecipe.epochs, show_default=True)
@click.option(
    "--batch-size", type=click.IntRange(1, TRAINING_IMAGES), default=FinetuneRecipe.batch_size, show_default=True
)
@click.option(
    "--learning-rate",
    type=click.FloatRange(0, 1, min_open=True),
    default=FinetuneRecipe.learning_rate,
    show_default=True,
    help="Peak of the warm-up then cosine schedule.",
)
@click.option(
    "--mnist-share",
    type=click.FloatRange(0, 1, max_open=True),
    default=FinetuneRecipe.mnist_share,
    show_default=True,
    help="Share of MNIST training digits in each epoch, so that the model keeps reading MNIST; 0: yours only.",
)
@click.option(
    "--augment",
    type=click.Choice([*AUGMENTATIONS.names(), "none"]),
    default=FinetuneRecipe.augment,
    show_default=True,
    help="Training augmentation (edgemnist.augment). On scikit-learn's digits mcu's own, field, learned them less "
    "well than none (benchmarks/RESULTS.md).",
)
@model_seed_option
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="finetuned",
    show_default=True,
    help="Folder for <arch>.keras, its int8 exports, manifest.json and finetune.json.",
)
@calibration_option
@click.option(
    "--mnist",
    metavar="PATH",
    envvar="EDGEMNIST_DATA",
    help=f"MNIST, mixed in and scored on: a folder of its IDX files or mnist.npz. {MNIST_HELP}",
)
@json_options
@quiet_option
@data_options(part=False)
def finetune(
    model,
    epochs,
    batch_size,
    learning_rate,
    mnist_share,
    augment,
    seed,
    out,
    calibration,
    mnist,
    as_json,
    json_path,
    quiet,
    data,
):
    """Fine-tune MODEL (.keras) on the train part of your digits (--data), mixed with MNIST; export it int8,
    calibrated on your digits, and check parity on your test part.

    Reports accuracy before and after on your held-out test part and on the MNIST test set. A val part
    (--split-ratio 70:15:15 has one) is scored after each epoch.

    \b
    Example:
      edgemnist finetune models/mcu.keras --data my_digits/ --split-ratio 70:15:15 --out finetuned
    """
    from ..finetune import finetune as run_finetune
    from ..finetune import finetune_text

    recipe = FinetuneRecipe(epochs, batch_size, learning_rate, mnist_share=mnist_share, augment=augment)
    result = run_finetune(model, data, out, recipe, seed, mnist, calibration, progress=progress_for(quiet))
    emit_result(result, as_json, json_path, finetune_text)
    if not result.parity_passed:
        raise ValidationFailed("an int8 export failed parity with the fine-tuned model on your test part")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for everything the run makes.")
@click.option("--arch", type=click.Choice(ARCHITECTURES.names()), default="seed", show_default=True)
@click.option(
    "--epochs", type=click.IntRange(1, 1000), default=None, help="Default: the architecture's recipe (seed: 10)."
)
@model_seed_option
@click.option(
    "--batch",
    "batches",
    default="1,64",
    show_default=True,
    callback=parse_int_list,
    help="Bench batch sizes, comma-separated.",
)
@threads_option(default=1)
@runs_option
@json_options
@quiet_option
@data_option
def pipeline(out, arch, epochs, seed, batches, threads, runs, as_json, json_path, quiet, data_dir):
    """Train, export every format, check parity and benchmark: the whole job in one command.

    \b
    Example:
      edgemnist pipeline --out runs/seed
    """
    from ..pipeline import pipeline_text, run_pipeline

    result = run_pipeline(out, arch, epochs, seed, batches, threads, runs, data_dir, progress=progress_for(quiet))
    emit_result(result, as_json, json_path, pipeline_text)
    if not result.parity_passed or any(a.passed is False for a in result.artifacts):
        raise ValidationFailed("an artifact failed validation or parity; see parity.json")
