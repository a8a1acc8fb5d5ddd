"""What a model costs on a device: per layer/op parameters, MACs and weight bytes; in total the
parameters, MACs, flash (weight bytes) and the activation RAM a TFLite-Micro-style arena needs.

One module per format reads the model its own way (Keras layers, the TFLite flatbuffer through
LiteRT, the ONNX graph); the totals and the RAM estimate are computed here once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..common.errors import EdgemnistError
from ..common.files import require_file
from ..common.registry import Registry


@dataclass
class Layer:
    name: str
    type: str
    output_shape: list
    parameters: int = 0
    macs: int = 0
    weight_dtype: str | None = None
    weight_bytes: int = 0
    quantization: dict | None = None  # {"scale": [...], "zero_point": [...]} of the weights, if any


@dataclass
class Inspection:
    model: str
    format: str
    layers: list = field(default_factory=list)
    parameters: int = 0
    macs: int = 0
    flash_bytes: int = 0  # every constant (weights, biases, scales, shapes)
    activation_bytes: int = (
        0  # activations at batch 1: peak of those alive at once (TFLite: as TFLM's planner places them)
    )
    bookkeeping_bytes: int = 0  # TFLite: TFLM's own structs in the arena (a bound; see inspect/micro.py)
    arena_bytes: int = 0  # the arena to give the runtime: activations + bookkeeping
    arena_measured_bytes: int | None = None  # with measure=True: the smallest arena the real TFLM interpreter runs in
    file_bytes: int = 0
    notes: list = field(default_factory=list)
    not_costed: list = field(default_factory=list)  # "type name" of each op whose MACs the totals leave out
    arena_unchecked_ops: list = field(default_factory=list)  # TFLite: ops the arena bound is not verified on

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Tensor:
    """An activation in the graph, for the arena estimate: its size and the ops that make and use it."""

    bytes: int
    producer: int  # op position; -1 for the graph input
    last_use: int


INSPECTORS: Registry = Registry("inspectable format", package=__name__)


def peak_live_bytes(tensors: list[Tensor], op_count: int) -> int:
    """Largest sum of tensors alive at once while ops run in order (no in-place reuse assumed)."""
    peak = 0
    for position in range(op_count):
        live = sum(t.bytes for t in tensors if t.producer <= position <= t.last_use)
        peak = max(peak, live)
    return peak


def conv_macs(output_elements: int, kernel_h: int, kernel_w: int, input_channels_per_group: int) -> int:
    return int(output_elements) * int(kernel_h) * int(kernel_w) * int(input_channels_per_group)


def inspect_model(path, measure: bool = False) -> Inspection:
    """Inspect a .keras, .tflite or .onnx model (format chosen by content, as the predictor does);
    ``measure`` also finds the arena the real TFLite Micro interpreter needs (TFLite models only)."""
    from ..predict import detect_backend

    path = require_file(path, "model")
    inspection = INSPECTORS.get(detect_backend(path))(path)  # each maps only its reader's refusal to a bad file
    if inspection.not_costed:
        inspection.notes.append(
            f"not costed: {', '.join(inspection.not_costed)}; the totals count what could be costed"
        )
    inspection.parameters = sum(layer.parameters for layer in inspection.layers)
    inspection.macs = sum(layer.macs for layer in inspection.layers)
    inspection.arena_bytes = inspection.activation_bytes + inspection.bookkeeping_bytes
    inspection.file_bytes = path.stat().st_size
    if measure:
        if inspection.format != "tflite":
            raise EdgemnistError(f"{path}: --measure runs TensorFlow Lite Micro, which takes .tflite models only")
        from ..predict.tflm import measure_arena

        inspection.arena_measured_bytes = measure_arena(path)
    return inspection
