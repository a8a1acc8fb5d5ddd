"""The "Cortex-M firmware" section of benchmarks/RESULTS.md: the shipped int8 models compiled to C
(``edgemnist.mcu``), built with Debian's arm-none-eabi-gcc for each emulated core and kernel set, and run in
qemu-system-arm: flash, RAM (data + bss + the stack's measured peak), guest instructions per inference
(a run with two inferences minus a run with one: exact) and per MAC, and the digits whose 10 int8 scores
differ from the tflite-micro interpreter's.

    python -m benchmarks --only firmware

Per layer, ``mcu`` on the Cortex-M4: a run whose entry point calls one layer's kernel twice minus the run that
calls it once (exact: the second call repeats the same work on the same bytes).

Milliseconds are an estimate from the instruction count at a stated clock, assuming one instruction per cycle;
nothing here is timed. ``seed``'s library is also measured alone, as built for the Cortex-M4 (its object files'
sections), and set against common flash sizes.
"""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from edgemnist.common.render import markdown_table
from edgemnist.data import load_mnist
from edgemnist.inspect import inspect_model
from edgemnist.mcu import compile_model
from edgemnist.mcu.boards import BOARDS, KERNEL_SETS, kernel_sets_for
from edgemnist.mcu.emulator import board_scores
from edgemnist.mcu.firmware import ARM_GCC, C_FLAGS, build_firmware, reference_scores
from edgemnist.pretrained import pretrained_dir
from edgemnist.targets.cortex_m import counted_run
from edgemnist.targets.worker import TIMEOUT_S as QEMU_TIMEOUT_S

from .sections import ROOT

CLOCK_MHZ = 120  # MLPerf Tiny's Cortex-M4 reference clock
PARTS_KIB = (256, 512, 1024, 2048)  # common flash sizes
# digits checked against TFLM: the whole test set with a core's own kernel set, the first thousand with the others
ALL_DIGITS, SOME_DIGITS = 10_000, 1_000
MODELS = ("mcu", "edge", "seed")
HEADERS = [
    "model",
    "core",
    "kernels",
    "flash",
    "RAM",
    "instructions / inference",
    "instructions / MAC",
    f"est. ms at {CLOCK_MHZ} MHz",
    "digits checked",
    "differing",
]


def model_path(name: str) -> Path:
    return pretrained_dir() / f"{name}_int8.tflite"


def models() -> list[Path]:
    return [model_path(name) for name in MODELS]


def code() -> list[Path]:
    """The folders these figures are a function of, besides the models: the compiler with its kernels and harness,
    and the instruction-counting plugin."""
    return [ROOT / "edgemnist" / "mcu", ROOT / "edgemnist" / "targets" / "plugin"]


def configurations(model: str) -> list[tuple[str, str]]:
    """(core, kernel set) pairs: the mcu model on every core with every set, edge and seed on the Cortex-M4."""
    cores = list(BOARDS) if model == "mcu" else ["cortex-m4"]
    return [(cpu, kernels) for cpu in cores for kernels in kernel_sets_for(BOARDS[cpu])]


def digits_checked(cpu: str, kernels: str) -> int:
    return ALL_DIGITS if kernels == BOARDS[cpu].kernels else SOME_DIGITS


def differing(ours: np.ndarray, reference: np.ndarray) -> int:
    return int((ours != reference).any(axis=1).sum())


def row(model: str, cpu: str, kernels: str, digits: np.ndarray, macs: int) -> list[str]:
    path = model_path(model)
    compiled = compile_model(path)
    firmware = build_firmware(path, compiled, BOARDS[cpu], kernels)
    one, stack = counted_run(firmware, 1, QEMU_TIMEOUT_S)
    two, _ = counted_run(firmware, 2, QEMU_TIMEOUT_S)
    instructions = two - one
    scores = board_scores(firmware, digits, QEMU_TIMEOUT_S).scores
    wrong = differing(scores, reference_scores(path, compiled, digits))
    return [
        model,
        cpu,
        kernels,
        f"{firmware.flash_bytes:,} B",
        f"{firmware.data + firmware.bss + stack:,} B",
        f"{instructions:,}",
        f"{instructions / macs:.2f}",
        f"{instructions / (CLOCK_MHZ * 1000):,.1f}",
        f"{len(digits):,}",
        f"{wrong}",
    ]


def layer_macs(op) -> int:
    """Multiply-accumulates of a convolution (fused or not) or fully connected layer; 0 for the others."""
    weighted = getattr(op, "conv", op)
    if not hasattr(weighted, "weights"):
        return 0
    positions = weighted.result.size // weighted.result.shape[-1]
    return int(weighted.weights.values.size * positions)


def with_layer_twice(compiled, op):
    """The library whose entry point calls ``op``'s kernel twice in a row."""
    source = compiled.files[f"{compiled.name}.c"]
    call = next(line for line in source.splitlines() if line.strip().startswith(f"{op.kernel}(&{op.name},"))
    files = {**compiled.files, f"{compiled.name}.c": source.replace(call, f"{call}\n{call}")}
    return dataclasses.replace(compiled, files=files)


