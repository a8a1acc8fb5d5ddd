"""How a job crosses a process boundary: a dataclass as JSON, read back strictly.

Every worker (``bench.worker``, ``targets.worker``) reads its job with ``from_json`` and every target sends it
with ``to_json``: a field one side lacks is an error naming it, never silently dropped.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import EdgemnistError

J = TypeVar("J", bound="WorkerJob")


@dataclass
class WorkerJob:
    """Base of the jobs a worker reads on standard input."""

    model: str = ""  # every worker runs one model; as the worker sees its path
    time_limit_s: float | None = None  # on a board, the worker's own alarm: nobody is left to kill it there
    spawned_at: float | None = None  # this machine's clock when a worker here starts: the origin of cold start

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls: type[J], text: str) -> J:
        given: dict[str, Any] = json.loads(text)
        unknown = set(given) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise EdgemnistError(f"the job has fields this worker does not know: {', '.join(sorted(unknown))}")
        return cls(**given)
