"""``edgemnist emulate setup aarch64``: the arm64 Debian root in which ``--on qemu:cortex-a72`` runs.

Made once and kept in ~/.cache/edgemnist/emulate/aarch64 (``root/``, the wheels it was given): Debian
bookworm (minbase, python3, python3-venv) by debootstrap, whose second stage runs under qemu-user-static
through binfmt_misc; a venv in it with the aarch64 wheels of the runtimes (pip on this machine downloads and
installs them for the guest's platform; pip never runs emulated); this edgemnist. No TensorFlow.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .common.errors import EdgemnistError
from .common.progress import SILENT, Progress
from .targets.qemu import aarch64_root, emulate_folder
from .targets.rootfs import SITE, has_venv, install_edgemnist

SUITE = "bookworm"  # its Python 3.11 matches the wheels' tag below
WHEELS = ("numpy", "pillow", "click", "onnxruntime", "ai-edge-litert")
# Without the 2_27/2_28 tags pip finds no onnxruntime and only LiteRT 1.4.0 (measured here).
PLATFORMS = ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "manylinux_2_27_aarch64", "manylinux_2_28_aarch64")
BINFMT = Path("/proc/sys/fs/binfmt_misc")
SOURCES = Path("/etc/apt/sources.list.d")


def debian_mirror(sources: Path = SOURCES) -> str:
    """The Debian mirror this machine's apt uses (deb822 ``URIs:`` of the bookworm suite), else deb.debian.org."""
    for path in sorted(sources.glob("*.sources")):
        for stanza in path.read_text().split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
            suites = re.search(r"^Suites:(.*)$", stanza, re.M)
            if uris and suites and SUITE in suites.group(1).split():
                return uris.group(1)
    return "http://deb.debian.org/debian"


def missing(building: bool, euid: int | None = None) -> str | None:
    """What this machine lacks to make (``building``) or finish the root, as one line naming the fix."""
    if (os.geteuid() if euid is None else euid) != 0:
        return "emulate setup needs root rights (debootstrap and chroot): run it as root, e.g. with sudo"
    if not shutil.which("qemu-aarch64-static"):
        return "emulate setup needs qemu-user-static: apt-get install qemu-user-static binfmt-support"
    if not shutil.which("qemu-aarch64"):
        return "--on qemu:CPU needs Debian's qemu-user (it loads the instruction counter): apt-get install qemu-user"
    if not (BINFMT / "status").exists():
        return f"binfmt_misc is not mounted: mount -t binfmt_misc binfmt_misc {BINFMT}"
    if not (BINFMT / "qemu-aarch64").exists():
        return "binfmt_misc does not run arm64 programs: update-binfmts --enable qemu-aarch64"
    if building and not shutil.which("debootstrap"):
        return "emulate setup needs debootstrap to make the arm64 root: apt-get install debootstrap"
    return None


def streamed(command: list[str], progress: Progress, what: str) -> None:
    """Run ``command``, its output as live progress; a failure is one line with its last message."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    last = ""
    assert process.stdout is not None  # stdout=PIPE
    for line in process.stdout:
        if line.strip():
            last = line.strip()
            progress.say(f"{what}: {last}")
    if process.wait() != 0:
        raise EdgemnistError(f"{what} failed (exit {process.returncode}): {last[:200]}")


def make_root(root: Path, progress: Progress) -> None:
    partial = root.with_name("root.partial")
    shutil.rmtree(partial, ignore_errors=True)  # a run that was killed half way
    mirror = debian_mirror()
    progress.say(f"debootstrap arm64 {SUITE} from {mirror} (a few minutes; its second stage runs emulated)")
    command = ["debootstrap", "--arch=arm64", "--variant=minbase", "--include=python3,python3-venv"]
    streamed([*command, SUITE, str(partial), mirror], progress, "debootstrap")
    os.replace(partial, root)


def adopt_root(given: Path, root: Path) -> None:
    """``--root DIR``: the user's arm64 root (e.g. exported from a container image) becomes the cached one."""
    if not (given / "usr/bin/python3.11").exists():
        raise EdgemnistError(f"--root {given}: no usr/bin/python3.11 there; give an arm64 Debian {SUITE} root")
    if root.is_symlink() or root.is_file():
        root.unlink()
    elif root.exists():
        raise EdgemnistError(f"{root} already holds a root: remove it first to use --root {given}")
    root.symlink_to(given.resolve(), target_is_directory=True)


def install_wheels(root: Path, progress: Progress) -> None:
    """The runtimes' aarch64 wheels, downloaded once into the cache, installed into the root's venv."""
    wheels = emulate_folder() / "aarch64" / "wheels"
    platform = [word for tag in PLATFORMS for word in ("--platform", tag)]
    guest = [*platform, "--python-version", "3.11", "--implementation", "cp", "--only-binary=:all:"]
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    streamed([*pip, "download", "--dest", str(wheels), *guest, *WHEELS], progress, "pip download")
    site = [*pip, "install", "--no-index", "--find-links", str(wheels), "--upgrade", "--target", str(root / SITE)]
    streamed([*site, *guest, *WHEELS], progress, "pip install")


def setup_aarch64(given_root: Path | None = None, progress: Progress = SILENT) -> Path:
    """Make (or reuse) the arm64 root with its venv; returns the root."""
    root = aarch64_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    if given_root:
        adopt_root(Path(given_root), root)
    building = not (root / "usr/bin/python3.11").exists()
    problem = missing(building)
    if problem:
        raise EdgemnistError(problem)
    if building:
        make_root(root, progress)
    else:
        progress.say(f"arm64 root: {root} (reused)")
    if not has_venv(root):
        progress.say("venv /venv in the root")
        streamed(["chroot", str(root), "/usr/bin/python3", "-m", "venv", "--without-pip", "/venv"], progress, "venv")
    if not (root / SITE / "onnxruntime").is_dir() or not (root / SITE / "ai_edge_litert").is_dir():
        install_wheels(root, progress)
    if install_edgemnist(root):
        progress.say("edgemnist copied into the venv")
    return root
