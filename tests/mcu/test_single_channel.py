"""The first convolution of ``mcu`` has one input channel: a 3x3 window is nine values, three bytes per filter
row. The kernels place such windows' values tap by tap at a block's eight positions (portable.c,
gather_single_channel), so that gathering them no longer costs more than their products. Measured as the
benchmark measures a layer: a run whose entry point calls the layer twice minus the run that calls it once.
Its scores stay TFLite Micro's: test_kernels.py's single-op models (one input channel, with padding, strides,
dilation and a fused pool) and the whole-model tests check them with every kernel set."""

from __future__ import annotations

import pytest

from benchmarks.firmware import layer_macs, with_layer_twice
from edgemnist.mcu import compile_model
from edgemnist.mcu.boards import BOARDS
from edgemnist.mcu.firmware import build_firmware
from edgemnist.targets.cortex_m import counted_run

from .test_firmware_qemu import MCU


def first_conv_instructions_per_mac(cpu: str, kernels: str) -> float:
    compiled = compile_model(MCU)
    first = next(op for op in compiled.ops if op.kernel == "em_conv2d")
    assert first.weights.values.shape[-1] == 1  # one input channel
    board = BOARDS[cpu]
    once = counted_run(build_firmware(MCU, compiled, board, kernels), 1, 300)[0]
    twice = counted_run(build_firmware(MCU, with_layer_twice(compiled, first), board, kernels), 1, 300)[0]
    return (twice - once) / layer_macs(first)


# copied row by row and widened through a row of bytes, the layer cost 6.30 (dsp) and 5.89 (helium)
@pytest.mark.parametrize(("cpu", "kernels", "most"), [("cortex-m4", "dsp", 4.5), ("cortex-m55", "helium", 4.0)])
def test_the_single_channel_convolution_gathers_its_windows_tap_by_tap(cpu, kernels, most):
    assert first_conv_instructions_per_mac(cpu, kernels) <= most
