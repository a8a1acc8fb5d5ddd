"""``--on labgrid:…``: a board of a team's lab, held through a real labgrid coordinator and exporters on 127.0.0.1,
its NetworkService the tests' own sshd (tests/bench/ssh_board.py) with a board Python holding edgemnist[tflite].

After every test, failed ones included, labgrid shows every place free and no reservation left
(``lab_left_free``)."""

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import lab_services
import numpy as np
import pytest
from bench import ssh_board
from bench.ssh_board import free_port
from conftest import ROOT, run_cli
from lab_services import stop, wait_until

import edgemnist
from edgemnist.bench.runner import bench
from edgemnist.bench.schema import BenchJob
from edgemnist.common.errors import EdgemnistError
from edgemnist.common.progress import Progress
from edgemnist.evaluate import evaluate_model
from edgemnist.parity import Tolerance, parity
from edgemnist.pretrained import pretrained_dir
from edgemnist.targets.labgrid import parse_wanted

# Fixtures: the SSH tests' sshd and board Python (session), the lab's coordinator and its check after each test.
sshd, board_python = ssh_board.sshd, ssh_board.board_python
coordinator, lab_left_free = lab_services.coordinator, lab_services.lab_left_free

FAST = BenchJob(batches=[1, 8], runs=20, warmup=2)  # with limit=LIMIT: the accuracy pass on 500 digits
LIMIT = 500
EDGE, SEED = pretrained_dir() / "edge_int8.tflite", pretrained_dir() / "seed_int8.tflite"
FAST_CLI = ["--batch", "1,8", "--runs", "20", "--warmup", "2", "--limit", str(LIMIT)]
ME = f"{socket.gethostname()}/{os.environ.get('LG_USERNAME') or getpass.getuser()}"  # how labgrid names us
ALICE = f"{socket.gethostname()}/alice"

# The board's Python, watched: each bench worker notes when it starts and ends in LAB_LOG under the run's name
# (LAB_RUN), and first sleeps LAB_HOLD seconds, so that a test can act while a worker runs.
WATCHED_WORKER = """
import atexit, os, sys, time
if "edgemnist.bench.worker" in sys.orig_argv:
    def note(event):
        with open(os.environ["LAB_LOG"], "a") as log:
            log.write(f"{os.environ['LAB_RUN']} {event} {time.time()} {os.getpid()}\\n")
    note("start")
    atexit.register(note, "end")
    time.sleep(float(os.environ.get("LAB_HOLD", "0")))
"""


class Recorded(Progress):
    def __init__(self):
        self.messages = []

    def say(self, message):
        self.messages.append(message)


@pytest.fixture(scope="module")
def desk(coordinator):
    """A place whose board is never reached (its NetworkService answers nothing): for waiting and refusals."""
    exporter = coordinator.start_exporter("desk", {"far": {"address": "127.0.0.1", "port": 9, "username": "nobody"}})
    coordinator.add_place("far-pi", "desk/far/*", board="pi0")
    yield "far-pi"
    stop(exporter)


@pytest.fixture(scope="module")
def lab(coordinator, sshd):
    """Two places, pi-1 and pi-2 (both tagged board=pi4), on exporter ex1; each board is the tests' sshd."""
    service = {"address": "127.0.0.1", "port": sshd.port, "username": sshd.user}
    exporter = coordinator.start_exporter("ex1", {"pi-1": service, "pi-2": service})
    coordinator.add_place("pi-1", "ex1/pi-1/*", board="pi4", room="a")
    coordinator.add_place("pi-2", "ex1/pi-2/*", board="pi4", room="b")
    yield coordinator
    stop(exporter)


@pytest.fixture
def held_by_alice(coordinator):
    """Hold a place as another person of the lab would, and give it back after the test."""
    held = []

    def hold(place: str) -> None:
        coordinator.client("-p", place, "acquire", user="alice")
        held.append(place)

    yield hold
    for place in held:
        if coordinator.holders()[place] == ALICE:
            coordinator.client("-p", place, "release", user="alice")


