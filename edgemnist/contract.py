"""The input contract: the only place the pixel and quantization arithmetic lives.

Every component speaks uint8 28×28 digits (MNIST's own form). A model may want them as floats in
[0, 1] or [0, 255], normalized, in NHWC/NCHW/no-channel/flat layout, or quantized to int8/uint8 with
its own scale and zero-point; it may answer probabilities or logits, possibly quantized. This module
turns digits into any such input and any such output into probabilities.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .common.errors import EdgemnistError

SIDE = 28
DIGIT_SHAPE = (SIDE, SIDE)
LABELS = tuple(str(d) for d in range(10))
LAYOUT_SHAPES = {"NHWC": (SIDE, SIDE, 1), "NCHW": (1, SIDE, SIDE), "NHW": (SIDE, SIDE), "flat": (SIDE * SIDE,)}
INTEGER_DTYPES = ("int8", "uint8")


def as_digit_batch(images) -> np.ndarray:
    """Accept one digit (28×28) or a batch (N×28×28, N×28×28×1) of uint8 pixels; return N×28×28 uint8."""
    array = np.asarray(images)
    shape = array.shape
    if len(shape) == 4 and shape[-1] == 1:
        array = array[..., 0]
    elif len(shape) == 2:
        array = array[None]
    if array.shape[1:] != DIGIT_SHAPE or array.ndim != 3:
        raise EdgemnistError(f"expected 28×28 digits (28×28 or N×28×28 uint8), got shape {shape}")
    if array.dtype.char != "B":  # uint8
        raise EdgemnistError(f"expected uint8 pixels 0..255, got dtype {array.dtype}")
    return array


def to_float01(images) -> np.ndarray:
    """uint8 digits → float32 N×28×28×1 in [0, 1]: what the Keras models are trained on."""
    return (as_digit_batch(images).astype(np.float32) / np.float32(255.0))[..., None]


def quantize(values: np.ndarray, scale: float, zero_point: int, dtype: str) -> np.ndarray:
    """Affine quantization as TFLite and ONNX define it: q = clip(round(x / scale) + zero_point)."""
    info = np.iinfo(dtype)
    q = np.round(np.asarray(values, dtype=np.float64) / scale) + zero_point
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((np.asarray(values, dtype=np.float64) - zero_point) * scale).astype(np.float32)


@dataclass(frozen=True)
class InputContract:
    """What a model expects and returns, in terms of uint8 digits and probabilities."""

    layout: str = "NHWC"
    input_scale: float = 1.0  # the model's float input range is [0, input_scale] before normalization
    mean: float = 0.0
    std: float = 1.0
    dtype: str = "float32"
    quant_scale: float = 0.0  # input quantization, for int8/uint8 inputs
    quant_zero_point: int = 0
    output: str = "probabilities"  # or "logits"
    output_dtype: str = "float32"
    output_quant_scale: float = 0.0
    output_quant_zero_point: int = 0
    labels: tuple = LABELS

    def __post_init__(self):
        if self.layout not in LAYOUT_SHAPES:
            raise EdgemnistError(f"unknown input layout {self.layout!r}; known: {', '.join(LAYOUT_SHAPES)}")
        if self.dtype in INTEGER_DTYPES and not self.quant_scale:
            raise EdgemnistError(f"a {self.dtype} input needs a quantization scale")

    @property
    def output_step(self) -> float | None:
        """One quantization step of an integer output, in its float units; None for a float output. The one
        place that decides whether an output is quantized."""
        return self.output_quant_scale if self.output_dtype in INTEGER_DTYPES else None

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "labels": list(self.labels)}

    @classmethod
    def from_dict(cls, data: dict) -> InputContract:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "labels" in values:
            values["labels"] = tuple(values["labels"])
        return cls(**values)

    def with_overrides(self, input_scale: float | None = None, normalize: tuple | None = None) -> InputContract:
        """Apply the user's --input-scale / --normalize where the model could not tell."""
        changes: dict = {}
        if input_scale is not None:
            changes["input_scale"] = float(input_scale)
        if normalize is not None:
            changes["mean"], changes["std"] = (float(v) for v in normalize)
        return dataclasses.replace(self, **changes)


def input_lookup_table(contract: InputContract) -> np.ndarray:
    """The model input value for each of the 256 pixel values: encoding a batch is one ``np.take``."""
    floats = np.arange(256, dtype=np.float64) / 255.0 * contract.input_scale
    floats = (floats - contract.mean) / contract.std
    if contract.dtype in INTEGER_DTYPES:
        return quantize(floats, contract.quant_scale, contract.quant_zero_point, contract.dtype)
    return floats.astype(contract.dtype)


def output_lookup_table(contract: InputContract) -> np.ndarray | None:
    """Dequantized value for each raw int8/uint8 output byte, ordered so negative int8 indices wrap."""
    if contract.output_dtype not in INTEGER_DTYPES:
        return None
    raw = np.arange(256).astype(np.uint8).view(contract.output_dtype)
    return dequantize(raw, contract.output_quant_scale, contract.output_quant_zero_point)


def integer_shift(table: np.ndarray):
    """k when an integer input table is pixel + k with wrap-around (int8 with scale 1/255 and
    zero-point -128 is pixel - 128); then encoding is one wrapping add instead of a table lookup."""
    if table.dtype.kind not in "iu":
        return None
    shift = (int(table.view(np.uint8)[0]) + 128) % 256 - 128 if table.dtype == np.int8 else int(table[0])
    expected = (np.arange(256) + shift) % 256
    return table.dtype.type(shift) if np.array_equal(table.view(np.uint8), expected) else None


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


class Codec:
    """A contract compiled into lookup tables, so the hot path is a couple of numpy calls."""

    def __init__(self, contract: InputContract):
        self.contract = contract
        self.input_table = input_lookup_table(contract)
        self.input_shift = integer_shift(self.input_table)
        self.byte_shift = None if self.input_shift is None else np.uint8(int(self.input_shift) % 256)
        self.output_table = output_lookup_table(contract)
        self.sample_shape = LAYOUT_SHAPES[contract.layout]
        self.is_logits = contract.output == "logits"

    def encode(self, digits: np.ndarray) -> np.ndarray:
        """N×28×28 uint8 → the model's input tensor (``ndarray.take``: the cheapest lookup numpy has)."""
        if self.input_shift is not None:
            encoded = np.add(digits.view(self.input_table.dtype), self.input_shift)
        else:
            encoded = self.input_table.take(digits)
        return encoded.reshape((digits.shape[0],) + self.sample_shape)

    def input_view(self, buffer: np.ndarray) -> np.ndarray:
        """``buffer`` (a model input of N digits) as the N×28×28 array ``encode_into`` fills: its raw bytes
        when encoding is a wrapping add, so that add is one uint8 ``np.add``."""
        view = buffer.reshape(buffer.shape[0], SIDE, SIDE)
        return view.view(np.uint8) if self.byte_shift is not None else view

    def encode_into(self, digits: np.ndarray, view: np.ndarray) -> None:
        """N×28×28 uint8 → the model's input, written into ``view`` (from ``input_view``) with no allocation."""
        if self.byte_shift is not None:
            np.add(digits, self.byte_shift, out=view)
        else:
            self.input_table.take(digits, out=view)

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """The model's raw output → N×10 float32 probabilities (always a fresh array)."""
        if raw.ndim != 2:
            raw = raw.reshape(raw.shape[0], -1)
        if self.output_table is not None:
            values = self.output_table.take(raw)
        else:
            values = raw.astype(np.float32)
        return softmax(values) if self.is_logits else values
