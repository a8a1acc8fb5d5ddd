"""The target ``here``: the worker in a fresh process of this machine's own Python."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

from ..common.deps import worker_environment
from ..common.jobs import WorkerJob
from . import TARGETS
from .base import Outcome, Target, identity, worker_result


@TARGETS.register("here")
class Here(Target):
    name = "here"

    @classmethod
    def parse(cls, spec: str, **options) -> Here:
        return cls()

    def identify(self, models=()) -> dict:
        from .machine import machine_info

        machine = machine_info()
        return {**machine, **identity(machine)}

    def run(self, module: str, job: WorkerJob, timeout: float) -> Outcome:
        job = dataclasses.replace(job, spawned_at=time.time())  # on this clock, cold start counts from here
        try:
            process = subprocess.run(
                [sys.executable, "-m", f"edgemnist.{module}"],
                input=job.to_json(),
                capture_output=True,
                text=True,
                timeout=timeout,
                env=worker_environment(),  # --verbose reaches the worker
            )
        except subprocess.TimeoutExpired:
            return Outcome({"error": f"timed out after {timeout:g} s"})
        return Outcome(worker_result(process))
