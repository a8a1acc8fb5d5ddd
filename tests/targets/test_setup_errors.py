"""``emulate setup`` and ``--on qemu:CPU``: what a machine lacks is one line naming the fix, exit 2."""

import pytest
from conftest import run_cli

from edgemnist import emulate


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(emulate.os, "geteuid", lambda: 0)
    return tmp_path


def one_line_error(result, fix: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and fix in result.stderr, (
        result.stderr
    )


def hide(monkeypatch, *programs):
    real = emulate.shutil.which
    monkeypatch.setattr(emulate.shutil, "which", lambda name: None if name in programs else real(name))


def test_without_root_rights(cache, monkeypatch):
    monkeypatch.setattr(emulate.os, "geteuid", lambda: 1000)
    one_line_error(run_cli("emulate", "setup", "aarch64"), "needs root rights")


@pytest.mark.parametrize(
    "program, fix",
    [
        ("qemu-aarch64-static", "apt-get install qemu-user-static"),
        ("qemu-aarch64", "apt-get install qemu-user"),
        ("debootstrap", "apt-get install debootstrap"),
    ],
)
def test_a_missing_program_is_named(cache, monkeypatch, program, fix):
    hide(monkeypatch, program)
    if program == "debootstrap" and not (emulate.BINFMT / "qemu-aarch64").exists():
        monkeypatch.setattr(emulate, "BINFMT", fake_binfmt(cache))
    one_line_error(run_cli("emulate", "setup", "aarch64"), fix)


def fake_binfmt(folder):
    binfmt = folder / "binfmt"
    binfmt.mkdir(exist_ok=True)
    (binfmt / "status").write_text("enabled\n")
    (binfmt / "qemu-aarch64").write_text("enabled\n")
    return binfmt


def test_binfmt_misc_not_mounted(cache, monkeypatch):
    monkeypatch.setattr(emulate, "BINFMT", cache / "nowhere")
    one_line_error(run_cli("emulate", "setup", "aarch64"), "mount -t binfmt_misc binfmt_misc")


def test_arm64_programs_not_registered(cache, monkeypatch):
    binfmt = cache / "binfmt"
    binfmt.mkdir()
    (binfmt / "status").write_text("enabled\n")
    monkeypatch.setattr(emulate, "BINFMT", binfmt)
    one_line_error(run_cli("emulate", "setup", "aarch64"), "update-binfmts --enable qemu-aarch64")


def test_a_given_root_without_python_is_refused(cache, tmp_path):
    (tmp_path / "not-a-root").mkdir()
    one_line_error(run_cli("emulate", "setup", "aarch64", "--root", tmp_path / "not-a-root"), "no usr/bin/python3.11")


def test_the_mirror_comes_from_apts_sources(tmp_path):
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n\n"
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n"
    )
    assert emulate.debian_mirror(tmp_path) == "http://mirror.example/debian"
    assert emulate.debian_mirror(tmp_path / "none") == "http://deb.debian.org/debian"


@pytest.mark.parametrize("command", ["evaluate", "bench"])
def test_an_unknown_cpu_is_one_line(command, data_dir):
    result = run_cli(command, "edgemnist/pretrained/mcu_int8.tflite", "--on", "qemu:cortex-z9", "--data", data_dir)
    one_line_error(result, "QEMU knows no such CPU; aarch64: ")


@pytest.mark.parametrize("command", ["evaluate", "bench", "parity"])
def test_an_arm_cpu_without_the_root_says_how_to_make_it(cache, data_dir, command):
    """The same cause, the same line and exit 2 in every command (bench used to make it a row error, exit 1)."""
    models = ["edgemnist/pretrained/mcu_int8.tflite"] * (2 if command == "parity" else 1)
    result = run_cli(command, *models, "--on", "qemu:cortex-a72", "--quiet", "--data", data_dir)
    one_line_error(result, "run edgemnist emulate setup aarch64")
