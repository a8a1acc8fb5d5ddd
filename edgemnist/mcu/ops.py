"""Pass 1 of the compiler: the TFLite ops as typed ops, one small class each.

Each op checks that its tensors and options are ones its kernel computes exactly (anything else is one
line naming it, never wrong code), and knows its shapes, its constants (computed here, ahead of time)
and the kernel it calls with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..common.errors import EdgemnistError
from ..tflite_graph import tflite_schema
from .graph import RawOp, Tensor
from .quantization import activation_range, quantize_multiplier, softmax_exp_table

SUB_HEADROOM_BITS = 20  # both operands of an int8 SUB are rescaled with 20 bits of headroom
# A convolution's scratch (portable.c, scratch_parts): per group of four filter values, eight positions'
# patches widened to 16 bits (64 B) and one gathered row (4 B)
CONV_SCRATCH_BYTES_PER_GROUP = 68


class Unsupported(EdgemnistError):
    """An op, dtype or option the compiler has no exact kernel for."""


@dataclass
class CArray:
    """A constant array an op's kernel reads: named ``<layer>_<suffix>`` in the generated C."""

    suffix: str
    ctype: str
    values: np.ndarray
    meaning: str


class Op:
    """One layer: activation tensors in, one out, a kernel and the constants it needs."""

    kind: ClassVar[str]  # the TFLite op it compiles
    kernel: ClassVar[str] = ""  # the C function; "" when the op is a view of its input (no code)

    def __init__(self, name: str, raw: RawOp):
        self.name = name
        self.raw = raw
        self.sources: list[Tensor] = [raw.inputs[0]]
        self.result: Tensor = raw.outputs[0]
        require_int8(self, [*self.sources, self.result])

    def arrays(self) -> list[CArray]:
        return []

    def fields(self) -> dict:
        """The kernel's parameter struct: a value, or a string naming one of ``arrays()`` by suffix."""
        return {}

    def scratch_bytes(self) -> int:
        """Working memory its kernel needs during the call, planned in the arena (0: none, no argument)."""
        return 0

    def describe(self) -> str:
        return f"{shape_text(self.sources[0])} -> {shape_text(self.result)}"


OPS: dict[str, type[Op]] = {}


def op_class(cls: type[Op]) -> type[Op]:
    OPS[cls.kind] = cls
    return cls


def unsupported(op: Op | RawOp, what: str) -> Unsupported:
    kind = op.kind if isinstance(op, Op) else op.name
    return Unsupported(f"the C compiler does not support {kind} with {what}")


def require_int8(op: Op, tensors: list[Tensor]) -> None:
    for tensor in tensors:
        if tensor.dtype != "int8":
            raise unsupported(op, f"a {tensor.dtype} tensor ({tensor.name}); it compiles int8 models")
        if len(tensor.scales) != 1:
            raise unsupported(op, f"per-channel quantized activations ({tensor.name})")


def shape_text(tensor: Tensor) -> str:
    return "x".join(str(d) for d in tensor.shape[1:]) or "1"


def enum_name(enum, value: int) -> str:
    return next(name for name, code in vars(enum).items() if not name.startswith("_") and code == value)


def fused_activation(op: Op, options) -> tuple[int, int]:
    activation = enum_name(tflite_schema().ActivationFunctionType, options.fusedActivationFunction)
    if activation not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise unsupported(op, f"fused activation {activation}")
    return activation_range(activation, op.result.scale, op.result.zero_point)


