"""``edgemnist compile``: the model as a C library for a board project, and the ELF that proves it.

Writes the generated library into a folder, builds the harness firmware for the core, runs its self-test
in QEMU (which also measures the stack's peak), and checks the result against a part's memories when the
user names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..common.errors import ValidationFailed
from ..common.files import write_bytes
from .boards import Part, board_for
from .compiler import compile_model
from .emulator import qemu_command, self_test
from .firmware import build_firmware


@dataclass
class BoardBuild:
    model: str
    cpu: str
    kernels: str  # a name in KERNEL_SETS
    board: str  # QEMU's machine that ran the self-test
    library: list[str]  # the files a board project takes
    elf: str
    flash_bytes: int  # text + rodata + data
    ram_bytes: int  # data + bss + the stack's measured peak
    arena_bytes: int  # the activations, inside bss
    stack_peak_bytes: int
    plan: str  # the arena's busiest step and the buffers that share it
    self_test: str
    qemu_command: str  # the self-test by hand


def build_for_board(model, cpu: str, out_dir, part: Part | None = None, kernels: str | None = None) -> BoardBuild:
    board = board_for(cpu)
    compiled = compile_model(model, out_dir)
    firmware = build_firmware(model, compiled, board, kernels)
    run = self_test(firmware)
    if run.exit_code:
        raise ValidationFailed(f"{firmware.elf.name}'s self-test failed: {run.lines[0]}")
    elf = Path(out_dir) / firmware.elf.name
    write_bytes(elf, firmware.elf.read_bytes())
    ram = firmware.data + firmware.bss + run.stack_peak
    (part or Part()).check(f"{compiled.name} on {cpu}", firmware.flash_bytes, ram)
    by_hand = qemu_command(firmware)
    by_hand[0], by_hand[-1] = Path(by_hand[0]).name, str(elf)
    return BoardBuild(
        str(model),
        board.cpu,
        firmware.kernels,
        board.machine,
        [str(Path(out_dir) / file) for file in compiled.files],
        str(elf),
        firmware.flash_bytes,
        ram,
        compiled.plan.arena_bytes,
        run.stack_peak,
        compiled.plan.describe(),
        run.lines[0],
        " ".join(by_hand),
    )


def board_build_text(build: BoardBuild) -> str:
    return "\n".join(
        [
            f"{build.model} for {build.cpu} ({build.kernels} kernels): "
            f"flash {build.flash_bytes:,} B, RAM {build.ram_bytes:,} B "
            f"(arena {build.arena_bytes:,} B, stack peak {build.stack_peak_bytes:,} B)",
            f"library: {', '.join(build.library)}",
            f"plan: {build.plan}",
            f"firmware: {build.elf} ({build.board}: {build.self_test})",
            f"run it: {build.qemu_command}",
        ]
    )