def layer_instructions(model: str, cpu: str, kernels: str) -> dict[str, int]:
    """Instructions of one call of each layer's kernel."""
    path = model_path(model)
    compiled = compile_model(path)
    board = BOARDS[cpu]
    once, _ = counted_run(build_firmware(path, compiled, board, kernels), 1, QEMU_TIMEOUT_S)
    return {
        op.name: counted_run(build_firmware(path, with_layer_twice(compiled, op), board, kernels), 1, QEMU_TIMEOUT_S)[0]
        - once
        for op in compiled.ops
        if op.kernel
    }


def per_mac(instructions: int, macs: int) -> str:
    return f"{instructions / macs:.2f}" if macs else ""


def layer_table(model: str, cpu: str) -> list[str]:
    compiled = compile_model(model_path(model))
    sets = kernel_sets_for(BOARDS[cpu])
    counts = {kernels: layer_instructions(model, cpu, kernels) for kernels in sets}
    headers = ["layer", "op", "MACs"] + [f"{k} {what}" for k in sets for what in ("instructions", "/ MAC")]
    rows = []
    for op in (op for op in compiled.ops if op.kernel):
        macs = layer_macs(op)
        cells = [[f"{counts[k][op.name]:,}", per_mac(counts[k][op.name], macs)] for k in sets]
        rows.append([op.name, op.kind, f"{macs:,}" if macs else "", *(c for pair in cells for c in pair)])
    return [
        f"Per layer, `{model}` on the {cpu}: instructions of one call of each layer's kernel (a run calling it "
        "twice minus a run calling it once). The first convolution has one input channel: nine MACs per output "
        "value, so its gathering and requantization weigh more than elsewhere.",
        "",
        markdown_table(headers, rows),
    ]


def library_flash(model: str) -> int:
    """The compiled library's code and constants for the Cortex-M4 (text + data of its object files)."""
    compiled = compile_model(model_path(model))
    with tempfile.TemporaryDirectory(prefix="edgemnist-flash-") as folder:
        compiled.write(folder)
        objects = []
        for source in compiled.sources:
            obj = Path(folder) / f"{source}.o"
            flags = (*BOARDS["cortex-m4"].gcc_flags, *KERNEL_SETS["dsp"], *C_FLAGS)
            subprocess.run([ARM_GCC, *flags, "-c", source, "-o", obj.name], cwd=folder, check=True)
            objects.append(str(obj))
        shown = subprocess.run(["arm-none-eabi-size", *objects], capture_output=True, text=True, check=True).stdout
    return sum(int(line.split()[0]) + int(line.split()[1]) for line in shown.splitlines()[1:])


def fit_line(model: str) -> str:
    flash = library_flash(model)
    fits = ", ".join(
        f"{kib} KiB: {'fits' if flash <= kib * 1024 else 'does not fit'} ({flash / (kib * 1024):.0%} of it)"
        for kib in PARTS_KIB
    )
    return (
        f"`{model}` (its library alone, built for the Cortex-M4 with the DSP kernels: {flash:,} B of flash, "
        f"{flash / 1024:,.0f} KiB) against common flash sizes: {fits}."
    )


def body() -> list[str]:
    mnist = load_mnist()
    rows = []
    for model in MODELS:
        macs = inspect_model(model_path(model)).macs
        for cpu, kernels in configurations(model):
            rows.append(row(model, cpu, kernels, mnist.x_test[: digits_checked(cpu, kernels)], macs))
    return [
        "## Cortex-M firmware",
        "",
        "The shipped int8 models compiled to C by `edgemnist compile` and built with Debian's arm-none-eabi-gcc "
        "(`-O2`) for QEMU's `mps2-an386` (Cortex-M4), `mps2-an500` (M7) and `mps3-an547` (M55). The portable and "
        "DSP sets compute a convolution eight output positions at a time, their patches widened to 16 bits once "
        "into planned scratch memory, with int8 weights and the input zero point folded into the bias. *kernels*: "
        "`portable` is plain C99 (two channels at a time); `dsp` takes the dot products with the DSP extension's "
        "`SXTB16`/`SMLAD`/`LDRD` (eight accumulators, each filter word widened once for the eight positions) and "
        "requantizes with one `SMMLAR` (the default on the M4 and M7); `helium` keeps the patches int8 and sums "
        "sixteen products per `VMLADAVA`, for two positions and a pair of channels, and rescales four values at a "
        "time (the default on the M55). *flash*: text "
        "+ rodata + data of the whole ELF (harness and self-test included); *RAM*: data + bss + the stack's "
        "measured peak. *Instructions / inference*: guest instructions counted by a QEMU plugin, a run with two "
        "inferences minus a run with one (exact, identical across runs); *per MAC* divides by the model's MACs "
        f"(`inspect`). *est. ms*: instructions / {CLOCK_MHZ} MHz, **assuming 1 instruction per cycle** "
        "(an estimate, not a measurement: real cores stall on flash wait states and multi-cycle loads). *digits "
        "checked*: MNIST test digits run through the firmware in QEMU (all 10,000 with the core's own kernel set, "
        "the first 1,000 with the others); *differing*: those whose 10 int8 scores are not all identical to the "
        "tflite-micro interpreter's.",
        "",
        markdown_table(HEADERS, rows),
        "",
        *layer_table("mcu", "cortex-m4"),
        "",
        *layer_table("mcu", "cortex-m55"),
        "",
        fit_line("seed"),
        "",
    ]
