"""The firmware on QEMU's Cortex-M boards: the ELF's self-test, its flash and measured RAM, its scores
against the tflite-micro interpreter, and the one-line failures a firmware author meets."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import run_cli

from edgemnist.common.errors import EdgemnistError
from edgemnist.inspect import inspect_model
from edgemnist.mcu import compile_model
from edgemnist.mcu import firmware as firmware_module
from edgemnist.mcu.boards import BOARDS
from edgemnist.mcu.emulator import board_scores, self_test
from edgemnist.mcu.firmware import build_firmware
from edgemnist.pretrained import pretrained_dir
from edgemnist.targets.cortex_m import counted_run

from .reference import differing_digits, tflm_scores

MCU = pretrained_dir() / "mcu_int8.tflite"
FLASH_TARGET, RAM_TARGET = 32 * 1024, 10 * 1024  # issue 26: data + bss + the stack's measured peak


def mcu_firmware(cpu: str, kernels: str | None = None):
    return build_firmware(MCU, compile_model(MCU), BOARDS[cpu], kernels)


def instructions_per_inference(firmware) -> int:
    return counted_run(firmware, 2, 300)[0] - counted_run(firmware, 1, 300)[0]


@pytest.mark.parametrize("cpu", list(BOARDS))
def test_the_self_test_passes_within_the_flash_and_ram_targets(cpu):
    firmware = mcu_firmware(cpu)
    run = self_test(firmware)
    assert run.exit_code == 0 and run.lines[0] == "self-test passed: 3 digits, every score identical to TFLite Micro's"
    assert 0 < run.stack_peak < 1024
    assert firmware.flash_bytes <= FLASH_TARGET
    assert firmware.data + firmware.bss + run.stack_peak <= RAM_TARGET


def test_the_self_test_exits_1_when_a_score_differs_from_the_reference(monkeypatch):
    reference = firmware_module.reference_scores

    def one_score_off(*args):
        scores = reference(*args)
        scores[1, 3] += 1
        return scores

    monkeypatch.setattr(firmware_module, "reference_scores", one_score_off)
    run = self_test(mcu_firmware("cortex-m4"))
    assert run.exit_code == 1 and any("digit 1 score 3" in line for line in run.lines)


def test_cortex_m4_scores_are_tflite_micros(mnist):
    digits = mnist.x_test[:300]
    assert differing_digits(board_scores(mcu_firmware("cortex-m4"), digits, 600).scores, tflm_scores(MCU, digits)) == (
        0,
        0,
    )


@pytest.mark.parametrize("kernels", ["portable", "dsp"])
def test_each_kernel_set_gives_tflite_micros_scores_on_cortex_m7(mnist, kernels):
    digits = mnist.x_test[:200]
    firmware = mcu_firmware("cortex-m7", kernels)
    assert firmware.kernels == kernels
    assert differing_digits(board_scores(firmware, digits, 600).scores, tflm_scores(MCU, digits)) == (0, 0)


def test_the_dsp_kernels_are_cortex_m4s_and_m7s_and_meet_the_instruction_targets():
    assert [BOARDS[cpu].kernels for cpu in BOARDS] == ["dsp", "dsp", "helium"]
    portable, dsp = (instructions_per_inference(mcu_firmware("cortex-m4", kernels)) for kernels in ("portable", "dsp"))
    macs = inspect_model(MCU).macs
    # issue 26: at most 1.6 instructions per MAC with the DSP kernels; the portable ones block the same way,
    # so the DSP set's gain is its two multiply-accumulates per SMLAD and its one-instruction requantization
    assert dsp <= 1.6 * macs and dsp < 0.6 * portable


@pytest.mark.slow
def test_edge_on_cortex_m4_with_dsp_kernels_gives_tflite_micros_scores_on_200_digits(mnist):
    edge = pretrained_dir() / "edge_int8.tflite"
    digits = mnist.x_test[:200]
    firmware = build_firmware(edge, compile_model(edge), BOARDS["cortex-m4"], "dsp")
    assert differing_digits(board_scores(firmware, digits, 900).scores, tflm_scores(edge, digits)) == (0, 0)


@pytest.mark.slow
def test_cortex_m4_scores_are_tflite_micros_on_1000_digits(mnist):
    digits = mnist.x_test[:1000]
    assert differing_digits(board_scores(mcu_firmware("cortex-m4"), digits, 900).scores, tflm_scores(MCU, digits)) == (
        0,
        0,
    )


def test_compile_writes_the_library_and_a_self_tested_elf(tmp_path):
    result = run_cli("compile", MCU, "--out", tmp_path, "--cpu", "cortex-m55", "--json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["mcu_int8.h", "mcu_int8.c", "portable.h", "portable.c", "dsp.h", "helium.h", "mcu_int8-cortex-m55.elf"]
    )
    assert found["board"] == "mps3-an547" and found["self_test"].startswith("self-test passed")
    assert found["flash_bytes"] <= FLASH_TARGET and found["arena_bytes"] < found["ram_bytes"] <= RAM_TARGET


def test_a_model_too_large_for_the_part_says_by_how_much(tmp_path):
    firmware = mcu_firmware("cortex-m4")
    ram = firmware.data + firmware.bss + self_test(firmware).stack_peak
    result = run_cli("compile", MCU, "--out", tmp_path, "--flash", "16K", "--ram", "4K")
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert f"flash {firmware.flash_bytes:,} B, 16 KiB on the part ({firmware.flash_bytes - 16384:,} B over)" in (
        result.stderr
    )
    assert f"RAM {ram:,} B, 4 KiB on the part ({ram - 4096:,} B over)" in result.stderr
    assert run_cli("compile", MCU, "--out", tmp_path, "--flash", "256K", "--ram", "64K").exit_code == 0


def test_missing_toolchain_and_qemu_name_the_debian_packages(monkeypatch, tmp_path):
    from edgemnist.targets import resolve

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        EdgemnistError, match="apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
    ):
        resolve("qemu:cortex-m4")


def test_a_toolchain_without_newlib_names_its_debian_package(monkeypatch, tmp_path):
    """gcc-arm-none-eabi without libnewlib-arm-none-eabi: gcc prints a file it cannot find as its bare name."""
    gcc = tmp_path / "arm-none-eabi-gcc"
    gcc.write_text('#!/bin/sh\ncase "$1" in -print-file-name=*) echo "${1#*=}" ;; *) echo "gcc 12.2" ;; esac\n')
    gcc.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    with pytest.raises(EdgemnistError, match="no newlib .*apt-get install libnewlib-arm-none-eabi$"):
        build_firmware(MCU, compile_model(MCU), BOARDS["cortex-m4"])


def test_scores_round_trip_through_the_harness_format():
    digits = np.zeros((2, 28, 28), np.uint8)
    run = board_scores(mcu_firmware("cortex-m7"), digits, 60)
    assert run.scores.shape == (2, 10) and run.scores.dtype == np.int8


def test_a_model_beyond_the_boards_memory_is_one_line(tmp_path):
    result = run_cli("compile", pretrained_dir() / "seed_int8.tflite", "--cpu", "cortex-m55", "--out", tmp_path)
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "seed_int8-cortex-m55.elf does not fit QEMU's mps3-an547: its FLASH holds 512 KiB (" in result.stderr


@pytest.mark.slow
def test_seed_runs_on_cortex_m4_with_tflite_micros_scores(mnist):
    seed = pretrained_dir() / "seed_int8.tflite"
    digits = mnist.x_test[:100]
    firmware = build_firmware(seed, compile_model(seed), BOARDS["cortex-m4"])
    assert firmware.flash_bytes > 512 * 1024  # beyond the M55's ITCM: the MPS2 boards' 4 MiB hold it
    assert differing_digits(board_scores(firmware, digits, 900).scores, tflm_scores(seed, digits)) == (0, 0)
