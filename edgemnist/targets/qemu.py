"""An emulated CPU: ``--on qemu:cortex-a72`` (a Raspberry Pi 4's core), ``qemu:haswell`` (x86 without AVX-512/VNNI);
``qemu:cortex-m4`` (m7, m55) is firmware on an emulated board instead (``cortex_m.py``).

The same worker runs under Debian's qemu-user with that CPU model, so the runtimes pick the kernels that CPU
would get (XNNPACK's NEON or dot-product paths, ONNX Runtime's AVX2 U8S8 path). aarch64 runs the Python of the
arm64 root ``edgemnist emulate setup aarch64`` makes; x86-64 runs this machine's own Python. Emulated time
means nothing, so cost is counted instead: a TCG plugin of ours (``plugin/insn_count.c``) counts the guest
instructions between the marks the worker makes (``mark``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..common.deps import worker_environment
from ..common.errors import EdgemnistError
from ..common.files import cache_dir
from ..common.jobs import WorkerJob
from ..mcu.boards import BOARDS
from . import TARGETS
from .base import Outcome, Target, TargetError, identity, worker_result
from .counter import plugin_library, read_counts

QEMU = {"aarch64": "qemu-aarch64", "x86_64": "qemu-x86_64"}  # Debian's qemu-user: the non-static ones load plugins
AARCH64_CPUS = ("cortex-a35", "cortex-a53", "cortex-a57", "cortex-a72", "cortex-a76", "a64fx", "neoverse-n1", "max")
# MIDR_EL1 of each model, as QEMU sets it (target/arm/cpu64.c): implementer, variant, part, revision.
MIDR = {
    "cortex-a35": (0x41, 0x1, 0xD04, 0),
    "cortex-a53": (0x41, 0x0, 0xD03, 4),
    "cortex-a57": (0x41, 0x1, 0xD07, 0),
    "cortex-a72": (0x41, 0x0, 0xD08, 3),
    "cortex-a76": (0x41, 0x4, 0xD0B, 1),
    "a64fx": (0x46, 0x1, 0x001, 0),
    "neoverse-n1": (0x41, 0x4, 0xD0C, 1),
    "max": (0x00, 0x0, 0x051, 0),
}
MARK_MAGIC = 0x45444D4E  # the marker syscall's argument, as in plugin/insn_count.c
# The marker: sched_get_priority_max(MARK_MAGIC), a harmless call that fails with EINVAL.
MARK_SYSCALL = {"aarch64": 125, "x86_64": 146}
GUEST_PYTHON = "/venv/bin/python"  # in the arm64 root: what the guest's argv[0] says, so the venv is found
# The interpreter file itself: the venv's python is an absolute symlink that would resolve on this machine.
GUEST_INTERPRETER = "usr/bin/python3.11"


def mark() -> None:
    """Tell the instruction counter (if any) where a counted region starts or ends; a no-op elsewhere."""
    try:
        os.sched_get_priority_max(MARK_MAGIC)
    except OSError:
        pass


def emulate_folder() -> Path:
    """Where ``emulate setup`` keeps roots and where the plugin is built: ~/.cache/edgemnist/emulate."""
    return cache_dir("emulate")


def aarch64_root() -> Path:
    return emulate_folder() / "aarch64" / "root"


NO_ROOT = "qemu aarch64 targets need the arm64 root: run edgemnist emulate setup aarch64"


def current_root() -> Path:
    """The arm64 root, holding this very edgemnist (copied again whenever its source changed)."""
    from .rootfs import has_venv, install_edgemnist

    root = aarch64_root()
    if not has_venv(root):
        raise TargetError(NO_ROOT)
    install_edgemnist(root)
    return root


@functools.cache
def qemu_cpus(arch: str) -> dict[str, str]:
    """{lower-case name: QEMU's spelling} of the CPU models ``qemu-<arch> -cpu help`` lists."""
    binary = shutil.which(QEMU[arch])
    if not binary:
        raise EdgemnistError(f"qemu targets need Debian's qemu-user ({QEMU[arch]}): apt-get install qemu-user")
    listing = subprocess.run([binary, "-cpu", "help"], capture_output=True, text=True, check=False).stdout
    words = [line.split()[1 if arch == "x86_64" else 0] for line in listing.splitlines()[1:] if line.split()]
    return {word.lower(): word for word in words if not word.startswith("(")}


def parse_cpu(name: str) -> tuple[str, str]:
    """``cortex-a72`` → ("aarch64", "cortex-a72"); ``haswell`` → ("x86_64", "Haswell"); an unknown name is
    one line naming the known ones."""
    wanted = name.lower()
    if wanted in AARCH64_CPUS:
        return "aarch64", wanted
    x86 = qemu_cpus("x86_64")
    if wanted in x86:
        return "x86_64", x86[wanted]
    raise EdgemnistError(
        f"--on qemu:{name}: QEMU knows no such CPU; aarch64: {', '.join(AARCH64_CPUS)}; "
        f"x86-64: haswell or any name `qemu-x86_64 -cpu help` lists; Cortex-M: {', '.join(BOARDS)}"
    )


def guest_machine(root: Path, cpu: str) -> str:
    """A shell script giving the guest an Arm machine's /sys and /proc/cpuinfo, then running its arguments.

    ``-L root`` makes the root the guest's /, with host paths showing through where the root has no such file.
    The host's /sys and /proc/cpuinfo must not: ONNX Runtime's and XNNPACK's cpuinfo parse the x86 topology
    and crash, and with no /sys at all cpuinfo fails, XNNPACK is not used and LiteRT runs other kernels than a
    Pi would. So, in a private mount namespace, one core in /sys and the emulated core's MIDR in /proc/cpuinfo;
    the features come from the auxiliary vector, which QEMU sets per CPU model."""
    implementer, variant, part, revision = MIDR[cpu]
    cpuinfo = (
        f"processor\t: 0\nCPU implementer\t: {implementer:#04x}\nCPU architecture: 8\n"
        f"CPU variant\t: {variant:#x}\nCPU part\t: {part:#05x}\nCPU revision\t: {revision}\n"
    )
    cpus = "/sys/devices/system/cpu"
    return (
        f"mount -t tmpfs none /sys && mkdir -p {cpus}/cpu0 && for f in possible present online; do "
        f"echo 0 > {cpus}/$f; done && mount -t tmpfs none '{root}/proc' && "
        f"printf '{cpuinfo}' > '{root}/proc/cpuinfo' && exec \"$@\""
    )


@TARGETS.register("qemu")
@dataclass(frozen=True)
class Qemu(Target):
    name: str
    arch: str
    cpu: str  # QEMU's spelling
    counts_instructions = True
    time_scale = 20

    @classmethod
    def parse(cls, spec: str, **_) -> Target:
        """A missing setup of this machine is the user's to fix before anything runs: one line, exit 2, for
        evaluate, parity and bench alike (not a row error of bench). A Cortex-M core is another kind of
        target (``cortex_m.py``): firmware in qemu-system-arm, not a Python worker in qemu-user."""
        from .cortex_m import CortexM
        from .rootfs import has_venv

        if spec.partition(":")[2].lower() in BOARDS:
            return CortexM.parse(spec)
        arch, cpu = parse_cpu(spec.partition(":")[2])
        if arch == "aarch64" and not has_venv(aarch64_root()):
            raise EdgemnistError(NO_ROOT)
        return cls(spec, arch, cpu)

    def command(self, module: str, counter: Path | None) -> list[str]:
        """qemu-user running ``python -m edgemnist.<module>`` on this CPU, with the counter writing to ``counter``."""
        binary = shutil.which(QEMU[self.arch])
        if not binary:
            raise TargetError(f"{self.name} needs Debian's qemu-user ({QEMU[self.arch]}): apt-get install qemu-user")
        qemu = [binary, "-cpu", self.cpu]
        if counter:
            qemu += ["-plugin", f"{plugin_library()},out={counter},marker={MARK_SYSCALL[self.arch]}"]
        python = ["-m", f"edgemnist.{module}"]
        if self.arch == "x86_64":
            return [*qemu, sys.executable, *python]
        root = current_root()
        hide_host = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]
        shell = ["sh", "-c", guest_machine(root, self.cpu), "sh"]
        guest = ["-L", str(root), "-0", GUEST_PYTHON, str(root / GUEST_INTERPRETER)]
        return [*hide_host, *shell, *qemu, *guest, *python]

    def launch(self, module: str, job: str, timeout: float, counter: Path | None) -> subprocess.CompletedProcess:
        environment = {**worker_environment(), "OPENBLAS_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(
            self.command(module, counter),
            input=job,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env=environment,
        )

    def execute(self, module: str, job: str, timeout: float, count: bool = False) -> Outcome:
        with tempfile.TemporaryDirectory(prefix="edgemnist-qemu-") as folder:
            counter = Path(folder) / "counts.txt" if count else None
            try:
                process = self.launch(module, job, timeout, counter)
            except subprocess.TimeoutExpired:
                return Outcome({"error": f"timed out after {timeout:g} s under {self.name}"})
            total, marks = read_counts(counter) if counter else (None, [])
        return Outcome(worker_result(process), marks if count else None, total)

    def identify(self, models=()) -> dict:
        outcome = self.execute("targets.machine", "", 600)
        if "error" in outcome.result:
            raise TargetError(f"{self.name}: {outcome.result['error']}")
        machine = outcome.result
        machine.pop("state", None)
        # qemu-user shows the guest this machine's /proc/cpuinfo: the CPU is the model QEMU emulates.
        machine.update(cpu=f"{self.cpu} (QEMU {qemu_version(self.arch)}, TCG)", isa=None, board=None)
        return {**machine, **identity(machine, cpu_model=self.cpu)}

    def run(self, module: str, job: WorkerJob, timeout: float) -> Outcome:
        return self.execute(module, job.to_json(), timeout, count=getattr(job, "count_instructions", False))

    def settings(self) -> dict:
        return {"qemu": qemu_version(self.arch), "cpu": self.cpu, "arch": self.arch}


@functools.cache
def qemu_version(arch: str) -> str:
    shown = subprocess.run([QEMU[arch], "--version"], capture_output=True, text=True).stdout.split()
    return shown[2] if len(shown) > 2 else "?"