@pytest.fixture
def watched(tmp_path, board_python):
    """A board Python as ``remote_python`` for run ``name``, noting its workers in a log (WATCHED_WORKER)."""
    (tmp_path / "sitecustomize.py").write_text(WATCHED_WORKER)
    log = tmp_path / "workers.log"

    def python(name: str, hold: float = 0) -> str:
        return f"LAB_RUN={name} LAB_LOG={log} LAB_HOLD={hold} PYTHONPATH={tmp_path} {board_python}"

    python.log = log
    return python


def cli_bench(coordinator, sshd, remote_python, data_dir, *args) -> list[str]:
    """``edgemnist bench`` as a separate process, as two users of the lab would start it."""
    return [
        sys.executable,
        "-m",
        "edgemnist.cli",
        "bench",
        *map(str, args),
        "--coordinator",
        coordinator.address,
        "--remote-python",
        str(remote_python),
        *sshd.cli_options(),
        *FAST_CLI,
        "--data",
        data_dir,
    ]


def worker_events(log: Path) -> list[tuple[float, str, str]]:
    """(time, run, start|end) of every worker the board ran, in time order."""
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return sorted((float(when), run, event) for run, event, when, _ in lines)


def end_workers_left(log: Path) -> None:
    """Kill the board's workers that outlived their run (a worker asleep when its ssh was cut)."""
    for line in log.read_text().splitlines():
        try:
            os.kill(int(line.split()[3]), signal.SIGKILL)
        except ProcessLookupError:
            pass


# -- naming a place ----------------------------------------------------------------------------------------------


def test_the_target_names_a_place_or_its_tags():
    assert parse_wanted("labgrid:pi-1") == {"name": "pi-1"}
    assert parse_wanted("labgrid:board=pi4,room=a") == {"board": "pi4", "room": "a"}
    for wrong in ("labgrid:", "labgrid:board=", "labgrid:Board=pi4", "labgrid:board=pi4,pi-1", "labgrid:a,b"):
        with pytest.raises(EdgemnistError, match="expected labgrid:PLACE or labgrid:TAG=VALUE"):
            parse_wanted(wrong)


@pytest.mark.parametrize("command", ["bench", "evaluate"])
def test_a_place_the_lab_lacks_is_one_line_naming_its_places(command, coordinator, desk, data_dir):
    result = run_cli(command, EDGE, "--on", "labgrid:pi-9", "--coordinator", coordinator.address, "--data", data_dir)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith(f"error: labgrid coordinator {coordinator.address} has no place pi-9; its places:")
    assert "far-pi" in result.stderr


def test_a_coordinator_not_there_is_one_line(data_dir):
    address = f"127.0.0.1:{free_port()}"
    result = run_cli("bench", EDGE, "--on", "labgrid:pi-1", "--coordinator", address, "--data", data_dir)
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: labgrid coordinator {address}: Could not connect to coordinator\n"


# -- waiting for a place others hold -----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["bench", "evaluate", "parity"])
def test_a_place_held_past_the_lab_timeout_exits_1_naming_the_holder(
    command, coordinator, desk, held_by_alice, data_dir
):
    held_by_alice(desk)
    models = [EDGE, EDGE] if command == "parity" else [EDGE]
    on = ["--on", f"labgrid:{desk}", "--coordinator", coordinator.address, "--lab-timeout", "2"]
    result = run_cli(command, *models, *on, "--limit", "100", "--quiet", "--data", data_dir)
    assert result.exit_code == 1, result.output
    said = f"{desk} held by {ALICE}; gave up waiting after 2 s (--lab-timeout)"
    if command == "bench":  # the row's error; the last line counts the rows
        assert said in result.stdout and "could not be measured: labgrid:far-pi edge_int8.tflite" in result.stderr
    else:
        assert result.stderr == f"error: {said}\n"
    assert coordinator.holders()[desk] == ALICE  # waited for, never taken from its holder


