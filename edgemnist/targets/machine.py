"""What the numbers were measured on, and in what state: every report records it.

The same code describes this machine and a remote board: ``python -m edgemnist.targets.machine`` prints
``machine_info()`` as JSON, which is how ``bench --on`` learns a board's identity.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from ..common.versions import tool_versions

ISA_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_int8",
    "asimd",
    "asimddp",
    "sve",
    "i8mm",
)
# Zone types that name the SoC or CPU package, most specific first (Raspberry Pi: cpu-thermal; x86: x86_pkg_temp).
SOC_ZONES = ("cpu-thermal", "soc-thermal", "soc_thermal", "x86_pkg_temp", "cpu_thermal", "cpu", "soc")
# Bits of the Raspberry Pi firmware's get_throttled word.
THROTTLE_BITS = {
    0: "under-voltage now",
    1: "frequency capped now",
    2: "throttled now",
    3: "soft temperature limit now",
    16: "under-voltage occurred",
    17: "frequency capping occurred",
    18: "throttling occurred",
    19: "soft temperature limit occurred",
}


def cpuinfo() -> dict:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def board_model() -> str | None:
    """The board's name where the device tree gives one (``Raspberry Pi 4 Model B Rev 1.4``, a Jetson's)."""
    try:
        return Path("/proc/device-tree/model").read_text().rstrip("\x00\n") or None
    except OSError:
        return None


def machine_info() -> dict:
    """Identity: what stays the same between runs on one machine."""
    info = cpuinfo()
    flags = set((info.get("flags") or info.get("Features") or "").split())
    return {
        "hostname": socket.gethostname(),
        "board": board_model(),
        "cpu": info.get("model name") or info.get("Model") or platform.processor() or platform.machine(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "isa": [flag for flag in ISA_FLAGS if flag in flags],
        "memory_bytes": memory_bytes(),
        "os": platform.platform(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "versions": tool_versions(),
    }


def read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def mhz(path: Path) -> int | None:
    khz = read_text(path)
    return round(int(khz) / 1000) if khz and khz.isdigit() else None


def cpu_frequencies(sys_root: Path) -> list[dict]:
    """One entry per cpufreq policy (a group of cores clocked together): governor, current and max MHz."""
    cpus = sys_root / "devices/system/cpu"
    policies = sorted((cpus / "cpufreq").glob("policy*")) or sorted(cpus.glob("cpu[0-9]*/cpufreq"))
    return [
        {
            "cpus": read_text(policy / "affected_cpus") or read_text(policy / "related_cpus"),
            "governor": read_text(policy / "scaling_governor"),
            "cur_mhz": mhz(policy / "scaling_cur_freq"),
            "max_mhz": mhz(policy / "scaling_max_freq"),
            "hw_max_mhz": mhz(policy / "cpuinfo_max_freq"),
        }
        for policy in policies
    ]


def temperatures(sys_root: Path) -> dict[str, float]:
    """°C per thermal zone, keyed by the zone's type (duplicates get the zone's number)."""
    found = {}
    for zone in sorted((sys_root / "class/thermal").glob("thermal_zone*")):
        kind, millidegrees = read_text(zone / "type") or zone.name, read_text(zone / "temp")
        if millidegrees and millidegrees.lstrip("-").isdigit():
            found[kind if kind not in found else f"{kind}.{zone.name[12:]}"] = round(int(millidegrees) / 1000, 1)
    return found


def soc_temperature(zones: dict[str, float]) -> float | None:
    for kind in SOC_ZONES:
        if kind in zones:
            return zones[kind]
    return next(iter(zones.values()), None)


def throttling(sys_root: Path) -> dict | None:
    """The Raspberry Pi firmware's throttling word (``vcgencmd get_throttled``, or its sysfs file), decoded."""
    raw = read_text(sys_root / "devices/platform/soc/soc:firmware/get_throttled")
    if raw is None and shutil.which("vcgencmd"):
        try:
            answer = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5).stdout
            raw = answer.strip().partition("=")[2] or None
        except (OSError, subprocess.TimeoutExpired):
            raw = None
    if raw is None:
        return None
    try:
        word = int(raw, 16)
    except ValueError:
        return {"raw": raw, "flags": []}
    return {"raw": hex(word), "flags": [name for bit, name in THROTTLE_BITS.items() if word >> bit & 1]}


def machine_state(sys_root: str | os.PathLike = "/sys") -> dict:
    """What changes while a benchmark runs: clocks, governor, temperatures, throttling (None where unreadable)."""
    root = Path(sys_root)
    zones = temperatures(root)
    return {
        "cpufreq": cpu_frequencies(root),
        "soc_temp_c": soc_temperature(zones),
        "temperatures_c": zones,
        "throttled": throttling(root),
        "load_avg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps({**machine_info(), "state": machine_state()}))
