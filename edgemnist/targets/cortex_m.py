"""A Cortex-M core under QEMU: ``--on qemu:cortex-m4`` (``cortex-m7``, ``cortex-m55``).

No Python runs on a micro-controller, so this target does the worker's part itself: it compiles the model
to C (``edgemnist.mcu``), builds the firmware for the core's board with arm-none-eabi-gcc, runs it in
qemu-system-arm over the digits and turns its int8 scores into probabilities through the model's output
quantization, as ``--backend mcu-c`` does on the host. ``qemu.py`` hands it the Cortex-M names.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from ..common.jobs import WorkerJob
from ..mcu.boards import Board, board_for
from ..mcu.emulator import QEMU_SYSTEM
from ..mcu.firmware import ARM_GCC, ARM_PACKAGE
from .base import Outcome, Target, identity
from .counter import plugin_library, read_counts
from .worker import encoded

TOOLS = {ARM_GCC: ARM_PACKAGE, QEMU_SYSTEM: "qemu-system-arm"}


def require_tools() -> None:
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        raise EdgemnistError(f"Cortex-M targets need Debian's packages: apt-get install {' '.join(missing)}")


@functools.cache
def tool_version(tool: str) -> str:
    """The version word: "arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 …", "QEMU emulator version 7.2.22 …"."""
    shown = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout.split()
    at = 2 if tool == ARM_GCC else 3
    return shown[at] if len(shown) > at else "?"


@dataclass(frozen=True)
class CortexM(Target):
    name: str
    board: Board
    counts_instructions = True  # bench counts guest instructions per inference; nothing is timed

    @classmethod
    def parse(cls, spec: str) -> CortexM:
        board = board_for(spec.partition(":")[2])
        require_tools()
        return cls(spec, board)

    def identify(self, models=()) -> dict:
        machine = dict.fromkeys(("isa", "memory_bytes", "os", "kernel", "python", "executable"))  # bare metal
        machine.update(
            hostname=self.board.machine,
            board=f"{self.board.cpu} (QEMU {tool_version(QEMU_SYSTEM)}, TCG)",  # hostname names the board
            cpu=self.board.cpu,
            arch=self.board.arch,
            cores=1,
            versions={tool: tool_version(tool) for tool in TOOLS},
        )
        return {**machine, **identity(machine, cpu_model=self.board.cpu)}

    def run(self, module: str, job: WorkerJob, timeout: float) -> Outcome:
        """The worker's part, done here: predictions (``targets.worker``) or instruction counts (``bench.worker``)."""
        runs = {"targets.worker": board_predictions, "bench.worker": board_counts}
        if module not in runs:
            return Outcome({"error": f"{self.name} runs evaluate, parity and bench, not {module}"})
        try:
            return runs[module](self.board, job, timeout)
        except EdgemnistError as exc:
            return Outcome({"error": str(exc)})

    def settings(self) -> dict:
        return {
            "qemu": tool_version(QEMU_SYSTEM),
            "machine": self.board.machine,
            "cpu": self.board.cpu,
            "kernels": self.board.kernels,
        }


def board_firmware(board: Board, job):
    """The host's predictor of the compiled C (its contract, its description) and the firmware for ``board``."""
    from ..mcu import compile_model
    from ..mcu.firmware import build_firmware
    from ..predict import load

    if job.backend not in (None, "mcu-c"):
        raise EdgemnistError(f"a Cortex-M target runs the model compiled to C, not --backend {job.backend}")
    predictor = load(job.model, backend="mcu-c", **job.contract)
    compiled = compile_model(job.model, input_table=predictor.codec.input_table)
    return predictor, compiled, build_firmware(job.model, compiled, board)


def board_predictions(board: Board, job, timeout: float) -> Outcome:
    """What ``targets.worker`` returns for a PredictJob, computed by the firmware on ``board``."""
    from ..mcu.emulator import board_scores

    predictor, _, firmware = board_firmware(board, job)
    run = board_scores(firmware, np.load(job.digits), timeout)
    probabilities = predictor.codec.decode(run.scores)
    result = {
        **predictor.describe(),
        "output_step": predictor.contract.output_step,
        "firmware": {
            "board": board.machine,
            "flash_bytes": firmware.flash_bytes,
            "ram_bytes": firmware.data + firmware.bss + run.stack_peak,
            "stack_peak_bytes": run.stack_peak,
        },
        "probabilities": encoded(probabilities),
    }
    return Outcome(result)


def counted_run(firmware, inferences: int, timeout: float) -> tuple[int, int]:
    """(guest instructions of a whole run with ``inferences`` inferences, its stack peak)."""
    from ..mcu.emulator import run_harness

    with tempfile.TemporaryDirectory(prefix="edgemnist-count-") as folder:
        counts = Path(folder) / "counts.txt"
        run = run_harness(firmware, f"repeat {inferences}", timeout, ("-plugin", f"{plugin_library()},out={counts}"))
        total, _ = read_counts(counts)
    if total is None:
        raise EdgemnistError(f"the instruction counter wrote no count for {firmware.elf.name}")
    return total, run.stack_peak


def board_counts(board: Board, job, timeout: float) -> Outcome:
    """Instructions per inference: a run with two inferences minus a run with one (exact: everything else is
    the same), reported as one counted region of bench's batch 1, with flash and RAM; then the accuracy pass,
    whose probabilities bench scores on the host as a worker scores its own."""
    from ..mcu.emulator import board_scores

    predictor, compiled, firmware = board_firmware(board, job)
    one, stack = counted_run(firmware, 1, timeout)
    two, _ = counted_run(firmware, 2, timeout)
    scores = board_scores(firmware, np.load(job.test_set)["x"], timeout).scores
    result = {
        **predictor.describe(),
        "arch": board.arch,
        "counted": [{"batch": 1, "call": "predictor", "calls": 1}],
        "flash_bytes": firmware.flash_bytes,
        "arena_bytes": compiled.plan.arena_bytes,
        "ram_bytes": firmware.data + firmware.bss + stack,
        "stack_peak_bytes": stack,
        "probabilities": encoded(predictor.codec.decode(scores)),
    }
    return Outcome(result, marks=[0, two - one], instructions_total=two)