def test_a_run_waits_for_a_held_place_and_starts_once_it_is_released(lab, sshd, board_python, held_by_alice, data_dir):
    held_by_alice("pi-1")
    progress, done = Recorded(), {}
    options = dict(remote_python=str(board_python), ssh_options=sshd.ssh_options(), data=data_dir, limit=LIMIT)
    run = threading.Thread(
        target=lambda: done.update(
            report=bench(
                [EDGE],
                FAST,
                on=["labgrid:pi-1"],
                coordinator=lab.address,
                lab_timeout=120,
                progress=progress,
                **options,
            )
        )
    )
    run.start()
    wait_until(lambda: any(ALICE in message for message in progress.messages), "the countdown naming the holder")
    assert lab.holders()["pi-1"] == ALICE  # still waiting: nothing measured yet
    lab.client("-p", "pi-1", "release", user="alice")
    run.join(timeout=300)
    row = done["report"].rows[0]
    assert row.error is None and row.lab["place"] == "pi-1" and row.lab["waited_s"] >= 3
    countdown = [message for message in progress.messages if "waiting" in message]
    assert (
        countdown[0].startswith(f"labgrid:pi-1: pi-1 held by {ALICE}; waiting, 1")
        and "s left (--lab-timeout)" in countdown[0]
    )
    assert any(
        message.startswith("labgrid:pi-1: acquired pi-1 (ex1/pi-1/NetworkService/NetworkService) after")
        for message in progress.messages
    )


