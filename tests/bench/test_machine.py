"""The machine's identity and state, read the same way here and on a board."""

import json
import os
import subprocess
import sys

from edgemnist.targets.machine import machine_info, machine_state


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def raspberry_pi_sysfs(root, throttled_file=True):
    """The files a Raspberry Pi 4 exposes: one cpufreq policy for its 4 cores, the SoC's thermal zone."""
    policy = "devices/system/cpu/cpufreq/policy0/"
    for name, value in {
        "affected_cpus": "0 1 2 3",
        "scaling_governor": "ondemand",
        "scaling_cur_freq": "600000",
        "scaling_max_freq": "1800000",
        "cpuinfo_max_freq": "1800000",
    }.items():
        write(root, policy + name, value)
    write(root, "class/thermal/thermal_zone0/type", "cpu-thermal")
    write(root, "class/thermal/thermal_zone0/temp", "48686")
    if throttled_file:
        write(root, "devices/platform/soc/soc:firmware/get_throttled", "50005")


def test_a_raspberry_pis_state_is_read_from_sysfs(tmp_path):
    raspberry_pi_sysfs(tmp_path)
    state = machine_state(tmp_path)
    assert state["cpufreq"] == [
        {"cpus": "0 1 2 3", "governor": "ondemand", "cur_mhz": 600, "max_mhz": 1800, "hw_max_mhz": 1800}
    ]
    assert state["soc_temp_c"] == 48.7 and state["temperatures_c"] == {"cpu-thermal": 48.7}
    assert state["throttled"] == {
        "raw": "0x50005",
        "flags": ["under-voltage now", "throttled now", "under-voltage occurred", "throttling occurred"],
    }


def test_throttling_comes_from_vcgencmd_where_sysfs_lacks_it(tmp_path, monkeypatch):
    raspberry_pi_sysfs(tmp_path / "sys", throttled_file=False)
    write(tmp_path, "bin/vcgencmd", "#!/bin/sh\necho throttled=0x0")
    (tmp_path / "bin/vcgencmd").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert machine_state(tmp_path / "sys")["throttled"] == {"raw": "0x0", "flags": []}


def test_a_machine_without_cpufreq_or_thermal_zones_reads_as_empty(tmp_path):
    state = machine_state(tmp_path)
    assert (state["cpufreq"], state["soc_temp_c"], state["temperatures_c"], state["throttled"]) == ([], None, {}, None)


def test_the_module_prints_what_a_board_reports():
    process = subprocess.run(
        [sys.executable, "-m", "edgemnist.targets.machine"], capture_output=True, text=True, check=True
    )
    printed = json.loads(process.stdout)
    assert {k: v for k, v in printed.items() if k != "state"} == machine_info() and "load_avg" in printed["state"]
