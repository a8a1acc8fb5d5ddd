"""The Cortex-M cores edgemnist builds for, the QEMU board that emulates each, and a part's memory sizes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..common.errors import EdgemnistError, ValidationFailed


@dataclass(frozen=True)
class Board:
    cpu: str  # what --on qemu:CPU names
    machine: str  # QEMU's -M
    arch: str
    gcc_flags: tuple[str, ...]
    kernels: str  # the kernel set its firmware is built with unless told otherwise
    flash: int  # the board's memory for code and constants, at address 0
    ram: int  # and for data, at 0x20000000

    def linker_memory(self) -> str:
        """The MEMORY block of the harness's linker script (which INCLUDEs it) for this board."""
        return (
            "MEMORY\n{\n"
            f"    FLASH (rx) : ORIGIN = 0x00000000, LENGTH = {self.flash // 1024}K\n"
            f"    RAM (rwx) : ORIGIN = 0x20000000, LENGTH = {self.ram // 1024}K\n"
            "}\n"
        )


# the C flags that pick each set; GCC enables MVE only with a floating-point ABI that has the FPU's registers
# (softfp keeps the soft-float calling convention, so newlib links as before)
KERNEL_SETS = {
    "portable": (),
    "dsp": ("-DEM_KERNELS_DSP",),
    "helium": ("-DEM_KERNELS_HELIUM", "-mfloat-abi=softfp"),
}


BOARDS = {
    board.cpu: board
    for board in (
        # QEMU's MPS2 boards have 4 MiB of SSRAM at 0 and at 0x20000000; the AN547's are its 512 KiB ITCM and DTCM
        Board("cortex-m4", "mps2-an386", "armv7e-m", ("-mcpu=cortex-m4", "-mthumb"), "dsp", 4 << 20, 4 << 20),
        Board("cortex-m7", "mps2-an500", "armv7e-m", ("-mcpu=cortex-m7", "-mthumb"), "dsp", 4 << 20, 4 << 20),
        Board(
            "cortex-m55",
            "mps3-an547",
            "armv8.1-m.main",
            ("-mcpu=cortex-m55", "-mthumb"),
            "helium",
            512 << 10,
            512 << 10,
        ),
    )
}


def kernel_sets_for(board: Board) -> list[str]:
    """The kernel sets ``board``'s core runs: every one but Helium, Armv8.1-M's vector extension (the M55's)."""
    return [kernels for kernels in KERNEL_SETS if kernels != "helium" or board.arch == "armv8.1-m.main"]


def kernel_flags(board: Board, kernels: str) -> tuple[str, ...]:
    """The C flags of a kernel set for ``board``, refused in one line where the core lacks what the set needs
    (GCC would refuse it in a page of errors)."""
    if kernels not in kernel_sets_for(board):
        raise EdgemnistError(
            f"the {kernels} kernels need Arm's M-profile vector extension (Helium), which {board.cpu} does not "
            f"have: build them for cortex-m55, or pick --kernels {' or '.join(kernel_sets_for(board))}"
        )
    return KERNEL_SETS[kernels]


def board_for(cpu: str) -> Board:
    try:
        return BOARDS[cpu.lower()]
    except KeyError:
        raise EdgemnistError(f"no Cortex-M board for {cpu}; edgemnist builds for {', '.join(BOARDS)}") from None


def parse_size(text: str) -> int:
    """``256K``, ``1M`` or a number of bytes (K and M are KiB and MiB)."""
    found = re.fullmatch(r"\s*(\d+)\s*([KkMm]?)i?[Bb]?\s*", text)
    if not found:
        raise EdgemnistError(f"{text!r} is not a size; give bytes, or KiB and MiB as 256K, 1M")
    return int(found[1]) << {"": 0, "k": 10, "m": 20}[found[2].lower()]


def size_text(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size:,} B"


@dataclass(frozen=True)
class Part:
    """A micro-controller's memories as the user states them (--flash, --ram); None is not stated."""

    flash: int | None = None
    ram: int | None = None

    def check(self, name: str, flash: int, ram: int) -> None:
        """One line saying by how much ``name`` does not fit, when it does not."""
        short = [
            f"{what} {need:,} B, {size_text(have)} on the part ({need - have:,} B over)"
            for what, need, have in (("flash", flash, self.flash), ("RAM", ram, self.ram))
            if have is not None and need > have
        ]
        if short:
            raise ValidationFailed(f"{name} does not fit: " + "; ".join(short))
