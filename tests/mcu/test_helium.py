"""The Helium kernels (helium.h) on QEMU's Cortex-M55: TFLite Micro's scores bit for bit, issue 26's
instruction target, and one line where a core has no Helium."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from edgemnist.inspect import inspect_model
from edgemnist.mcu import compile_model
from edgemnist.mcu.boards import BOARDS, KERNEL_SETS
from edgemnist.mcu.emulator import board_scores, self_test
from edgemnist.mcu.firmware import build_firmware

from .reference import differing_digits, tflm_scores
from .test_compiler import huge_conv_bias, modified_mcu
from .test_firmware_qemu import MCU, instructions_per_inference, mcu_firmware
from .test_kernels import (
    FILTERS,
    conv_dilated,
    conv_odd_channels,
    conv_relu_pooled_same,
    conv_same_stride_relu6,
    converted,
    edge_digits,
    mean_subtracted,
)


def helium_scores_differ(path, digits) -> tuple[int, int]:
    path = Path(path)
    firmware = build_firmware(path, compile_model(path), BOARDS["cortex-m55"], "helium")
    return differing_digits(board_scores(firmware, digits, 900).scores, tflm_scores(path, digits))


def test_helium_is_the_m55s_default_and_every_set_passes_its_self_test_there():
    assert BOARDS["cortex-m55"].kernels == "helium"
    for kernels in KERNEL_SETS:
        run = self_test(mcu_firmware("cortex-m55", kernels))
        assert run.exit_code == 0 and run.lines[0].startswith("self-test passed"), kernels


def test_helium_scores_are_tflite_micros_on_cortex_m55(mnist):
    assert helium_scores_differ(MCU, mnist.x_test[:300]) == (0, 0)


def test_helium_meets_the_instruction_target_every_op_included():
    helium, dsp = (instructions_per_inference(mcu_firmware("cortex-m55", kernels)) for kernels in ("helium", "dsp"))
    # issue 26: at most 0.8 instructions per MAC on the Cortex-M55 with Helium, over the whole inference
    assert helium <= 0.8 * inspect_model(MCU).macs and helium < dsp


def test_helium_for_a_core_without_it_is_one_line(tmp_path):
    result = run_cli("compile", MCU, "--out", tmp_path, "--cpu", "cortex-m4", "--kernels", "helium")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "helium kernels need Arm's M-profile vector extension (Helium), which cortex-m4 does not have" in (
        result.stderr
    )


def test_sums_beyond_2_30_take_the_general_requantization_with_helium(tmp_path, mnist):
    path = modified_mcu(tmp_path, huge_conv_bias)
    assert helium_scores_differ(path, mnist.x_test[:100]) == (0, 0)


def conv_one_by_one(tf, x):
    """A filter of one value: one group of four, fewer than a vector, in the smallest scratch."""
    return tf.nn.conv2d(x, FILTERS[:1, :1, :, :4] * 3.0, 1, "VALID")


def two_convs_subtracted(tf, x):
    """A SUB of two tensors (no broadcast value)."""
    return tf.nn.conv2d(x, FILTERS, 1, "VALID") - tf.nn.conv2d(x, FILTERS[::-1], 1, "VALID")


@pytest.mark.slow
@pytest.mark.parametrize(
    "layer",
    [
        conv_same_stride_relu6,
        conv_dilated,
        conv_odd_channels,
        conv_relu_pooled_same,
        mean_subtracted,
        conv_one_by_one,
        two_convs_subtracted,
    ],
)
def test_the_helium_kernels_match_tflm_on_single_op_models(tmp_path, mnist, layer):
    """Helium's own paths: a narrower clamp, taps outside the image, dilation, an odd channel count, pooled
    windows across blocks, SUB broadcast and not, and a filter shorter than one vector."""
    assert helium_scores_differ(converted(tmp_path, layer), edge_digits(mnist)) == (0, 0)
