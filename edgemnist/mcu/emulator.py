"""The firmware run on an emulated board: Debian's qemu-system-arm, with semihosting for its digits and scores.

The harness prints one line of hex scores per digit and, at the end, ``stack N`` (the stack's painted peak);
its exit code passes through QEMU. The same command, typed by hand, runs the self-test (docs/mcu.md).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from .firmware import Firmware

QEMU_SYSTEM = "qemu-system-arm"


def qemu_command(firmware: Firmware, argument: str | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    binary = shutil.which(QEMU_SYSTEM)
    if binary is None:
        raise EdgemnistError(f"running Cortex-M firmware needs {QEMU_SYSTEM}: apt-get install qemu-system-arm")
    command = [binary, "-M", firmware.board.machine, "-nographic", "-monitor", "none"]
    command += ["-semihosting-config", "enable=on,target=native", "-kernel", str(firmware.elf), *extra]
    return command + (["-append", argument] if argument else [])


@dataclass
class BoardRun:
    """What one run of the harness printed, and how it ended."""

    exit_code: int
    lines: list[str]
    stack_peak: int  # bytes

    @property
    def scores(self) -> np.ndarray:
        rows = [bytes.fromhex(line) for line in self.lines if not line.startswith(("stack", "self-test"))]
        return np.frombuffer(b"".join(rows), np.int8).reshape(len(rows), -1)


def run_harness(firmware: Firmware, argument: str | None, timeout: float, extra: tuple[str, ...] = ()) -> BoardRun:
    try:
        process = subprocess.run(
            qemu_command(firmware, argument, extra), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise EdgemnistError(f"{firmware.elf.name} did not finish within {timeout:g} s in QEMU") from None
    lines = [line for line in process.stderr.splitlines() + process.stdout.splitlines() if line.strip()]
    stack = next((int(line.split()[1]) for line in lines if line.startswith("stack ")), None)
    if stack is None or process.returncode not in (0, 1):  # the harness always ends with its stack line
        raise RuntimeError(f"{firmware.elf.name} failed in QEMU (exit {process.returncode}): {lines[-3:]}")
    return BoardRun(process.returncode, lines, stack)


def self_test(firmware: Firmware, timeout: float = 60) -> BoardRun:
    """The ELF with no argument: exit code 0 when every built-in digit's scores match the reference's."""
    return run_harness(firmware, None, timeout)


def board_scores(firmware: Firmware, digits: np.ndarray, timeout: float) -> BoardRun:
    """The int8 scores the board computes for ``digits`` (N×28×28 uint8)."""
    with tempfile.TemporaryDirectory(prefix="edgemnist-board-") as folder:
        path = Path(folder) / "digits.bin"
        np.ascontiguousarray(digits, np.uint8).tofile(path)
        run = run_harness(firmware, str(path), timeout)
    if run.exit_code or len(run.scores) != len(digits):
        raise RuntimeError(f"{firmware.elf.name} scored {len(run.scores)} of {len(digits)} digits")
    return run
