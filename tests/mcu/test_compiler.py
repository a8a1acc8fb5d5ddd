"""What the compiler writes: C99 that builds warning-free for the host and for a Cortex-M4, with no floating
point, a memory plan below TFLite Micro's arena, and one line for what it cannot compile."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from conftest import run_cli

from edgemnist.common.errors import EdgemnistError
from edgemnist.mcu import compile_model
from edgemnist.mcu.host import HostModel
from edgemnist.pretrained import pretrained_dir
from edgemnist.tflite_graph import tflite_schema

from .reference import differing_digits, tflm_scores

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
TFLM_ARENA_MCU = 16_328  # bytes, measured with edgemnist.predict.tflm.measure_arena
FLASH_TARGET = 32 * 1024


@pytest.fixture(scope="module")
def mcu_library(tmp_path_factory):
    out = tmp_path_factory.mktemp("mcu_c")
    return compile_model(pretrained_dir() / "mcu_int8.tflite", out), out


def test_the_plan_needs_less_ram_than_tflite_micro(mcu_library):
    compiled, _ = mcu_library
    assert compiled.plan.arena_bytes < TFLM_ARENA_MCU
    assert f"#define MCU_INT8_RAM_BYTES {compiled.plan.arena_bytes}" in compiled.files["mcu_int8.h"]


def test_the_second_conv_writes_pooled_rows_so_its_output_takes_no_ram(mcu_library):
    compiled, _ = mcu_library
    fused = [op for op in compiled.ops if op.kind == "CONV_2D+MAX_POOL_2D"]
    assert [op.name for op in fused] == ["conv2d_2_max_pool2d_1"]
    # the busiest step holds the first conv's output (26x26x8), the pooled one (12x12x12) and the fused
    # kernel's widened patches (8 positions x 72 values x 2 B, and a row of 72 B), not 24x24x12
    assert fused[0].scratch_bytes() == 8 * 72 * 2 + 72
    assert compiled.plan.arena_bytes == 26 * 26 * 8 + 12 * 12 * 12 + fused[0].scratch_bytes()


@pytest.mark.parametrize("model", ["mcu", "edge", "seed"])
def test_the_arena_is_no_larger_than_the_busiest_step(model):
    plan = compile_model(pretrained_dir() / f"{model}_int8.tflite").plan
    live = sum(b.size for b in plan.buffers if b.first <= plan.busiest_step <= b.last)
    assert plan.arena_bytes == live


def test_no_floating_point_in_the_generated_c(mcu_library):
    compiled, _ = mcu_library
    for file, text in compiled.files.items():
        assert not re.search(r"\b(float|double)\b", text), file


def test_the_generated_c_builds_strictly_on_the_host(mcu_library):
    compiled, out = mcu_library
    for source in compiled.sources:
        subprocess.run(["gcc", *STRICT, "-O2", "-c", source, "-o", f"{source}.host.o"], cwd=out, check=True)


def test_the_generated_c_builds_for_cortex_m4_within_the_flash_target(mcu_library):
    compiled, out = mcu_library
    objects = []
    for source in compiled.sources:
        objects.append(f"{source}.m4.o")
        arm = ["arm-none-eabi-gcc", *STRICT, "-mcpu=cortex-m4", "-mthumb", "-O2", "-c", source, "-o", objects[-1]]
        subprocess.run(arm, cwd=out, check=True)
    sizes = subprocess.run(["arm-none-eabi-size", *objects], cwd=out, capture_output=True, text=True, check=True)
    rows = [line.split() for line in sizes.stdout.splitlines()[1:]]
    flash = sum(int(text) + int(data) for text, data, *_ in rows)
    assert flash <= FLASH_TARGET
    undefined = subprocess.run(["arm-none-eabi-nm", "-u", *objects], cwd=out, capture_output=True, text=True)
    assert "__aeabi" not in undefined.stdout  # no library arithmetic (soft float, 64-bit division)


def modified_mcu(tmp_path, change) -> str:
    """The shipped mcu model with ``change(model, schema)`` applied to its flatbuffer objects."""
    schema = tflite_schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray((pretrained_dir() / "mcu_int8.tflite").read_bytes()), 0)
    change(model, schema)
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "modified.tflite"
    path.write_bytes(bytes(builder.Output()))
    return str(path)


def softmax_made_tanh(model, schema):
    code = next(c for c in model.operatorCodes if c.builtinCode == schema.BuiltinOperator.SOFTMAX)
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.TANH


def conv_with_tanh(model, schema):
    model.subgraphs[0].operators[2].builtinOptions.fusedActivationFunction = schema.ActivationFunctionType.TANH


@pytest.mark.parametrize(
    ("change", "named"),
    [(softmax_made_tanh, "does not support op TANH"), (conv_with_tanh, "CONV_2D with fused activation TANH")],
)
def test_what_it_cannot_compile_is_one_line_naming_it(tmp_path, change, named):
    path = modified_mcu(tmp_path, change)
    with pytest.raises(EdgemnistError, match=named) as caught:
        compile_model(path)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    result = run_cli("evaluate", path, "--backend", "mcu-c", "--limit", "10")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and named in result.stderr


def test_an_onnx_model_given_to_compile_is_one_line_saying_it_takes_tflite(tmp_path):
    result = run_cli("compile", pretrained_dir() / "mcu_int8.onnx", "--out", tmp_path)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "is not a TFLite model: compile takes an int8 .tflite" in result.stderr


def huge_conv_bias(model, schema):
    """The third convolution's biases at +-2^30, so that its sums may pass what one-multiply requantization
    takes."""
    graph = model.subgraphs[0]
    conv = schema.BuiltinOperator.CONV_2D
    convs = [op for op in graph.operators if model.operatorCodes[op.opcodeIndex].builtinCode == conv]
    buffer = model.buffers[graph.tensors[convs[2].inputs[2]].buffer]
    signs = np.where(np.arange(len(buffer.data) // 4) % 2, 1, -1)
    buffer.data = (signs * 2**30).astype("<i4").view(np.uint8)


def test_a_layer_whose_sums_may_pass_2_30_takes_the_general_requantization(tmp_path, mnist):
    path = modified_mcu(tmp_path, huge_conv_bias)
    compiled = compile_model(path)
    third = [op for op in compiled.ops if op.kind == "CONV_2D"][1]
    assert not third.small_sum_addends().any()
    assert all(op.small_sum_addends().all() for op in compiled.ops if op.kind == "CONV_2D" and op is not third)
    digits = mnist.x_test[:100]
    assert differing_digits(HostModel(compiled).run(digits), tflm_scores(Path(path), digits)) == (0, 0)
