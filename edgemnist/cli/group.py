"""The ``edgemnist`` click group itself, below the command modules that add their commands to it."""

from __future__ import annotations

import warnings

import click

from ..common.deps import set_verbose
from ..common.versions import EDGEMNIST_VERSION
from .options import CleanErrors

RUNTIME_MODULES = r"(tensorflow|keras|tf2onnx|onnx|onnxruntime|ai_edge_litert|tflite_micro|absl|google|h5py|jax)(\.|$)"


@click.group(cls=CleanErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--verbose",
    is_flag=True,
    help="Show tracebacks, warnings and TensorFlow's own output (before or after the command).",
)
@click.version_option(EDGEMNIST_VERSION, prog_name="edgemnist")
@click.pass_context
def cli(ctx, verbose):
    """edgemnist: train the MNIST tutorial CNN, export it for edge runtimes, predict and benchmark.

    \b
    Typical flow:
      edgemnist train --out models
      edgemnist export models/seed.keras --format all --out export
      edgemnist predict export/seed_int8.tflite digit.png
      edgemnist bench export/*.tflite export/*.onnx --threads 1

    Exit codes: 0 all good, 1 a check failed, 2 bad input, 3 an internal error.
    """
    ctx.obj = {"verbose": verbose}
    set_verbose(verbose)
    if not verbose:  # the runtimes' own warnings (deprecations, TensorFlow's advice) are noise to a user; ours are not
        warnings.filterwarnings("ignore", module=RUNTIME_MODULES)
