"""Commands that look behind a parity number: explain (why an int8 model disagrees), robustness (MNIST-C)."""

from __future__ import annotations

import click

from .group import cli
from .options import (
    TEST_IMAGES,
    calibration_option,
    data_options,
    emit_result,
    json_options,
    limit_option,
    progress_for,
    quiet_option,
    threads_option,
)


@cli.command()
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option(
    "--severity",
    type=click.IntRange(1, 5),
    default=None,
    help="One severity for every corruption that has one (default: each corruption's severity in MNIST-C).",
)
@limit_option
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random corruptions.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="robustness",
    show_default=True,
    help="Folder for robustness.json, robustness.md and robustness.png.",
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the corrupted test sets (default: ~/.cache/edgemnist/mnist-c).",
)
@json_options
@threads_option()
@quiet_option
@data_options
def robustness(models, severity, limit, seed, out, cache, as_json, json_path, threads, quiet, data):
    """Accuracy of each MODEL under the 15 MNIST-C corruptions, and each int8 model against its float32 model.

    An int8 model is compared with the float32 model of the same architecture given beside it (the same
    format preferred): accuracy difference, digits only one of them gets right, exact McNemar p-value.

    \b
    Example:
      edgemnist robustness export/seed_float32.tflite export/seed_int8.tflite --out runs/robustness
    """
    from ..robustness.report import robustness_text, write_reports
    from ..robustness.runner import default_cache
    from ..robustness.runner import robustness as run_robustness

    report = run_robustness(
        models,
        severity,
        limit,
        seed,
        data=data,
        cache=cache or default_cache(),
        threads=threads,
        progress=progress_for(quiet),
    )
    files = write_reports(report, out)
    emit_result(report, as_json, json_path, lambda r: f"{robustness_text(r)}\nreports: {', '.join(files.values())}")


@cli.command()
@click.argument("reference", type=click.Path())
@click.argument("candidate", type=click.Path())
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="explain",
    show_default=True,
    help="Folder for explain.json, explain.md, gallery.png and abs_diff.png.",
)
@limit_option
@click.option(
    "--debug-images",
    type=click.IntRange(10, TEST_IMAGES),
    default=500,
    show_default=True,
    help="Test digits the per-layer debugger runs.",
)
@calibration_option
@json_options
@threads_option()
@quiet_option
@data_options
def explain(reference, candidate, out, limit, debug_images, calibration, as_json, json_path, threads, quiet, data):
    """Why CANDIDATE (e.g. an int8 export) answers differently from REFERENCE.

    Per-layer quantization error in execution order (SQNR, RMSE in quantization steps, scale) naming the first
    layer where it jumps as the suspect — TFLite against its Keras model, int8 ONNX against the float ONNX —
    and output-level differences: per class, confusion matrix, |Δp|, a gallery of the digits they disagree on.

    \b
    Examples:
      edgemnist explain models/seed.keras export/seed_int8.tflite --out explain
      edgemnist explain export/seed_float32.onnx export/seed_int8.onnx
    """
    from ..explain.report import explain_text
    from ..explain.runner import explain as run_explain

    explanation = run_explain(
        reference, candidate, out, data, limit, debug_images, calibration, threads, progress_for(quiet)
    )
    emit_result(explanation, as_json, json_path, explain_text)
