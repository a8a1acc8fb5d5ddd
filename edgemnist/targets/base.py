"""What every target offers a stage: who it is, where its worker finds the files, and one worker run.

A worker is ``python -m edgemnist.<module>``: its job (JSON) on standard input, its result (JSON) the last
line of its standard output. The same worker runs here, on a board over SSH and under QEMU; a target only
says how to start it.
"""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass

from ..common.errors import EdgemnistError
from ..common.jobs import WorkerJob


class TargetError(EdgemnistError):
    """Why a target cannot run anything (no connection, no root, edgemnist missing there): the error of each of
    its rows; the other targets go on."""


@dataclass
class Outcome:
    """A worker's result, and under an instruction counter the running count at each of the worker's marks."""

    result: dict
    marks: list[int] | None = None
    instructions_total: int | None = None


class Target:
    """Base of every target; ``name`` is what the user gave to ``--on``."""

    name: str
    counts_instructions = False  # True where cost is counted in guest instructions instead of timed
    time_scale = 1  # a worker's time limit is the user's --timeout times this (emulation runs ~10-50× slower)

    def __enter__(self) -> Target:
        """Take what the target holds while a stage uses it (a lab's place: ``labgrid.py``). Every stage uses its
        target inside ``with``, so that ``__exit__`` gives it back whatever happens; most targets hold nothing."""
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def identify(self, models=()) -> dict:
        """The target's machine_info plus ``guest_arch``, ``cpu_model`` and ``python``; raises TargetError."""
        raise NotImplementedError

    def place(self, paths: list[str]) -> tuple[dict[str, str], str]:
        """Make local ``paths`` readable by the worker: ({local path: the worker's path}, what it took, for the
        progress). Raises TargetError."""
        return {path: path for path in paths}, ""

    def run(self, module: str, job: WorkerJob, timeout: float) -> Outcome:
        """Run the worker ``edgemnist.<module>`` on ``job``; its failure is the result's ``error``. Raises
        TargetError when the target itself is lost (its next workers cannot run either)."""
        raise NotImplementedError

    def settings(self) -> dict:
        """What a report records of how this target was reached."""
        return {}


def worker_error(process: subprocess.CompletedProcess) -> str:
    if process.returncode < 0:
        return f"worker crashed ({signal.Signals(-process.returncode).name})"
    lines = [line for line in process.stderr.strip().splitlines() if line.strip()]
    return f"worker failed (exit {process.returncode}): {lines[-1][:200] if lines else 'no message'}"


def worker_result(process: subprocess.CompletedProcess) -> dict:
    """The worker's result; a failed or silent worker becomes {"error": why}."""
    if process.returncode != 0:
        return {"error": worker_error(process)}
    try:  # the result is the last line: a native library or a board's login shell may print before it
        found = json.loads(process.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": "worker wrote no result"}
    return found if isinstance(found, dict) else {"error": "worker wrote no result"}


def identity(machine: dict, **overrides) -> dict:
    """The fields every row and report records of a target, from its machine_info."""
    return {
        "guest_arch": machine.get("arch"),
        "cpu_model": machine.get("cpu"),
        "python": machine.get("python"),
        **overrides,
    }
