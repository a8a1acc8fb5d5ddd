"""The ``edgemnist`` command: each subcommand parses, calls one library function, prints the result.

Commands live in modules by what they are for, each adding itself to the group ``cli``: ``training``
(train, export, pipeline), ``checking`` (predict, evaluate, parity, sample), ``measuring`` (bench,
inspect, models). Exit codes, the same for every command: 0 all good, 1 a check failed, 2 bad input
(one line on stderr), 3 an internal error (one line; ``--verbose``, before or after the command, shows
the traceback and TensorFlow's own output).
"""

from __future__ import annotations

import warnings

import click

from .. import __version__
from ..common.deps import set_verbose
from .options import CleanErrors


@click.group(cls=CleanErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--verbose",
    is_flag=True,
    help="Show tracebacks, warnings and TensorFlow's own output (before or after the command).",
)
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

    Exit codes: 0 all good, 1 a check failed, 2 bad input, 3 an internal error.
    """
    ctx.obj = {"verbose": verbose}
    set_verbose(verbose)
    if not verbose:
        warnings.filterwarnings("ignore")


from . import checking, explaining, measuring, serving, training  # noqa: E402,F401  (each adds its commands to cli)


def main():
    cli(prog_name="edgemnist")
