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


KERNEL_SETS = {"portable": (), "dsp": ("-DEM_KERNELS_DSP",)}  # the C flags that pick each set


BOARDS = {
    board.cpu: board
    for board in (
        Board("cortex-m4", "mps2-an386", "armv7e-m", ("-mcpu=cortex-m4", "-mthumb"), "dsp"),
        Board("cortex-m7", "mps2-an500", "armv7e-m", ("-mcpu=cortex-m7", "-mthumb"), "dsp"),
        Board("cortex-m55", "mps3-an547", "armv8.1-m.main", ("-mcpu=cortex-m55", "-mthumb"), "portable"),
    )
}


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
