"""Why a converted model disagrees with its reference: per-layer quantization error and output-level analysis.

One module per runtime finds the per-layer error with the runtime's own tools (``tflite``: TensorFlow's
QuantizationDebugger; ``onnx``: onnxruntime's qdq_loss_debug); ``outputs`` compares the two models' answers on
the test set; ``report`` renders the one ``Explanation`` as text, JSON, Markdown and PNGs.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .outputs import OutputAnalysis

# The suspect rule. An int8 tensor that uses its range well has an SQNR of 30–45 dB (≈ 6 dB per bit of the
# 8, less the headroom of outliers); exact ops (pooling, reshapes) are far above. A layer is the suspect when
# it falls below FLOOR_DB — about 2½ effective bits, where top-1 answers start to flip — *and* at least JUMP_DB
# (≈ 1.7 bits) below the median of the layers before it, so a layer no worse than those feeding it is not
# blamed for their error (that matters for ONNX, whose error is cumulative). The first layer meeting both is named.
FLOOR_DB = 15.0
JUMP_DB = 10.0
SQNR_CAP_DB = 100.0  # exact copies (noise 0) are shown as this, JSON has no infinity


@dataclass
class LayerError:
    layer: str  # the layer's name as in the model (Keras layer / ONNX node); the tensor name when unmatched
    tensor: str
    op: str
    sqnr_db: float | None
    rmse_steps: float | None  # RMSE in units of the tensor's quantization step
    scale: float | None
    zero_point: int | None
    float_min: float | None = None
    float_max: float | None = None
    zero_share: float | None = None  # share of the values quantized to the zero point (i.e. to 0.0)
    weight_scale_max: float | None = None  # largest per-channel weight scale
    weight_abs_median: float | None = None  # median |float weight|
    weight_zero_share: float | None = None  # share of the weights quantized to 0
    matched: bool = True


@dataclass
class LayerAnalysis:
    method: str
    images: int
    layers: list = field(default_factory=list)
    notes: list = field(default_factory=list)


@dataclass
class Explanation:
    reference: str
    candidate: str
    images: int
    comparison: dict  # a parity.Comparison without its disagreement list
    outputs: OutputAnalysis
    layers: LayerAnalysis | None  # None when the layers could not be matched
    suspect: str | None
    reason: str | None
    notes: list = field(default_factory=list)
    files: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def sqnr_db(signal_power: float, noise_power: float) -> float:
    import math

    if noise_power <= 0:
        return SQNR_CAP_DB
    if signal_power <= 0:
        return 0.0
    return round(min(SQNR_CAP_DB, 10 * math.log10(signal_power / noise_power)), 2)


def find_suspect(layers: list[LayerError]) -> LayerError | None:
    """The first layer whose SQNR is below FLOOR_DB and JUMP_DB below the median of the layers before it."""
    before: list[float] = []
    for layer in layers:
        if layer.sqnr_db is None:
            continue
        baseline = statistics.median(before) if before else SQNR_CAP_DB
        if layer.sqnr_db < FLOOR_DB and baseline - layer.sqnr_db > JUMP_DB:
            return layer
        before.append(layer.sqnr_db)
    return None


def reason_for(layer: LayerError) -> str:
    """One sentence on why ``layer``'s quantization loses the signal, from its weights and its output."""
    parts = [f"SQNR {layer.sqnr_db:.1f} dB (RMSE {layer.rmse_steps:.1f} quantization steps)"]
    if layer.weight_zero_share is not None and layer.weight_zero_share > 0.5:
        parts.append(
            f"weight scale up to {layer.weight_scale_max:.3g} where the median |weight| is "
            f"{layer.weight_abs_median:.2g}: "
            f"{layer.weight_zero_share:.1%} of the weights round to 0"
        )
    if layer.scale is not None and layer.float_min is not None and layer.float_max is not None:
        span = max(abs(layer.float_min), abs(layer.float_max))
        parts.append(
            f"output scale {layer.scale:.3g} where the float range is ±{span:.3g}"
            + (f": {layer.zero_share:.0%} of values round to 0" if layer.zero_share is not None else "")
        )
    return "; ".join(parts)
