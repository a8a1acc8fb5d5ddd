"""A board reached over the user's own OpenSSH client: ``--on user@host[:port]``.

``ssh`` runs as a subprocess, so ``~/.ssh/config``, keys, agents and jump hosts work as in a terminal, and
``BatchMode`` makes a missing key fail at once instead of prompting. On the board, in order:

1. ``python -m edgemnist.targets.machine``: is edgemnist there, in this version, and what board is it;
2. ``python -m edgemnist.targets.cache check``: which of the files the workers need are already on the board;
3. ``python -m edgemnist.targets.cache put`` for each one that is not, its bytes on ssh's standard input;
4. ``python -m edgemnist.<worker>`` for each job, on standard input: the worker that runs here.

Whatever goes wrong on a board (no connection, a refused key, edgemnist or a runtime missing, another
edgemnist version, a worker that crashes or hangs) becomes the error of that board's rows; the others go on.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.errors import EdgemnistError
from ..common.jobs import WorkerJob
from ..common.versions import EDGEMNIST_VERSION as __version__
from . import TARGETS
from .base import Outcome, Target, TargetError, identity, worker_result
from .cache import cache_name

CONNECT_TIMEOUT_S = 10
# Appended after the user's --ssh-option values: for each option ssh keeps the first value it reads.
SSH_DEFAULTS = (
    "BatchMode=yes",
    f"ConnectTimeout={CONNECT_TIMEOUT_S}",
    "ServerAliveInterval=15",
    "ServerAliveCountMax=4",
)
SSH_FAILED = 255  # ssh's own failure (connection, key, lost link), or the remote command killed by a signal
PREPARE_TIMEOUT_S = 300  # one preparing step: the board's probe, or one file copied to it
SLACK_S = CONNECT_TIMEOUT_S + 20  # the host waits this much longer than the worker's own time limit on the board
EXTRAS = {".tflite": "tflite", ".onnx": "onnx", ".keras": "train"}  # what a board needs to run a model file
TARGET = re.compile(
    r"(?P<user>[^@\s]+@)?(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[^\s:@\[\]]+))(?::(?P<port>\d{1,5}))?"
)


BoardError = TargetError  # why a board cannot be measured: becomes the error of each of its rows


@TARGETS.register("ssh")
@dataclass(frozen=True)
class Board(Target):
    """A board as the user named it (``pi@raspberrypi.local``, ``root@127.0.0.1:2222``, a ``Host`` alias
    of ~/.ssh/config), how to reach it, and its Python there."""

    name: str  # the target as the user wrote it
    destination: str
    port: int | None
    python: str  # a shell word or two run by the board's shell, so "~/venv/bin/python" works
    ssh_options: tuple[str, ...] = ()

    @classmethod
    def parse(cls, target: str, remote_python: str = "python3", ssh_options=(), **_) -> Board:
        if not shutil.which("ssh"):
            raise EdgemnistError("--on a board needs the OpenSSH client (ssh): install openssh-client")
        match = TARGET.fullmatch(target)
        if not match or target.startswith("-"):
            raise EdgemnistError(
                f"--on {target!r}: expected [user@]host[:port], e.g. pi@raspberrypi.local or root@[::1]:2222"
            )
        port = int(match["port"]) if match["port"] else None
        return cls(
            target, (match["user"] or "") + (match["ipv6"] or match["host"]), port, remote_python, tuple(ssh_options)
        )

    def ssh(
        self, module: str, *args: str, timeout: float, stdin=subprocess.DEVNULL, input=None
    ) -> subprocess.CompletedProcess:
        """Run ``python -m edgemnist.<module> args`` on the board; raises TimeoutExpired past ``timeout``."""
        options = [word for option in (*self.ssh_options, *SSH_DEFAULTS) for word in ("-o", option)]
        port = ["-p", str(self.port)] if self.port else []
        command = " ".join([self.python, "-m", f"edgemnist.{module}", *map(shlex.quote, args)])
        return subprocess.run(
            ["ssh", *options, *port, self.destination, command],
            stdin=None if input is not None else stdin,
            input=input,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )

    def identify(self, models=()) -> dict:
        machine = identify(self, [str(model) for model in models])
        return {**machine, **identity(machine)}

    def place(self, paths: list[str]) -> tuple[dict[str, str], str]:
        """Copy what the board's cache lacks; {local path: its path in the board's cache}."""
        names = {path: cache_name(path) for path in paths if Path(path).is_file()}
        models = [path for path in paths if Path(path).suffix.lower() in EXTRAS]
        folder, copied = copy_files(self, names, PREPARE_TIMEOUT_S, models)
        note = f"copied {len(copied)} file(s), {len(names) - len(copied)} already there"
        return {path: f"{folder}/{name}" for path, name in names.items()}, note

    def run(self, module: str, job: WorkerJob, timeout: float) -> Outcome:
        return Outcome(run_on_board(self, module, job, timeout))

    def settings(self) -> dict:
        return {"remote_python": self.python}


def install_advice(models, version: str = "") -> str:
    extras = sorted({EXTRAS.get(Path(model).suffix.lower(), "tflite") for model in models})
    return f"pip install 'edgemnist[{','.join(extras)}]{'==' + version if version else ''}'"


def failure(board: Board, process: subprocess.CompletedProcess, models) -> str:
    """One line saying why a command on the board failed, and what to do about it."""
    lines = [
        line.strip()
        for line in process.stderr.splitlines()
        if line.strip() and not line.startswith("Warning: Permanently added")
    ]
    last = lines[-1][:200] if lines else ""
    if process.returncode == SSH_FAILED:
        if "Permission denied" in last:
            return f"authentication refused: {last} (add the key to ssh-agent, or pass --ssh-option IdentityFile=KEY)"
        if "Host key verification failed" in last:
            return f"host key not trusted: {last} (connect once with ssh to check and accept it)"
        return f"connection failed: {last or 'closed without a message'}"
    if process.returncode == 127:
        return (
            f"{board.python} not found on the board: {last} (install Python 3.10+ there or pass --remote-python PATH)"
        )
    if re.search(r"No module named '?edgemnist", process.stderr):
        return (
            f"edgemnist is not installed for {board.python} on the board: "
            f"run {board.python} -m {install_advice(models)} there"
        )
    return f"failed (exit {process.returncode}): {last or 'no message'}"


def asked(board: Board, module: str, *args, models, timeout: float, **streams) -> subprocess.CompletedProcess:
    """``Board.ssh`` for the preparing steps: any failure is a BoardError."""
    try:
        process = board.ssh(module, *args, timeout=timeout, **streams)
    except subprocess.TimeoutExpired:
        raise BoardError(f"no answer from the board within {timeout:g} s") from None
    if process.returncode != 0:
        raise BoardError(failure(board, process, models))
    return process


def answer(process: subprocess.CompletedProcess, *keys: str) -> dict:
    """The JSON our module printed: the last line of the output (a login banner or .bashrc may print before it),
    holding ``keys``; anything else is the board's failure, reported on its rows."""
    try:
        found = json.loads(process.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        found = None
    if not isinstance(found, dict) or not all(key in found for key in keys):
        raise BoardError(f"unexpected answer from the board: {process.stdout.strip()[-100:]!r}")
    return found


def identify(board: Board, models, timeout: float = PREPARE_TIMEOUT_S) -> dict:
    """The board's machine_info; refuses a board without edgemnist or with another version of it."""
    process = asked(board, "targets.machine", models=models, timeout=timeout)
    upgrade = f"on the board run {board.python} -m {install_advice(models, __version__)}"
    if not process.stdout.strip():  # an edgemnist from before the board probe existed
        raise BoardError(f"the board's edgemnist is older than this one: {upgrade}")
    machine = answer(process, "hostname", "cpu", "python")
    theirs = machine.get("versions", {}).get("edgemnist")
    if theirs != __version__:
        raise BoardError(f"version mismatch: edgemnist {theirs} on the board, {__version__} here; {upgrade}")
    machine.pop("state", None)
    return machine


def copy_files(board: Board, names: dict[str, str], timeout: float, models) -> tuple[str, list[str]]:
    """Bring the files ``names`` ({local path: cache name}) to the board's cache unless an intact copy is
    there; return the board's cache folder and the names copied."""
    present = answer(
        asked(board, "targets.cache", "check", *names.values(), models=models, timeout=timeout), "present", "folder"
    )
    copied = []
    for path, name in names.items():
        if name not in present["present"]:
            with open(path, "rb") as stream:
                asked(board, "targets.cache", "put", name, stdin=stream, models=models, timeout=timeout)
            copied.append(name)
    return present["folder"], copied


def run_on_board(board: Board, module: str, job: WorkerJob, timeout: float) -> dict:
    """One worker on the board. A lost connection raises BoardError: the board's next models cannot run."""
    started = time.monotonic()
    try:
        sent = dataclasses.replace(job, time_limit_s=timeout).to_json()
        process = board.ssh(module, input=sent, timeout=timeout + SLACK_S)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:g} s"}
    if process.returncode == SSH_FAILED and not process.stderr.strip():
        # ssh exits 255 in silence when the remote command dies of a signal: its own alarm, or a crash.
        return {
            "error": f"timed out after {timeout:g} s"
            if time.monotonic() - started >= timeout
            else "worker crashed on the board"
        }
    if process.returncode == SSH_FAILED:
        raise BoardError(failure(board, process, [job.model]))
    return worker_result(process)
