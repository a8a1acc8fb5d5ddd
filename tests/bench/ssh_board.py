"""Real parts for the remote-board tests, made once per session in temporary folders: an OpenSSH server on
127.0.0.1 with its own host key and authorized key, and "board" Pythons — one with edgemnist[tflite] installed
from this checkout (no TensorFlow), one with nothing installed.

Test modules import these fixtures. They are not in a conftest.py here: a second conftest module would
shadow ``tests/conftest.py`` for the ``from conftest import run_cli`` of the tests beside it."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SSHD = Path("/usr/sbin/sshd")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SSHServer:
    folder: Path
    port: int
    user: str

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    @property
    def board_cache(self) -> Path:
        """The board's edgemnist cache: sshd sets XDG_CACHE_HOME to a folder of the test's own."""
        return self.folder / "board-cache" / "edgemnist" / "bench"

    def ssh_options(self, key: str = "client_key") -> list[str]:
        """ssh options that log in with ``key`` only and keep known hosts in the test's folder."""
        return [
            f"IdentityFile={self.folder / key}",
            "IdentitiesOnly=yes",
            "IdentityAgent=none",
            f"UserKnownHostsFile={self.folder / 'known_hosts'}",
            "StrictHostKeyChecking=accept-new",
        ]

    def cli_options(self, key: str = "client_key") -> list[str]:
        return [word for option in self.ssh_options(key) for word in ("--ssh-option", option)]


def start_sshd(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {folder / 'host_key'}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                "StrictModes no",
                "UsePAM no",
                "PermitRootLogin prohibit-password",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                f"SetEnv XDG_CACHE_HOME={folder / 'board-cache'}",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    log = open(folder / "sshd.log", "ab")
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"sshd did not start on port {port}: {(folder / 'sshd.log').read_text()[-500:]}")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """OpenSSH's sshd on 127.0.0.1, a free port, accepting only the key ``client_key`` (``stranger_key`` is refused)."""
    if not SSHD.exists():
        pytest.fail(
            f"{SSHD} not found: the remote-board tests need OpenSSH's server (apt-get install openssh-server; "
            "scripts/test does)"
        )
    folder = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "client_key", "stranger_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", str(folder / key)], check=True)
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    if os.geteuid() == 0:  # sshd's privilege-separation directory, which the system service would create
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    for attempt in range(3):  # the free port may be taken between finding it and sshd binding it
        try:
            process, port = start_sshd(folder)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    yield SSHServer(folder, port, getpass.getuser())
    process.terminate()
    process.wait(timeout=10)


def make_venv(folder: Path, *args: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", *args, str(folder)], check=True, capture_output=True)
    return folder / "bin" / "python"


@pytest.fixture(scope="session")
def board_python(tmp_path_factory) -> Path:
    """A board's Python as a user sets it up: ``pip install '.[tflite]'`` of this checkout, no TensorFlow."""
    python = make_venv(tmp_path_factory.mktemp("board") / "venv")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{ROOT}[tflite]"],
        capture_output=True,
        text=True,
    )
    if install.returncode:
        pytest.fail(f"pip install '.[tflite]' into the board venv failed: {install.stderr[-1500:]}")
    assert subprocess.run([str(python), "-c", "import tensorflow"], capture_output=True).returncode != 0
    return python


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory) -> Path:
    """A Python without edgemnist, as on a board where nothing was installed yet."""
    return make_venv(tmp_path_factory.mktemp("bare") / "venv", "--without-pip")
