"""The compiler's entry: an int8 TFLite file in, a C library out, through three passes kept apart
(``ops``: typed ops; ``plan``: the memory plan; ``emit``: the C text)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from ..common.files import ensure_dir, require_file, write_text
from ..contract import input_lookup_table
from ..metadata import read_tflite_metadata
from ..predict.base import TensorSpec, inferred_contract
from .emit import header, source_file
from .fusion import fuse
from .graph import RawOp, Tensor, TFLiteModel, read_model
from .ops import OPS, Op, Unsupported
from .plan import MemoryPlan, plan_memory

KERNEL_FILES = ("portable.h", "portable.c", "dsp.h", "helium.h")
DIGIT_PIXELS = 784


@dataclass
class CompiledModel:
    """The generated library (file name -> text) and what the compiler decided."""

    name: str
    files: dict[str, str]
    ops: list[Op]
    plan: MemoryPlan
    folded: list[str]  # ops computed at compile time (the shape arithmetic feeding a RESHAPE)
    model_input: Tensor
    model_output: Tensor
    input_table: np.ndarray  # the int8 input for each pixel value 0..255, as the C quantizes pixels

    @property
    def ends_in_softmax(self) -> bool:
        return self.ops[-1].kind == "SOFTMAX"

    @property
    def sources(self) -> list[str]:
        return [f for f in self.files if f.endswith(".c")]

    def write(self, out_dir) -> list[Path]:
        folder = ensure_dir(out_dir)
        return [write_text(folder / file, text) for file, text in self.files.items()]

    def report(self) -> str:
        layers = "\n".join(f"  {op.name:24} {op.kind:20} {op.describe()}" for op in self.ops)
        folded = f"\n  folded at compile time: {', '.join(self.folded)}" if self.folded else ""
        return f"{self.name}: {len(self.ops)} ops{folded}\n{layers}\n  {self.plan.describe()}"


def compile_model(tflite_path, out_dir=None, name: str | None = None, input_table=None) -> CompiledModel:
    """Compile an int8 TFLite model to C; write the files into ``out_dir`` when given. An op, dtype or
    option without an exact kernel is one line (EdgemnistError) naming it. ``input_table`` (the int8 input
    for each pixel value) defaults to the model's own contract, as the Predictor applies it."""
    path = require_file(tflite_path, "model")
    content = path.read_bytes()
    if content[4:8] != b"TFL3":  # the flatbuffer file identifier: an ONNX or Keras file is the user's mix-up
        raise EdgemnistError(
            f"{path} is not a TFLite model: compile takes an int8 .tflite (edgemnist export MODEL.keras --quantize)"
        )
    name = name or c_identifier(path.stem)
    try:
        compiled = compile_bytes(content, str(path), name, input_table)
    except Unsupported as exc:
        raise EdgemnistError(f"{path}: {exc}") from None
    if out_dir is not None:
        compiled.write(out_dir)
    return compiled


def compile_bytes(content: bytes, source: str, name: str, input_table=None) -> CompiledModel:
    model = read_model(content, source)
    model_input, model_output = single_digit_tensors(model, source)
    live, folded = live_ops(model)
    ops = fuse(typed_ops(live))
    plan = plan_memory(ops, model_input, model_output)
    table = input_lookup_table(model_contract(content, model)) if input_table is None else input_table
    files = {
        f"{name}.h": header(name, Path(source).name, plan, model_input.size, model_output.size, output_note(model)),
        f"{name}.c": source_file(name, ops, plan, table, model_output.index),
        **{file: bundled_text("kernels", file) for file in KERNEL_FILES},
    }
    return CompiledModel(name, files, ops, plan, folded, model_input, model_output, np.asarray(table, np.int8))


def c_identifier(stem: str) -> str:
    name = re.sub(r"\W", "_", stem)
    return name if re.match(r"[A-Za-z_]", name) else f"model_{name}"


def single_digit_tensors(model: TFLiteModel, source: str) -> tuple[Tensor, Tensor]:
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise EdgemnistError(f"{source}: the C compiler takes a model with one input and one output")
    model_input, model_output = model.inputs[0], model.outputs[0]
    if model_input.dtype != "int8" or model_input.size != DIGIT_PIXELS:
        raise EdgemnistError(
            f"{source}: the C compiler takes an int8 input of {DIGIT_PIXELS} values "
            f"(this one is {model_input.dtype} {list(model_input.shape)}); export the model with int8 quantization"
        )
    if model_output.dtype != "int8":
        raise EdgemnistError(f"{source}: the C compiler takes an int8 output (this one is {model_output.dtype})")
    return model_input, model_output


def live_ops(model: TFLiteModel) -> tuple[list[RawOp], list[str]]:
    """The ops the output depends on, in order. A RESHAPE takes its shape from its output tensor, so the
    ops that compute its shape input (SHAPE, STRIDED_SLICE, PACK in a Keras Flatten) are not needed."""
    needed = {model.outputs[0].index}
    live: list[RawOp] = []
    for op in reversed(model.ops):
        if any(t.index in needed for t in op.outputs):
            live.append(op)
            reads = op.inputs[:1] if op.name == "RESHAPE" else op.inputs
            needed.update(t.index for t in reads if t is not None and t.data is None)
    folded = [op.name for op in model.ops if op not in live]
    return live[::-1], folded


def typed_ops(live: list[RawOp]) -> list[Op]:
    counts: Counter = Counter()
    ops = []
    for raw in live:
        cls = OPS.get(raw.name)
        if cls is None:
            raise Unsupported(f"the C compiler does not support op {raw.name} (it compiles {', '.join(OPS)})")
        base = (cls.kernel or f"em_{raw.name.lower()}").removeprefix("em_")
        counts[base] += 1
        ops.append(cls(f"{base}_{counts[base]}", raw))
    return ops


def model_contract(content: bytes, model: TFLiteModel):
    """The input contract the Predictor applies to this file (its tensors and embedded metadata)."""
    source, target = model.inputs[0], model.outputs[0]
    spec = TensorSpec(
        input_shape=source.shape,
        input_dtype=source.dtype,
        input_quant=(source.scale, source.zero_point),
        output_dtype=target.dtype,
        output_quant=(target.scale, target.zero_point),
    )
    return inferred_contract(spec, read_tflite_metadata(content))


def output_note(model: TFLiteModel) -> str:
    target = model.outputs[0]
    return f"a score s stands for {target.scale:.9g} * (s - ({target.zero_point}))"


def bundled_text(folder: str, file: str) -> str:
    """A C file shipped in this package: the kernels, the harness."""
    return resources.files(__package__).joinpath(folder).joinpath(file).read_text()
