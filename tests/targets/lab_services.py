"""A real labgrid lab on 127.0.0.1 for the ``--on labgrid:…`` tests: ``labgrid-coordinator`` on a free port, and
``labgrid-exporter`` processes publishing NetworkServices, with places made and inspected by ``labgrid-client``
(labgrid 26, from edgemnist[lab]; the dev extra brings it). Nothing here imports edgemnist: the tests check the
target against labgrid's own view of the lab.

Test modules import these helpers and fixtures. They are not in a conftest.py: a second top-level conftest module
would shadow ``tests/conftest.py`` for the ``from conftest import run_cli`` of the tests beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from bench.ssh_board import free_port


def program(name: str) -> str:
    """A labgrid program beside this Python (the venv's, activated or not), else on the PATH."""
    found = shutil.which(name, path=os.pathsep.join([sysconfig.get_path("scripts"), os.environ.get("PATH", "")]))
    if not found:
        pytest.fail(f"{name} not found: the labgrid tests need labgrid (pip install -e '.[dev]' brings it)")
    return found


def wait_until(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Coordinator:
    address: str
    folder: Path
    process: subprocess.Popen

    def client(self, *args: str, user: str | None = None) -> str:
        """``labgrid-client -x ADDRESS ARGS`` (as ``user`` when given: another person of the lab); its stdout."""
        env = {**os.environ, **({"LG_USERNAME": user} if user else {})}
        done = subprocess.run(
            [program("labgrid-client"), "-x", self.address, *args], capture_output=True, text=True, env=env
        )
        assert done.returncode == 0, f"labgrid-client {' '.join(args)}: {done.stderr[-800:]}"
        return done.stdout

    def holders(self) -> dict[str, str]:
        """{place: who holds it, "None" when free}, as labgrid-client lists the places."""
        text = self.client("-v", "places")
        names = re.findall(r"^Place '([^']+)':$", text, re.M)
        return dict(zip(names, re.findall(r"^  acquired: (.+)$", text, re.M)))

    def reservations(self) -> list[str]:
        return re.findall(r"^Reservation '([^']+)':$", self.client("reservations"), re.M)

    def add_place(self, name: str, match: str, **tags: str) -> None:
        self.client("-p", name, "create")
        self.client("-p", name, "add-match", match)
        if tags:
            self.client("-p", name, "set-tags", *(f"{key}={value}" for key, value in tags.items()))

    def start_exporter(self, name: str, services: dict[str, dict]) -> subprocess.Popen:
        """An exporter ``name`` publishing one NetworkService per group ({group: {address, port, username}}),
        running once the coordinator lists all of them."""
        config = self.folder / f"{name}.yaml"
        config.write_text(
            "".join(
                f"{group}:\n  NetworkService:\n" + "".join(f"    {key}: {value}\n" for key, value in service.items())
                for group, service in services.items()
            )
        )
        log = open(self.folder / f"{name}.log", "ab")
        process = subprocess.Popen(
            [program("labgrid-exporter"), "-c", self.address, "--name", name, str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
        )
        expected = {f"{name}/{group}/NetworkService" for group in services}
        wait_until(lambda: expected <= set(self.client("resources").split()), f"exporter {name}'s resources")
        return process


def start_coordinator(folder: Path) -> Coordinator:
    """labgrid-coordinator on a free loopback port, its state (places.yaml) in ``folder``."""
    for _ in range(3):  # the free port may be taken between finding it and the coordinator binding it
        address = f"127.0.0.1:{free_port()}"
        log = open(folder / "coordinator.log", "ab")
        process = subprocess.Popen(
            [program("labgrid-coordinator"), "-l", address], stdout=log, stderr=subprocess.STDOUT, cwd=folder
        )
        coordinator = Coordinator(address, folder, process)
        try:
            wait_until(lambda started=coordinator: started.process.poll() is not None or answers(started), "it", 20)
        except AssertionError:
            stop(process)
            raise
        if process.poll() is None:
            return coordinator
    raise RuntimeError(f"labgrid-coordinator did not start: {(folder / 'coordinator.log').read_text()[-500:]}")


def answers(coordinator: Coordinator) -> bool:
    done = subprocess.run(
        [program("labgrid-client"), "-x", coordinator.address, "places"], capture_output=True, text=True
    )
    return done.returncode == 0


@pytest.fixture(scope="module")
def coordinator(tmp_path_factory):
    found = start_coordinator(tmp_path_factory.mktemp("labgrid"))
    yield found
    stop(found.process)


@pytest.fixture(autouse=True)
def lab_left_free(coordinator):
    """After each test, failed ones included, labgrid shows every place free and no reservation left."""
    yield
    held = {place: holder for place, holder in coordinator.holders().items() if holder != "None"}
    left = coordinator.reservations()
    for place in held:  # the next tests start from a free lab whatever this one left
        coordinator.client("-p", place, "release", "--kick")
    for token in left:
        coordinator.client("cancel-reservation", token)
    assert not held and not left, f"left behind: places {held}, reservations {left}"
