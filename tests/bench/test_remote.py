"""``bench --on``: the benchmark on "boards" reached through a real OpenSSH server on 127.0.0.1, run by a
board's own Python (a venv with only edgemnist[tflite]), with every failure on the rows."""

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from edgemnist import __version__
from edgemnist.bench.runner import bench
from edgemnist.bench.schema import BenchJob
from edgemnist.common.errors import EdgemnistError
from edgemnist.common.progress import Progress
from edgemnist.pretrained import pretrained_dir
from edgemnist.targets.ssh import Board

from .ssh_board import free_port

FAST = BenchJob(batches=[1, 8], runs=20, warmup=2)
EDGE, SEED = pretrained_dir() / "edge_int8.tflite", pretrained_dir() / "seed_int8.tflite"


class Recorded(Progress):
    def __init__(self):
        self.messages = []

    def say(self, message):
        self.messages.append(message)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fleet(sshd, board_python, data_dir, tmp_path_factory):
    """Two boards (the same sshd under two names, measured in parallel), two models and a reference, through the CLI."""
    out = tmp_path_factory.mktemp("fleet")
    boards = [sshd.target, f"{sshd.user}@localhost:{sshd.port}"]
    result = run_cli(
        "bench",
        EDGE,
        SEED,
        "--reference",
        SEED,
        "--on",
        boards[0],
        "--on",
        boards[1],
        "--remote-python",
        board_python,
        *sshd.cli_options(),
        "--batch",
        "1,8",
        "--runs",
        20,
        "--warmup",
        2,
        "--cores",
        0,
        "--data",
        data_dir,
        "--json-file",
        out / "bench.json",
        "--markdown",
        out / "bench.md",
        "--plot",
        out / "bench.png",
    )
    return result, json.loads((out / "bench.json").read_text()), out, boards


def test_rows_come_from_the_boards_python(fleet, board_python, mnist):
    result, report, _, boards = fleet
    assert result.exit_code == 0, result.stderr
    assert [row["target"] for row in report["rows"]] == [
        boards[0],
        boards[0],
        boards[1],
        boards[1],
    ]  # one group per board
    for row in report["rows"]:
        assert row["error"] is None and row["executable"] == str(board_python)
        assert row["affinity"] == [0] and row["latency"]["8"]["predictor"]["runs"] == 20
    import edgemnist  # the accuracy the board reports, recomputed here with this machine's LiteRT

    expected = {
        path.name: float(np.mean(edgemnist.load(path).predict(mnist.x_test) == mnist.y_test)) for path in (EDGE, SEED)
    }
    assert {row["model"].split("/")[-1]: row["accuracy"] for row in report["rows"]} == pytest.approx(expected)
    assert all(row["agreement"] == 1.0 for row in report["rows"] if row["model"].endswith("seed_int8.tflite"))


def test_rows_record_the_boards_identity_and_state(fleet, board_python):
    _, report, _, _ = fleet
    for row in report["rows"]:
        machine = row["machine"]
        assert machine["hostname"] == socket.gethostname() and machine["executable"] == str(board_python)
        assert machine["versions"]["edgemnist"] == __version__ and "ai-edge-litert" in machine["versions"]
        assert "tensorflow" not in machine["versions"] and machine["cores"] >= 1 and machine["kernel"]
        for moment in ("before", "after"):
            state = row["state"][moment]
            assert set(state) == {"cpufreq", "soc_temp_c", "temperatures_c", "throttled", "load_avg"}
            assert len(state["load_avg"]) == 3
    assert report["settings"]["on"] == [row["target"] for row in report["rows"]][::2]


def test_the_reports_show_the_boards_side_by_side(fleet):
    result, _, out, boards = fleet
    markdown = (out / "bench.md").read_text()
    for text in (result.output, markdown):
        assert all(f"{board}: {socket.gethostname()}" in text for board in boards)
        assert f"{boards[1]} edge_int8.tflite" in text and f"{boards[0]} p50 µs" in text
    assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_board_keeps_only_its_cache_of_files_named_by_sha256(fleet, sshd):
    files = sorted(path.name for path in sshd.board_cache.iterdir())
    assert {f"{sha256(EDGE)}.tflite", f"{sha256(SEED)}.tflite"} < set(files)
    assert (
        len(files) == 4 and [name.rsplit(".")[-1] for name in files].count("npz") == 1
    )  # + the test digits and reference .npy
    assert all(sha256(sshd.board_cache / name) == name.split(".")[0] for name in files)


