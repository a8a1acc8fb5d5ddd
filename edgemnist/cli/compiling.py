"""``compile``: a model as dependency-free C for a micro-controller, with a self-tested firmware."""

from __future__ import annotations

import click

from ..mcu.boards import BOARDS, KERNEL_SETS
from .group import cli
from .options import emit_result, json_options


@cli.command(name="compile")
@click.argument("model", type=click.Path())
@click.option("--cpu", type=click.Choice(list(BOARDS)), default="cortex-m4", show_default=True, help="The core.")
@click.option(
    "--kernels",
    type=click.Choice(list(KERNEL_SETS)),
    default=None,
    help="The kernel set: dsp (the default on cortex-m4 and m7), helium (cortex-m55's) or portable (any core).",
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder for the library.")
@click.option("--flash", default=None, metavar="SIZE", help="The part's flash (e.g. 256K): fail if it does not fit.")
@click.option("--ram", default=None, metavar="SIZE", help="The part's RAM (e.g. 64K): fail if it does not fit.")
@json_options
def compile_command(model, cpu, kernels, out_dir, flash, ram, as_json, json_path):
    """Compile an int8 MODEL (.tflite) to C99 with edgemnist's own kernels, and prove the build.

    Writes the library (one header, its sources, the kernels) to --out, builds a Cortex-M firmware
    around it with arm-none-eabi-gcc and runs its self-test in qemu-system-arm: flash and RAM (the stack's
    peak measured) are reported. Exit 1 when the model does not fit --flash or --ram.

    \b
    Examples:
      edgemnist compile edgemnist/pretrained/mcu_int8.tflite --out mcu_c
      edgemnist compile model.tflite --cpu cortex-m7 --out build --flash 256K --ram 64K
    """
    from ..mcu.boards import Part, parse_size
    from ..mcu.deploy import board_build_text, build_for_board

    part = Part(parse_size(flash) if flash else None, parse_size(ram) if ram else None)
    emit_result(build_for_board(model, cpu, out_dir, part, kernels), as_json, json_path, board_build_text)
