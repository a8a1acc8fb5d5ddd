"""Commands that measure models: bench, inspect, models; emulate (the emulated CPUs bench --on runs on)."""

from __future__ import annotations

import click

from ..common.errors import ValidationFailed
from .group import cli
from .options import (
    backend_option,
    contract_kwargs,
    contract_options,
    data_options,
    emit_result,
    json_options,
    lab_options,
    limit_option,
    on_option,
    parse_int_list,
    progress_for,
    quiet_option,
    runs_option,
    threads_option,
)


@cli.command()
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option(
    "--batch",
    "batches",
    default="1,64",
    show_default=True,
    callback=parse_int_list,
    help="Batch sizes, comma-separated.",
)
@threads_option(default=1)
@click.option(
    "--cores",
    default=None,
    callback=parse_int_list,
    help="Pin each worker to these CPU cores (e.g. 0), as on a small board.",
)
@runs_option
@click.option("--warmup", type=click.IntRange(0, 100_000), default=20, show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(1, 86_400),
    default=300,
    show_default=True,
    help="Seconds before a worker is killed (×20 on an emulated qemu:CPU).",
)
@click.option("--reference", type=click.Path(), default=None, help="Model to measure agreement and max |Δp| against.")
@json_options
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report as Markdown to this file.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write PNG plots to this file (needs edgemnist[plot]).",
)
@on_option
@click.option(
    "--remote-python",
    default="python3",
    show_default=True,
    help="The board's Python, where edgemnist[tflite] or [onnx] is installed.",
)
@click.option(
    "--ssh-option",
    "ssh_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Passed to ssh as -o KEY=VALUE (repeatable).",
)
@lab_options
@backend_option
@limit_option
@contract_options
@quiet_option
@data_options
def bench(
    models,
    batches,
    threads,
    cores,
    runs,
    warmup,
    timeout,
    reference,
    as_json,
    json_path,
    markdown_path,
    plot_path,
    targets,
    remote_python,
    ssh_options,
    coordinator,
    lab_timeout,
    backend,
    limit,
    input_scale,
    normalize,
    quiet,
    data,
):
    """Measure latency, memory, accuracy and size of each MODEL, each in its own process.

    Exit 1 when any model's row has an error (it could not be loaded or measured, or its board reached).
    --limit limits the accuracy pass; every batch is timed at its full size.

    With --on, each model runs on each target (repeat --on for several, measured in parallel): on a board, in
    the board's Python, over your ssh setup (~/.ssh/config, keys, agent), with files cached on the board in
    ~/.cache/edgemnist/bench. On labgrid:PLACE, the board behind a lab's place, held from the first worker to the
    last so that no other run measures on it meanwhile. On qemu:CPU, cost is guest instructions per inference (a
    QEMU plugin counts them), a proxy that ranks models on that core's instruction stream, not a latency.

    \b
    Examples:
      edgemnist bench export/*.tflite export/*.onnx --threads 1 --cores 0
      edgemnist bench models/seed.keras export/seed_int8.tflite --reference models/seed.keras \
        --json-file b.json --plot b.png
      edgemnist bench export/seed_int8.tflite --on pi@raspberrypi.local --on pi@pi5 --cores 0 --markdown boards.md
      edgemnist bench export/seed_int8.tflite --on labgrid:pi-1 --on labgrid:board=pi5 --coordinator lab:20408
      edgemnist bench edgemnist/pretrained/mcu_int8.tflite --on qemu:cortex-a72 --json-file b.json
    """
    from ..bench.report import text_report, write_markdown, write_plot
    from ..bench.runner import bench as run_bench
    from ..bench.schema import BenchJob

    job = BenchJob(
        batches=batches,
        threads=threads,
        cores=cores,
        runs=runs,
        warmup=warmup,
        contract=contract_kwargs(input_scale, normalize),
        backend=backend,
    )
    report = run_bench(
        models,
        job,
        on=targets,
        reference=reference,
        data=data,
        limit=limit,
        timeout=timeout,
        progress=progress_for(quiet),
        remote_python=remote_python,
        ssh_options=ssh_options,
        coordinator=coordinator,
        lab_timeout=lab_timeout,
    )
    emit_result(report, as_json, json_path, text_report)
    if markdown_path:
        write_markdown(report, markdown_path)
    if plot_path:
        write_plot(report, plot_path)
    failed = [row.label for row in report.rows if row.error]
    if failed:
        raise ValidationFailed(f"{len(failed)} of {len(report.rows)} models could not be measured: {', '.join(failed)}")


@cli.command()
@click.argument("model", type=click.Path())
@json_options
@click.option(
    "--measure",
    is_flag=True,
    help="Also find the arena the real TFLite Micro interpreter needs (TFLite models; needs edgemnist[tflm]).",
)
def inspect(model, as_json, json_path, measure):
    """Parameters, MACs, weight bytes and activation RAM of MODEL, per layer and in total.

    For a TFLite model the arena is what TensorFlow Lite Micro needs: its planned activations plus its
    own bookkeeping, a bound at or above the real figure that --measure finds.

    \b
    Examples:
      edgemnist inspect export/seed_int8.tflite
      edgemnist inspect edgemnist/pretrained/edge_int8.tflite --measure
    """
    from ..inspect import inspect_model
    from ..inspect.report import inspection_text

    emit_result(inspect_model(model, measure=measure), as_json, json_path, inspection_text)


@cli.command()
@json_options
def models(as_json, json_path):
    """List the pretrained models shipped in the package, with accuracy and size.

    \b
    Example:
      edgemnist models
    """
    from ..pretrained import pretrained_dir, shipped_manifest, shipped_models_text

    shipped = {"folder": str(pretrained_dir()), "models": shipped_manifest()["models"]}
    emit_result(shipped, as_json, json_path, shipped_models_text)


@cli.group()
def emulate():
    """Emulated CPUs for --on qemu:CPU (bench, evaluate, parity)."""


@emulate.command("setup")
@click.argument("arch", type=click.Choice(["aarch64"]))
@click.option(
    "--root",
    "given_root",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Use this arm64 Debian bookworm root (e.g. exported from a container image) instead of debootstrap.",
)
@quiet_option
def emulate_setup(arch, given_root, quiet):
    """Make the arm64 root (Debian, a venv with the aarch64 runtimes and this edgemnist) in ~/.cache/edgemnist.

    Needs root rights, qemu-user, qemu-user-static, binfmt_misc and debootstrap; reused once made. x86 CPUs
    (qemu:haswell) need no setup: they run this machine's own Python.

    \b
    Example:
      sudo edgemnist emulate setup aarch64 && edgemnist evaluate m.tflite --on qemu:cortex-a72
    """
    from ..emulate import setup_aarch64

    root = setup_aarch64(given_root, progress_for(quiet))
    click.echo(f"arm64 root ready: {root}")