def test_a_second_run_reuses_the_copied_files(fleet, sshd, board_python, data_dir):
    before = {path.name: path.stat().st_mtime_ns for path in sshd.board_cache.iterdir()}
    progress = Recorded()
    report = bench(
        [EDGE],
        FAST,
        on=[sshd.target],
        remote_python=str(board_python),
        ssh_options=sshd.ssh_options(),
        data=data_dir,
        progress=progress,
    )
    assert report.rows[0].error is None
    assert {path.name: path.stat().st_mtime_ns for path in sshd.board_cache.iterdir()} == before
    assert any("copied 0 file(s), 2 already there" in message for message in progress.messages)


def test_an_unreachable_board_is_an_error_row_and_exit_1(sshd, data_dir, tmp_path):
    target = f"root@127.0.0.1:{free_port()}"  # nothing listens there
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "edgemnist.cli",
            "bench",
            str(EDGE),
            "--on",
            target,
            *sshd.cli_options(),
            "--quiet",
            "--data",
            data_dir,
            "--json-file",
            str(tmp_path / "out.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert process.returncode == 1
    assert process.stderr == f"error: 1 of 1 models could not be measured: {target} edge_int8.tflite\n"
    error = json.loads((tmp_path / "out.json").read_text())["rows"][0]["error"]
    assert error.startswith("connection failed: ssh: connect to host 127.0.0.1 port") and "Connection refused" in error


def test_a_refused_key_is_an_error_row(sshd, board_python, data_dir):
    report = bench(
        [EDGE, SEED],
        FAST,
        on=[sshd.target],
        remote_python=str(board_python),
        ssh_options=sshd.ssh_options("stranger_key"),
        data=data_dir,
    )
    for row in report.rows:
        assert row.error.startswith("authentication refused: ") and "Permission denied (publickey)" in row.error


def test_a_missing_runtime_on_the_board_says_what_to_install(sshd, board_python, data_dir):
    report = bench(
        [pretrained_dir() / "seed_int8.onnx", EDGE],
        FAST,
        on=[sshd.target],
        remote_python=str(board_python),
        ssh_options=sshd.ssh_options(),
        data=data_dir,
    )
    missing, present = report.rows
    assert missing.error == "onnxruntime is not installed; install it with: pip install 'edgemnist[onnx]'"
    assert missing.executable == str(board_python) and present.error is None


def test_a_python_without_edgemnist_says_what_to_install(sshd, bare_python, data_dir):
    report = bench(
        [EDGE],
        FAST,
        on=[sshd.target],
        remote_python=str(bare_python),
        ssh_options=sshd.ssh_options(),
        data=data_dir,
    )
    assert report.rows[0].error == (
        f"edgemnist is not installed for {bare_python} on the board: "
        f"run {bare_python} -m pip install 'edgemnist[tflite]' there"
    )


def test_another_edgemnist_version_on_the_board_is_refused(sshd, board_python, data_dir, tmp_path):
    other = tmp_path / "edgemnist-0.0.1.dist-info"  # found before the board's own install on its sys.path
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: edgemnist\nVersion: 0.0.1\n")
    report = bench(
        [EDGE],
        FAST,
        on=[sshd.target],
        remote_python=f"PYTHONPATH={tmp_path} {board_python}",
        ssh_options=sshd.ssh_options(),
        data=data_dir,
    )
    assert report.rows[0].error.startswith(
        f"version mismatch: edgemnist 0.0.1 on the board, {__version__} here; on the board run"
    )


FAULT = """
import os, signal, sys, time
class Fault:  # the first worker to import LiteRT hangs, crashes or loses its board; the ones after it run normally
    def find_spec(self, name, path=None, target=None):
        if name == "ai_edge_litert" and not os.path.exists(os.environ["FAULT_DONE"]):
            open(os.environ["FAULT_DONE"], "w").close()
            if os.environ["FAULT"] == "hang":
                time.sleep(3600)
            elif os.environ["FAULT"] == "crash":
                os.kill(os.getpid(), signal.SIGSEGV)
            else:  # the board goes away: the worker's parent, sshd's session, dies
                os.kill(os.getppid(), signal.SIGKILL)
sys.meta_path.insert(0, Fault())
"""


def faulty_board(fault, sshd, board_python, data_dir, folder):
    (folder / "sitecustomize.py").write_text(FAULT)
    python = f"FAULT={fault} FAULT_DONE={folder / 'done'} PYTHONPATH={folder} {board_python}"
    return bench(
        [EDGE, SEED],
        FAST,
        on=[sshd.target],
        remote_python=python,
        ssh_options=sshd.ssh_options(),
        timeout=10,
        data=data_dir,
    )


@pytest.mark.parametrize("fault, error", [("hang", "timed out after 10 s"), ("crash", "worker crashed on the board")])
def test_a_worker_that_hangs_or_crashes_on_the_board_costs_its_row(
    fault, error, sshd, board_python, data_dir, tmp_path
):
    report = faulty_board(fault, sshd, board_python, data_dir, tmp_path)
    assert report.rows[0].error == error
    assert report.rows[1].error is None and report.rows[1].accuracy > 0.98
    assert not workers_started_with(f"FAULT_DONE={tmp_path / 'done'}")  # the hung worker did not outlive its time limit


def workers_started_with(variable: str) -> list[int]:
    """Bench workers still running whose environment holds ``variable``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"edgemnist.bench.worker" in (entry / "cmdline").read_bytes():
                if variable.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_a_lost_connection_ends_that_boards_run(sshd, board_python, data_dir, tmp_path):
    report = faulty_board("drop", sshd, board_python, data_dir, tmp_path)
    assert report.rows[0].error.startswith(
        "connection failed: "
    )  # ssh's words: "Connection to 127.0.0.1 closed by remote host."
    assert report.rows[1].error == f"not run: {report.rows[0].error}"


@pytest.mark.parametrize(
    "target, destination, port",
    [
        ("pi@raspberrypi.local", "pi@raspberrypi.local", None),
        ("root@127.0.0.1:2222", "root@127.0.0.1", 2222),
        ("jetson", "jetson", None),
        ("me@[::1]:22", "me@::1", 22),
    ],
)
def test_board_names(target, destination, port):
    board = Board.parse(target)
    assert (board.name, board.destination, board.port) == (target, destination, port)


@pytest.mark.parametrize("target", ["-oProxyCommand=x", "a b", "host:port", ""])
def test_a_bad_board_name_is_refused(target):
    with pytest.raises(EdgemnistError, match="expected \\[user@\\]host\\[:port\\]"):
        Board.parse(target)


def test_cores_are_the_boards_to_check(sshd, board_python, data_dir, tmp_path):
    # --cores names the board's cores: this machine does not refuse one it lacks, the board's worker does.
    result = run_cli(
        "bench",
        EDGE,
        "--cores",
        999,
        "--on",
        sshd.target,
        "--remote-python",
        board_python,
        *sshd.cli_options(),
        "--runs",
        10,
        "--batch",
        1,
        "--quiet",
        "--data",
        data_dir,
        "--json-file",
        tmp_path / "out.json",
    )
    assert result.exit_code == 1
    assert json.loads((tmp_path / "out.json").read_text())["rows"][0]["error"].startswith(
        "cannot pin to cores [999]: this machine offers [0"
    )


def test_a_missing_python_on_the_board_is_named(sshd, data_dir):
    report = bench(
        [EDGE],
        FAST,
        on=[sshd.target],
        remote_python="/nowhere/python3",
        ssh_options=sshd.ssh_options(),
        data=data_dir,
    )
    assert report.rows[0].error.startswith("/nowhere/python3 not found on the board: ")


def test_a_board_answer_without_the_expected_fields_is_that_boards_error():
    from edgemnist.targets.ssh import BoardError, answer

    process = subprocess.CompletedProcess([], 0, stdout='a login banner\n{"hostname": "pi"}\n', stderr="")
    assert answer(process, "hostname")["hostname"] == "pi"
    with pytest.raises(BoardError, match="unexpected answer"):
        answer(process, "hostname", "cpu")
    with pytest.raises(BoardError, match="unexpected answer"):
        answer(subprocess.CompletedProcess([], 0, stdout="[1, 2]\n", stderr=""), "hostname")