def test_two_runs_on_one_place_never_measure_at_once(lab, sshd, watched, data_dir, tmp_path):
    runs = {
        name: subprocess.Popen(
            cli_bench(
                lab,
                sshd,
                watched(name),
                data_dir,
                EDGE,
                SEED,
                "--on",
                "labgrid:pi-1",
                "--json-file",
                tmp_path / f"{name}.json",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for name in ("first", "second")
    }
    outputs = {name: run.communicate(timeout=600) for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, outputs[name][1]
    events = worker_events(watched.log)
    assert [event for _, _, event in events].count("start") == 4 and len(events) == 8
    order = [run for _, run, _ in events]
    assert order in (["first"] * 4 + ["second"] * 4, ["second"] * 4 + ["first"] * 4), events  # one run, then the other
    rows = [row for name in runs for row in json.loads((tmp_path / f"{name}.json").read_text())["rows"]]
    assert all(row["error"] is None and row["lab"]["place"] == "pi-1" for row in rows)


# -- measuring on a place ----------------------------------------------------------------------------------------


def test_bench_on_a_place_measures_its_board_and_records_the_place(lab, sshd, board_python, data_dir, tmp_path):
    result = run_cli(
        "bench",
        EDGE,
        "--on",
        "labgrid:pi-1",
        "--coordinator",
        lab.address,
        "--remote-python",
        board_python,
        *sshd.cli_options(),
        *FAST_CLI,
        "--data",
        data_dir,
        "--json-file",
        tmp_path / "bench.json",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads((tmp_path / "bench.json").read_text())
    row = report["rows"][0]
    assert row["target"] == "labgrid:pi-1" and row["error"] is None and row["executable"] == str(board_python)
    lab_record = {
        "coordinator": lab.address,
        "place": "pi-1",
        "exporter": "ex1",
        "resource": "ex1/pi-1/NetworkService/NetworkService",
        "ssh": f"{sshd.user}@127.0.0.1:{sshd.port}",
    }
    assert {key: row["lab"][key] for key in lab_record} == lab_record
    assert report["settings"]["targets"]["labgrid:pi-1"]["lab"] == row["lab"]
    assert row["machine"]["hostname"] == socket.gethostname() and set(row["state"]) == {"before", "after"}
    assert row["latency"]["8"]["predictor"]["runs"] == 20
    assert "labgrid:pi-1: acquired pi-1 (ex1/pi-1/NetworkService/NetworkService) after" in result.stderr


def test_tags_pick_a_free_place_whose_tags_match(lab, sshd, board_python, held_by_alice, data_dir):
    held_by_alice("pi-1")
    options = dict(remote_python=str(board_python), ssh_options=sshd.ssh_options(), data=data_dir, limit=LIMIT)
    report = bench([EDGE], FAST, on=["labgrid:board=pi4"], coordinator=lab.address, lab_timeout=5, **options)
    assert report.rows[0].error is None and report.rows[0].lab["place"] == "pi-2"


def test_evaluate_and_parity_run_on_a_place_picked_by_its_tags(lab, sshd, board_python, mnist, data_dir):
    reach = {"coordinator": lab.address, "remote_python": str(board_python), "ssh_options": sshd.ssh_options()}
    on = {"on": "labgrid:room=a", "reach": reach, "data": data_dir, "limit": 300}
    evaluation = evaluate_model(EDGE, **on)
    expected = float(np.mean(edgemnist.load(EDGE).predict(mnist.x_test[:300]) == mnist.y_test[:300]))
    assert evaluation.accuracy == pytest.approx(expected) and evaluation.target["lab"]["place"] == "pi-1"
    comparison = parity(EDGE, [EDGE], Tolerance(), **on)[0]
    assert comparison.passed and comparison.agreement == 1.0 and comparison.target["lab"]["place"] == "pi-1"


# -- whatever happens, the place is given back -------------------------------------------------------------------


def test_a_worker_timeout_is_its_rows_error_and_the_place_is_released(lab, sshd, board_python, data_dir):
    endless = BenchJob(batches=[1], runs=1_000_000, warmup=0)
    options = dict(remote_python=str(board_python), ssh_options=sshd.ssh_options(), data=data_dir, limit=LIMIT)
    report = bench([EDGE], endless, on=["labgrid:pi-1"], coordinator=lab.address, timeout=1, **options)
    assert report.rows[0].error == "timed out after 1 s"
    assert lab.holders()["pi-1"] == "None"


def test_an_exporter_stopped_mid_run_is_that_rows_error_and_the_place_is_released(lab, sshd, watched, data_dir):
    service = {"address": "127.0.0.1", "port": sshd.port, "username": sshd.user}
    exporter = lab.start_exporter("ex2", {"pi-3": service})
    lab.add_place("pi-3", "ex2/pi-3/*")
    done = {}
    options = dict(remote_python=watched("fleet", hold=2), ssh_options=sshd.ssh_options(), data=data_dir, limit=LIMIT)
    fleet = ["labgrid:pi-3", "labgrid:pi-1"]
    run = threading.Thread(
        target=lambda: done.update(report=bench([EDGE, SEED], FAST, on=fleet, coordinator=lab.address, **options))
    )
    run.start()
    try:
        wait_until(lambda: lab.holders()["pi-3"] == ME and worker_events(watched.log), "a worker on the fleet", 120)
        stop(exporter)  # mid-run: a worker runs, pi-3 is held
        run.join(timeout=300)
    finally:
        stop(exporter)
    lost, not_run, *kept = done["report"].rows
    assert lost.target == "labgrid:pi-3" and lost.error == (
        "place pi-3 lost ex2/pi-3/NetworkService/NetworkService during the run: its exporter ex2 is gone"
    )
    assert not_run.error == f"not run: {lost.error}"
    assert [(row.target, row.error) for row in kept] == [("labgrid:pi-1", None)] * 2
    assert lab.holders()["pi-3"] == "None"


def ctrl_c_as_at_a_terminal() -> None:
    """A shell starts a job with Ctrl-C's default action, but pytest itself started in the background (``&`` in a
    script, nohup) hands its children SIGINT ignored, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_run_and_releases_the_place(lab, sshd, watched, data_dir):
    command = cli_bench(lab, sshd, watched("interrupted", hold=60), data_dir, EDGE, SEED, "--on", "labgrid:pi-1")
    run = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
        preexec_fn=ctrl_c_as_at_a_terminal,
    )
    try:
        wait_until(lambda: worker_events(watched.log), "the first worker", 120)
        os.killpg(run.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        _, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        end_workers_left(watched.log)
    assert run.returncode == 130 and stderr.endswith("interrupted\n"), stderr
    assert [run for _, run, event in worker_events(watched.log) if event == "start"] == ["interrupted"]  # SEED not run
    assert lab.holders()["pi-1"] == "None"
