"""Commands that run a model on digits: predict, evaluate, parity, sample."""

from __future__ import annotations

import sys

import click

from ..common.errors import EdgemnistError, ValidationFailed
from .group import cli
from .options import (
    backend_option,
    contract_kwargs,
    contract_options,
    data_option,
    data_options,
    emit_result,
    json_options,
    lab_options,
    limit_option,
    on_option,
    one_target,
    progress_for,
    quiet_option,
    reference_backend_option,
    threads_option,
)


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="[MODEL] IMAGE...")
@click.option("--top-k", type=click.IntRange(1, 10), default=1, show_default=True)
@json_options
@threads_option()
@backend_option
@contract_options
def predict(paths, top_k, as_json, json_path, threads, backend, input_scale, normalize):
    """Classify photos or scans of digits (PNG, JPEG, BMP, … any size).

    MODEL is any .keras, .tflite or .onnx file; without it the shipped default model (mcu, int8) is used.
    Give - as IMAGE to read image paths from stdin, one per line. Every readable image is
    reported; unreadable ones are named on stderr and the exit code is then 2. --json prints a list, one
    object per image (path, label, top_k, probabilities).

    \b
    Examples:
      edgemnist predict export/seed_int8.tflite digit.png
      ls photos/*.jpg | edgemnist predict model.onnx - --json
    """
    from ..predict.files import predict_files, predictions_text, split_model_and_images

    model, images = split_model_and_images(paths, sys.stdin)
    results, unreadable = predict_files(
        model, images, top_k, threads, backend=backend, **contract_kwargs(input_scale, normalize)
    )
    emit_result(results, as_json, json_path, predictions_text)
    for problem in unreadable if len(images) > 1 else []:
        click.echo(f"error: {problem}", err=True)
    if unreadable:
        raise EdgemnistError(
            unreadable[0] if len(images) == 1 else f"{len(unreadable)} of {len(images)} images could not be read"
        )


@cli.command()
@click.argument("model", type=click.Path())
@json_options
@limit_option
@threads_option()
@backend_option
@on_option
@lab_options
@contract_options
@quiet_option
@data_options
@click.pass_context
def evaluate(
    ctx,
    model,
    as_json,
    json_path,
    limit,
    threads,
    backend,
    targets,
    coordinator,
    lab_timeout,
    input_scale,
    normalize,
    quiet,
    data,
):
    """Score MODEL (.keras, .tflite or .onnx) on the MNIST test set, or on your own digits (--data DIR/0 … DIR/9).

    With --on, MODEL runs on that target (an emulated CPU needs `edgemnist emulate setup aarch64` once for
    the Arm ones); the JSON's 'target' records its architecture, CPU model, Python and runtime versions.

    \b
    Examples:
      edgemnist evaluate models/seed.keras --json
      edgemnist evaluate edgemnist/pretrained/mcu_int8.tflite --on qemu:cortex-a72 --json
      edgemnist evaluate edgemnist/pretrained/mcu_int8.tflite --data my-digits --split test
    """
    from ..evaluate import evaluate_model, evaluation_text

    result = evaluate_model(
        model,
        data,
        limit,
        threads,
        progress=progress_for(quiet),
        backend=backend,
        on=one_target(ctx, targets),
        reach={"coordinator": coordinator, "lab_timeout": lab_timeout},
        **contract_kwargs(input_scale, normalize),
    )
    emit_result(result, as_json, json_path, evaluation_text)


@cli.command()
@click.argument("reference", type=click.Path())
@click.argument("candidates", nargs=-1, required=True, type=click.Path())
@click.option(
    "--max-drop",
    type=click.FloatRange(0, 100),
    default=0.3,
    show_default=True,
    help="Accuracy points a candidate may lose.",
)
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=0.995,
    show_default=True,
    help="Share of top-1 labels equal to the reference's.",
)
@click.option(
    "--atol", type=click.FloatRange(0, 1), default=None, help="Max |Δp| over all probabilities (off by default)."
)
@click.option(
    "--max-lsb",
    type=click.FloatRange(0, 255),
    default=None,
    help="Max |Δ| of an int8 output in quantization steps (off by default; 32 with --backend tflm).",
)
@limit_option
@json_options
@threads_option()
@backend_option
@reference_backend_option
@on_option
@lab_options
@contract_options
@quiet_option
@data_options
@click.pass_context
def parity(
    ctx,
    reference,
    candidates,
    max_drop,
    min_agreement,
    atol,
    max_lsb,
    limit,
    as_json,
    json_path,
    threads,
    backend,
    reference_backend,
    targets,
    coordinator,
    lab_timeout,
    input_scale,
    normalize,
    quiet,
    data,
):
    """Check that each CANDIDATE answers like REFERENCE on the MNIST test set (or on --data, your own digits).

    Exit 0 when every candidate passes, 1 when any fails, 2 on bad input. Made for CI.
    --backend runs the candidates (not the reference) with that runtime; --on runs them on that target and
    the reference here: does my Pi 4 read what my laptop reads? --reference-backend runs the reference with
    another runtime (tflm: is the firmware TFLite Micro's equal?). --input-scale and --normalize describe the
    candidates; the reference is always read as it describes itself.

    \b
    Examples:
      edgemnist parity models/seed.keras export/seed_float32.onnx export/seed_int8.tflite
      edgemnist parity export/edge_int8.tflite export/edge_int8.tflite --backend tflm   # MCU arithmetic vs LiteRT
      edgemnist parity m.tflite m.tflite --on qemu:cortex-a72
      edgemnist parity m.tflite m.tflite --on qemu:cortex-m4 --reference-backend tflm --max-lsb 0
    """
    from ..parity import ParityReport, Tolerance, parity_text
    from ..parity import parity as run_parity

    tolerance = Tolerance(max_drop, min_agreement, atol, max_lsb).for_backend(backend)
    results = run_parity(
        reference,
        candidates,
        tolerance,
        data,
        limit,
        threads,
        progress=progress_for(quiet),
        backend=backend,
        on=one_target(ctx, targets),
        reach={"coordinator": coordinator, "lab_timeout": lab_timeout},
        reference_backend=reference_backend,
        **contract_kwargs(input_scale, normalize),
    )
    emit_result(ParityReport(tolerance, results), as_json, json_path, lambda report: parity_text(report.results))
    failed = [r.candidate for r in results if not r.passed]
    if failed:
        raise ValidationFailed(f"parity failed for {', '.join(failed)}")


@cli.command()
@click.option("--index", type=click.IntRange(0, 59_999), default=7777, show_default=True)
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="digit.png", show_default=True)
@data_option
def sample(index, split, out, data_dir):
    """Write one MNIST digit as a PNG (the tutorial's image 7777).

    \b
    Example:
      edgemnist sample --index 4444 --out four4.png
    """
    from ..data import save_sample_png

    label = save_sample_png(index, out, split, data_dir)
    click.echo(f"{split} image {index} (label {label}) → {out}")