def same_padding(op: Op, options, in_size: int, out_size: int, stride: int, extent: int) -> int:
    """Rows (or columns) of padding before the image; checks the output size the file states."""
    padding = enum_name(tflite_schema().Padding, options.padding)
    expected = -(-in_size // stride) if padding == "SAME" else (in_size - extent) // stride + 1
    if out_size != expected:
        raise unsupported(op, f"{padding} padding giving {out_size} where {expected} was computed")
    return max(0, (out_size - 1) * stride + extent - in_size) // 2 if padding == "SAME" else 0


def per_channel_requantization(op: Op, weights: Tensor, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """(multiplier, shift) per output channel for input_scale * weight_scale / output_scale."""
    if np.any(weights.zero_points != 0):
        raise unsupported(op, "asymmetric (zero point != 0) weights")
    if weights.per_channel and weights.channel_axis != 0:
        raise unsupported(op, f"weights quantized along axis {weights.channel_axis}")
    scales = np.broadcast_to(weights.scales, (channels,)).astype(np.float64)
    pairs = [quantize_multiplier(float(op.sources[0].scale) * s / float(op.result.scale)) for s in scales]
    return np.array([m for m, _ in pairs], np.int32), np.array([s for _, s in pairs], np.int32)


def folded_bias(op: Op, weights: Tensor, bias: Tensor | None) -> np.ndarray:
    """bias - input_zero_point * sum(weights): the kernel then sums raw input times weights."""
    channels = weights.shape[0]
    if bias is not None and (bias.dtype != "int32" or bias.data is None):
        raise unsupported(op, f"a {bias.dtype} bias")
    raw_bias = np.zeros(channels, np.int64) if bias is None else bias.values.astype(np.int64)
    sums = weights.values.reshape(channels, -1).astype(np.int64).sum(axis=1)
    return (raw_bias - op.sources[0].zero_point * sums).astype(np.int32)


def weighted_arrays(weights: np.ndarray, meaning: str, bias: np.ndarray, multiplier, shift) -> list[CArray]:
    return [
        CArray("weights", "int8_t", weights, meaning),
        CArray("bias", "int32_t", bias, "bias with the input zero point folded in"),
        CArray("multiplier", "int32_t", multiplier, "requantization: input*weight/output scale, Q31 ..."),
        CArray("shift", "int32_t", shift, "... times 2^shift"),
    ]


@op_class
class Conv2D(Op):
    kind = "CONV_2D"
    kernel = "em_conv2d"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        source, self.weights = raw.inputs[0], raw.inputs[1]
        bias = raw.inputs[2] if len(raw.inputs) > 2 else None
        if self.weights.dtype != "int8" or self.weights.data is None or len(self.weights.shape) != 4:
            raise unsupported(self, "weights that are not constant int8 OHWI")
        if len(source.shape) != 4 or source.shape[0] != 1:
            raise unsupported(self, f"input shape {list(source.shape)} (batch 1 NHWC only)")
        o = raw.options
        _, self.in_h, self.in_w, in_c = source.shape
        out_c, self.filter_h, self.filter_w, weight_c = self.weights.shape
        if weight_c != in_c:
            raise unsupported(self, f"{in_c} input channels and filters of depth {weight_c} (grouped convolution)")
        _, out_h, out_w, _ = self.result.shape
        extent_h = (self.filter_h - 1) * o.dilationHFactor + 1
        extent_w = (self.filter_w - 1) * o.dilationWFactor + 1
        self.pad_top = same_padding(self, o, self.in_h, out_h, o.strideH, extent_h)
        self.pad_left = same_padding(self, o, self.in_w, out_w, o.strideW, extent_w)
        self.act_min, self.act_max = fused_activation(self, o)
        self.bias = folded_bias(self, self.weights, bias)
        self.multiplier, self.shift = per_channel_requantization(self, self.weights, out_c)

    @property
    def filter_groups(self) -> int:
        """Each filter's values in groups of four, as the kernels read them (zeros after the last value)."""
        return -(-int(np.prod(self.weights.shape[1:])) // 4)

    def padded_filters(self) -> np.ndarray:
        """The filters as the kernels read them: each padded with zeros to whole groups of four values, an
        odd last one beside a filter of zeros, then two by two interleaved group by group (portable.c,
        filter_of)."""
        rows = self.weights.values.reshape(self.weights.shape[0], -1)
        channels = rows.shape[0] + rows.shape[0] % 2
        padded = np.pad(rows, ((0, channels - rows.shape[0]), (0, 4 * self.filter_groups - rows.shape[1])))
        return padded.reshape(channels // 2, 2, self.filter_groups, 4).transpose(0, 2, 1, 3)

    def scratch_bytes(self) -> int:
        return CONV_SCRATCH_BYTES_PER_GROUP * self.filter_groups

    def arrays(self) -> list[CArray]:
        shape = "x".join(map(str, self.weights.shape))
        meaning = f"{shape} int8 weights, padded to {4 * self.filter_groups} values, pairs interleaved by 4"
        addend = CArray("addend", "int32_t", self.small_sum_addends(), "... rounding and output zero point, or 0")
        return [*weighted_arrays(self.padded_filters(), meaning, self.bias, self.multiplier, self.shift), addend]

    def fields(self) -> dict:
        o = self.raw.options
        _, out_h, out_w, out_c = self.result.shape
        return dict(
            in_h=self.in_h, in_w=self.in_w, in_c=self.sources[0].shape[3], out_h=out_h, out_w=out_w, out_c=out_c,
            filter_h=self.filter_h, filter_w=self.filter_w, stride_h=o.strideH, stride_w=o.strideW,
            dilation_h=o.dilationHFactor, dilation_w=o.dilationWFactor, pad_top=self.pad_top,
            pad_left=self.pad_left, pad_value=self.sources[0].zero_point,
            output_zero_point=self.result.zero_point, act_min=self.act_min, act_max=self.act_max,
            weights="weights", bias="bias", multiplier="multiplier", shift="shift", addend="addend",
        )  # fmt: skip

    def small_sum_addends(self) -> np.ndarray:
        """Per channel, 2^(r-1) + output_zero_point * 2^r for r = -shift where the kernel's one-multiply
        requantization is exact (every sum within +-2^30, 1 <= r <= 23; portable.c, small_sum_value), else 0."""
        weights = np.abs(self.weights.values.reshape(self.weights.shape[0], -1).astype(np.int64))
        small = np.abs(self.bias.astype(np.int64)) + 128 * weights.sum(axis=1) < 2**30
        right = -self.shift.astype(np.int64)
        usable = small & (right >= 1) & (right <= 23)
        addends = (1 << np.clip(right - 1, 0, 22)) + self.result.zero_point * (1 << np.clip(right, 0, 23))
        return np.where(usable, addends, 0).astype(np.int32)

    def describe(self) -> str:
        return f"{super().describe()}, {self.filter_h}x{self.filter_w} filters, clamp [{self.act_min}, {self.act_max}]"


@op_class
class MaxPool2D(Op):
    kind = "MAX_POOL_2D"
    kernel = "em_max_pool2d"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        source, o = self.sources[0], raw.options
        if (source.scale, source.zero_point) != (self.result.scale, self.result.zero_point):
            raise unsupported(self, "different input and output quantization")
        if len(source.shape) != 4 or source.shape[0] != 1:
            raise unsupported(self, f"input shape {list(source.shape)} (batch 1 NHWC only)")
        self.pad_top = same_padding(self, o, source.shape[1], self.result.shape[1], o.strideH, o.filterHeight)
        self.pad_left = same_padding(self, o, source.shape[2], self.result.shape[2], o.strideW, o.filterWidth)
        self.act_min, self.act_max = fused_activation(self, o)

    def fields(self) -> dict:
        o = self.raw.options
        _, in_h, in_w, channels = self.sources[0].shape
        return dict(
            in_h=in_h, in_w=in_w, channels=channels, out_h=self.result.shape[1], out_w=self.result.shape[2],
            filter_h=o.filterHeight, filter_w=o.filterWidth, stride_h=o.strideH, stride_w=o.strideW,
            pad_top=self.pad_top, pad_left=self.pad_left, act_min=self.act_min, act_max=self.act_max,
        )  # fmt: skip


@op_class
class Mean(Op):
    """The mean over height and width (global average pooling, or a digit's mean brightness)."""

    kind = "MEAN"
    kernel = "em_mean"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        source, axes = self.sources[0], raw.inputs[1]
        if axes.data is None or len(source.shape) != 4:
            raise unsupported(self, "axes computed at run time or an input that is not 4-D")
        if sorted(int(a) % 4 for a in axes.data.ravel()) != [1, 2]:
            raise unsupported(self, f"axes {axes.data.ravel().tolist()} (height and width only)")
        if (source.scale, source.zero_point) == (self.result.scale, self.result.zero_point):
            raise unsupported(self, "equal input and output quantization")
        self.positions = source.shape[1] * source.shape[2]
        multiplier, shift = quantize_multiplier(float(source.scale) / float(self.result.scale))
        # 1/positions goes into the multiplier: as many extra bits as it has, within what the shift allows.
        extra = min(self.positions.bit_length() - 1, 32, 31 + shift)
        self.multiplier, self.shift = (multiplier << extra) // self.positions, shift - extra

    def fields(self) -> dict:
        return dict(
            positions=self.positions, channels=self.sources[0].shape[3],
            bias=-self.sources[0].zero_point * self.positions, multiplier=self.multiplier, shift=self.shift,
            output_zero_point=self.result.zero_point,
        )  # fmt: skip


@op_class
class Sub(Op):
    kind = "SUB"
    kernel = "em_sub"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        a, b = raw.inputs[0], raw.inputs[1]
        self.sources = [a, b]
        require_int8(self, [b])
        if a.size != self.result.size or b.size not in (1, a.size):
            raise unsupported(self, f"shapes {list(a.shape)} and {list(b.shape)} (equal, or one value only)")
        twice_larger = 2 * max(float(a.scale), float(b.scale))
        self.a_requant = quantize_multiplier(float(a.scale) / twice_larger)
        self.b_requant = quantize_multiplier(float(b.scale) / twice_larger)
        self.out_requant = quantize_multiplier(twice_larger / ((1 << SUB_HEADROOM_BITS) * float(self.result.scale)))
        self.act_min, self.act_max = fused_activation(self, raw.options)

    def fields(self) -> dict:
        a, b = self.sources
        return dict(
            size=a.size, b_step=0 if b.size == 1 else 1, a_offset=-a.zero_point, b_offset=-b.zero_point,
            left_shift=SUB_HEADROOM_BITS, a_multiplier=self.a_requant[0], a_shift=self.a_requant[1],
            b_multiplier=self.b_requant[0], b_shift=self.b_requant[1], out_multiplier=self.out_requant[0],
            out_shift=self.out_requant[1], output_zero_point=self.result.zero_point, act_min=self.act_min,
            act_max=self.act_max,
        )  # fmt: skip

    def describe(self) -> str:
        return f"{shape_text(self.sources[0])} - {shape_text(self.sources[1])}"


@op_class
class FullyConnected(Op):
    kind = "FULLY_CONNECTED"
    kernel = "em_fully_connected"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        self.weights = raw.inputs[1]
        bias = raw.inputs[2] if len(raw.inputs) > 2 else None
        if self.weights.dtype != "int8" or self.weights.data is None or len(self.weights.shape) != 2:
            raise unsupported(self, "weights that are not constant int8 (outputs x inputs)")
        if raw.options.weightsFormat != 0:
            raise unsupported(self, "shuffled weights")
        if self.sources[0].size != self.weights.shape[1]:
            raise unsupported(self, f"an input of {self.sources[0].size} values (batch 1 only)")
        self.act_min, self.act_max = fused_activation(self, raw.options)
        self.bias = folded_bias(self, self.weights, bias)
        self.multiplier, self.shift = per_channel_requantization(self, self.weights, self.weights.shape[0])

    def arrays(self) -> list[CArray]:
        meaning = f"{'x'.join(map(str, self.weights.shape))} int8 weights"
        return weighted_arrays(self.weights.values, meaning, self.bias, self.multiplier, self.shift)

    def fields(self) -> dict:
        return dict(
            in_size=self.weights.shape[1], out_size=self.weights.shape[0],
            output_zero_point=self.result.zero_point, act_min=self.act_min, act_max=self.act_max,
            weights="weights", bias="bias", multiplier="multiplier", shift="shift",
        )  # fmt: skip


@op_class
class Softmax(Op):
    kind = "SOFTMAX"
    kernel = "em_softmax"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        if (float(self.result.scale), self.result.zero_point) != (1 / 256, -128):
            raise unsupported(self, "an output quantization other than scale 1/256, zero point -128")
        if self.sources[0].size != self.sources[0].shape[-1]:
            raise unsupported(self, f"input shape {list(self.sources[0].shape)} (one row only)")
        self.exp_table = softmax_exp_table(float(raw.options.beta), float(self.sources[0].scale))

    def arrays(self) -> list[CArray]:
        return [CArray("exp_table", "int32_t", self.exp_table, "exp(-beta*scale*d) in Q0.31 for d = max - x")]

    def fields(self) -> dict:
        return dict(size=self.sources[0].size, exp_table="exp_table")


@op_class
class Reshape(Op):
    """A view: the same bytes under another shape, so no code and no memory of its own."""

    kind = "RESHAPE"

    def __init__(self, name: str, raw: RawOp):
        super().__init__(name, raw)
        source = self.sources[0]
        if source.size != self.result.size or (source.scale, source.zero_point) != (
            self.result.scale,
            self.result.zero_point,
        ):
            raise unsupported(self, "a change of size or quantization")
