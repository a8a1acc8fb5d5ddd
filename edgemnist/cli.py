"""The ``edgemnist`` command: each subcommand parses, calls one library function, prints the result.

Errors a user can cause arrive as EdgemnistError and leave as one line on stderr plus an exit code
(1 a failed check, 2 bad input or missing data); --verbose shows tracebacks and TensorFlow's output.
"""
from __future__ import annotations

import json
import sys
import warnings

import click

from . import __version__
from .cli_options import (CleanErrors, contract_kwargs, contract_options, data_option, echo_json, parse_int_list,
                          threads_option)
from .deps import set_verbose
from .errors import EdgemnistError, ValidationFailed
from .export import QUANTIZATIONS, format_names
from .models import ARCHITECTURES


@click.group(cls=CleanErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--verbose", is_flag=True, help="Show tracebacks, warnings and TensorFlow's own output.")
@click.version_option(__version__, prog_name="edgemnist")
@click.pass_context
def cli(ctx, verbose):
    """edgemnist: train the MNIST tutorial CNN, export it for edge runtimes, predict and benchmark.

    \b
    Typical flow:
      edgemnist train --out models
      edgemnist export models/seed.keras --format all --out export
      edgemnist predict export/seed_int8.tflite digit.png
      edgemnist bench export/*.tflite export/*.onnx --threads 1
    """
    ctx.obj = {"verbose": verbose}
    set_verbose(verbose)
    if not verbose:
        warnings.filterwarnings("ignore")


@cli.command()
@click.option("--arch", type=click.Choice(ARCHITECTURES.names()), default="seed", show_default=True, help="Architecture from the registry.")
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same model (deterministic on CPU).")
@click.option("--out", type=click.Path(file_okay=False), default="models", show_default=True, help="Folder for <arch>.keras and metrics.json.")
@click.option("--train-limit", type=click.IntRange(1), default=None, help="Train on the first N training images only (quick tries).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@data_option
def train(arch, epochs, batch_size, seed, out, train_limit, quiet, data_dir):
    """Train an architecture on MNIST and write OUT/<arch>.keras and OUT/metrics.json.

    \b
    Example:
      edgemnist train --arch seed --epochs 10 --out models
    """
    from .train import train as run_training

    result = run_training(arch, epochs, batch_size, seed, out, data_dir, quiet, train_limit)
    click.echo(
        f"{result.arch}: test accuracy {result.test_accuracy:.2%} after {result.epochs} epochs "
        f"({result.parameters:,} parameters, {result.wall_time_s:.0f} s) → {result.model_path}"
    )


@cli.command()
@click.argument("model", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print JSON (top-level 'accuracy' key).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Evaluate on the first N test images.")
@threads_option
@contract_options
@data_option
def evaluate(model, as_json, limit, threads, input_scale, normalize, data_dir):
    """Score MODEL (.keras, .tflite or .onnx) on the MNIST test set.

    \b
    Example:
      edgemnist evaluate models/seed.keras --json
    """
    from .evaluate import evaluate_model
    from .render import evaluation_text

    result = evaluate_model(model, data_dir, limit, threads, **contract_kwargs(input_scale, normalize))
    echo_json(result.to_dict()) if as_json else click.echo(evaluation_text(result))


@cli.command()
@click.option("--index", type=click.IntRange(0), default=7777, show_default=True)
@click.option("--split", type=click.Choice(["test", "train"]), default="test", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="digit.png", show_default=True)
@data_option
def sample(index, split, out, data_dir):
    """Write one MNIST digit as a PNG (the tutorial's image 7777).

    \b
    Example:
      edgemnist sample --index 4444 --out four4.png
    """
    from .data import save_sample_png

    label = save_sample_png(index, out, split, data_dir)
    click.echo(f"{split} image {index} (label {label}) → {out}")


@cli.command()
@click.argument("model", required=False, type=click.Path())
@click.option("--format", "formats", type=click.Choice([*format_names(), "all"]), multiple=True, default=["tflite"],
              show_default=True, help="Output format; repeat it, or 'all' for every format × quantization.")
@click.option("--quantize", type=click.Choice(["none", *QUANTIZATIONS[1:]]), is_flag=False, flag_value="int8", default=None,
              help="Quantization; a bare --quantize means full int8 (int8 input and output).")
@click.option("--out", type=click.Path(file_okay=False), default="export", show_default=True)
@click.option("--calibration", type=click.IntRange(10), default=300, show_default=True,
              help="Training images (class-balanced, fixed) used to calibrate int8.")
@click.option("--no-validate", is_flag=True, help="Skip the comparison with the Keras model.")
@data_option
def export(model, formats, quantize, out, calibration, no_validate, data_dir):
    """Export MODEL (default: the newest trained .keras here) to TFLite, ONNX or C, validated.

    \b
    Examples:
      edgemnist export models/seed.keras --format tflite --quantize
      edgemnist export models/seed.keras --format all --out export
    """
    from .export.runner import export as run_export
    from .render import export_text
    from .train import find_latest_model

    quantization = "float32" if quantize == "none" else quantize
    report = run_export(model or find_latest_model(), formats, quantization, out, calibration, not no_validate,
                        data_dir, progress=lambda message: click.echo(message, err=True))
    click.echo(export_text(report))
    if report.failed:
        raise ValidationFailed(f"{len(report.failed)} artifact(s) failed validation: " + ", ".join(a.file for a in report.failed))


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="[MODEL] IMAGE...")
@click.option("--top-k", type=click.IntRange(1, 10), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per image (path, label, probabilities).")
@threads_option
@contract_options
def predict(paths, top_k, as_json, threads, input_scale, normalize):
    """Classify photos or scans of digits (PNG, JPEG, BMP, … any size).

    MODEL is any .keras, .tflite or .onnx file; without it the shipped edge model is used.
    Give - as IMAGE to read image paths from stdin, one per line.

    \b
    Examples:
      edgemnist predict export/seed_int8.tflite digit.png
      ls photos/*.jpg | edgemnist predict model.onnx - --json
    """
    from .predict.files import predict_files, split_model_and_images

    model, images = split_model_and_images(paths, sys.stdin)
    results = predict_files(model, images, top_k, threads, **contract_kwargs(input_scale, normalize))
    for r in results:
        if as_json:
            click.echo(json.dumps({"path": r.path, "label": r.label, "confidence": r.confidence, "probabilities": r.probabilities}))
        else:
            others = "  ".join(f"{label}: {p:.3f}" for label, p in r.top_k[1:])
            click.echo(f"{r.path}: {r.label} ({r.confidence:.1%})" + (f"  next: {others}" if others else ""))


@cli.command()
@click.argument("reference", type=click.Path())
@click.argument("candidates", nargs=-1, required=True, type=click.Path())
@click.option("--max-drop", type=float, default=0.3, show_default=True, help="Accuracy points a candidate may lose.")
@click.option("--min-agreement", type=float, default=0.995, show_default=True, help="Share of top-1 labels equal to the reference's.")
@click.option("--atol", type=float, default=None, help="Max |Δp| over all probabilities (off by default).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Use the first N test images.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Also write the results as JSON.")
@threads_option
@contract_options
@data_option
def parity(reference, candidates, max_drop, min_agreement, atol, limit, json_path, threads, input_scale, normalize, data_dir):
    """Check that each CANDIDATE answers like REFERENCE on the MNIST test set.

    Exit 0 when every candidate passes, 1 when any fails, 2 on bad input. Made for CI.

    \b
    Example:
      edgemnist parity models/seed.keras export/seed_float32.onnx export/seed_int8.tflite
    """
    from .files import write_json
    from .parity import Tolerance, parity as run_parity
    from .render import parity_text

    tolerance = Tolerance(max_drop, min_agreement, atol)
    results = run_parity(reference, candidates, tolerance, data_dir, limit, threads,
                         progress=lambda message: click.echo(message, err=True), **contract_kwargs(input_scale, normalize))
    click.echo(parity_text(results))
    if json_path:
        write_json(json_path, {"tolerance": tolerance.__dict__, "results": [r.to_dict() for r in results]})
    failed = [r.candidate for r in results if not r.passed]
    if failed:
        raise ValidationFailed(f"parity failed for {', '.join(failed)}")


@cli.command()
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option("--batch", "batches", default="1,64", show_default=True, callback=parse_int_list, help="Batch sizes, comma-separated.")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True, help="Runtime threads.")
@click.option("--cores", default=None, callback=parse_int_list, help="Pin each worker to these CPU cores (e.g. 0), as on a small board.")
@click.option("--runs", type=click.IntRange(10), default=200, show_default=True, help="Timed calls per batch size.")
@click.option("--warmup", type=click.IntRange(0), default=20, show_default=True)
@click.option("--timeout", type=click.FloatRange(1), default=300, show_default=True, help="Seconds before a worker is killed.")
@click.option("--reference", type=click.Path(), default=None, help="Model to measure agreement and max |Δp| against.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the report as JSON.")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False), default=None, help="Write the report as Markdown.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="Write PNG plots (needs edgemnist[plot]).")
@contract_options
@data_option
def bench(models, batches, threads, cores, runs, warmup, timeout, reference, json_path, markdown_path, plot_path,
          input_scale, normalize, data_dir):
    """Measure latency, memory, accuracy and size of each MODEL, each in its own process.

    \b
    Examples:
      edgemnist bench export/*.tflite export/*.onnx --threads 1 --cores 0
      edgemnist bench models/seed.keras export/seed_int8.tflite --reference models/seed.keras --json b.json --plot b.png
    """
    from .bench.report import text_report, write_markdown, write_plot
    from .bench.runner import bench as run_bench
    from .files import write_json

    report = run_bench(models, batches, threads, cores, runs, warmup, timeout, reference, data_dir,
                       progress=lambda message: click.echo(message, err=True), contract=contract_kwargs(input_scale, normalize))
    click.echo(text_report(report))
    if json_path:
        write_json(json_path, report.to_dict())
    if markdown_path:
        write_markdown(report, markdown_path)
    if plot_path:
        write_plot(report, plot_path)


@cli.command()
@click.argument("model", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect(model, as_json):
    """Parameters, MACs, weight bytes and activation RAM of MODEL, per layer and in total.

    \b
    Example:
      edgemnist inspect export/seed_int8.tflite
    """
    from .inspect import inspect_model
    from .render import inspection_text

    result = inspect_model(model)
    echo_json(result.to_dict()) if as_json else click.echo(inspection_text(result))


@cli.command()
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for everything the run makes.")
@click.option("--arch", type=click.Choice(ARCHITECTURES.names()), default="seed", show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=10, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch", "batches", default="1,64", show_default=True, callback=parse_int_list)
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True)
@click.option("--runs", type=click.IntRange(10), default=200, show_default=True)
@click.option("--quiet", is_flag=True, help="No training progress bar.")
@data_option
def pipeline(out, arch, epochs, seed, batches, threads, runs, quiet, data_dir):
    """Train, export every format, check parity and benchmark: the whole job in one command.

    \b
    Example:
      edgemnist pipeline --out runs/seed
    """
    from .pipeline import run_pipeline
    from .render import pipeline_text

    result = run_pipeline(out, arch, epochs, seed, batches, threads, runs, data_dir, quiet, progress=lambda m: click.echo(m, err=True))
    click.echo(pipeline_text(result))
    if not result.parity_passed or any(a.passed is False for a in result.artifacts):
        raise ValidationFailed("an artifact failed validation or parity; see parity.json")


@cli.command()
def models():
    """List the pretrained models shipped in the package, with accuracy and size.

    \b
    Example:
      edgemnist models
    """
    from .pretrained import pretrained_dir, shipped_manifest
    from .render import human_bytes, text_table

    rows = [[m["file"], m["arch"], m["format"], m["quantization"], f"{m['accuracy']:.2%}", human_bytes(m["size_bytes"]), m["parameters"]]
            for m in shipped_manifest()["models"]]
    click.echo(text_table(["model", "arch", "format", "quant", "accuracy", "size", "params"], rows))
    click.echo(f"in {pretrained_dir()}")


def main():
    cli(prog_name="edgemnist")


if __name__ == "__main__":
    sys.exit(main())
