"""The int8 arithmetic the compiler does ahead of time, in Python integers, so the C does none of it.

TFLite's int8 spec turns every real-valued rescale into a 31-bit fixed-point multiplier and a power-of-two
shift; softmax's exponential is fixed-point arithmetic on an int8 difference, so it is a 256-entry table.
Written from the spec's arithmetic; the tests hold the result to the tflite-micro interpreter bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -128, 127


def round_half_away(value: float) -> int:
    """C's ``round``: halves go away from zero (Python's ``round`` goes to even)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """``real`` as ``multiplier * 2^(shift - 31)`` with a multiplier in [2^30, 2^31): (multiplier, shift)."""
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)
    fixed = round_half_away(fraction * 2**31)
    if fixed == 2**31:  # the fraction rounded up to 1.0
        fixed //= 2
        shift += 1
    if shift < -31:  # too small to represent: the product is 0
        return 0, 0
    return fixed, shift


def rounding_doubling_high_mul(a: int, b: int) -> int:
    """The high 32 bits of 2·a·b, rounded to nearest (halves away from zero), saturating the one overflow."""
    if a == b == INT32_MIN:
        return INT32_MAX
    product = a * b
    nudge = (1 << 30) if product >= 0 else 1 - (1 << 30)
    total = product + nudge
    return int(abs(total) >> 31) * (1 if total >= 0 else -1)  # C's division truncates toward zero


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """x / 2^exponent rounded to nearest, halves away from zero."""
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def saturating_left_shift(x: int, exponent: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, x << exponent))


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    return rounding_divide_by_pot(rounding_doubling_high_mul(x * (1 << left), multiplier), right)


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """The int8 interval a fused activation clamps to, in the output's quantization."""

    def quantized(real: float) -> int:
        return zero_point + round_half_away(float(np.float32(real) / np.float32(scale)))

    low, high = {
        "NONE": (INT8_MIN, INT8_MAX),
        "RELU": (quantized(0.0), INT8_MAX),
        "RELU6": (quantized(0.0), quantized(6.0)),
        "RELU_N1_TO_1": (quantized(-1.0), quantized(1.0)),
    }[activation]
    return max(INT8_MIN, low), min(INT8_MAX, high)


# -- softmax: gemmlowp-style fixed point, as the int8 spec's softmax computes it --------------------------
SOFTMAX_DIFF_INTEGER_BITS = 5  # the scaled difference x - max is a Q5.26 number


def fixed_exp_constant(x: float) -> int:
    """exp(-x) as a Q0.31 number."""
    return round_half_away(math.exp(-x) * 2**31)


def exp_on_quarter_interval(a: int) -> int:
    """exp(a) for a Q0.31 ``a`` in [-1/4, 0): a Taylor polynomial around -1/8."""
    exp_minus_one_eighth = fixed_exp_constant(0.125)
    one_third = round_half_away(2**31 / 3)
    x = a + (1 << 28)  # a + 1/8
    x2 = rounding_doubling_high_mul(x, x)
    x3 = rounding_doubling_high_mul(x2, x)
    x4 = rounding_doubling_high_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    tail = rounding_divide_by_pot(rounding_doubling_high_mul(x4_over_4 + x3, one_third) + x2, 1)
    return exp_minus_one_eighth + rounding_doubling_high_mul(exp_minus_one_eighth, x + tail)


def exp_on_negative_values(a: int, integer_bits: int = SOFTMAX_DIFF_INTEGER_BITS) -> int:
    """exp(a) as Q0.31 for a Q(integer_bits).(31-integer_bits) ``a`` <= 0: the polynomial on the last
    quarter, times exp(-2^k) for each bit k of the rest."""
    fractional_bits = 31 - integer_bits
    one_quarter = 1 << (fractional_bits - 2)
    in_last_quarter = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_quarter_interval(saturating_left_shift(in_last_quarter, integer_bits))
    remainder = in_last_quarter - a
    for k in range(-2, integer_bits):
        if remainder & (1 << (fractional_bits + k)):
            result = rounding_doubling_high_mul(result, fixed_exp_constant(2.0**k))
    return INT32_MAX if a == 0 else result


def softmax_exp_table(beta: float, input_scale: float) -> np.ndarray:
    """exp(beta·scale·(x - max)) in Q0.31 for each distance max - x in 0..255; 0 beyond the radius the
    fixed point can hold (those classes get the lowest score)."""
    real = min(beta * input_scale * (1 << (31 - SOFTMAX_DIFF_INTEGER_BITS)), 2.0**31 - 1.0)
    multiplier, left_shift = quantize_multiplier(real)
    radius = math.floor((2**SOFTMAX_DIFF_INTEGER_BITS - 1) * 2.0 ** (31 - SOFTMAX_DIFF_INTEGER_BITS) / 2.0**left_shift)
    table = np.zeros(256, np.int32)
    for distance in range(256):
        if -distance >= -radius:
            scaled = rounding_doubling_high_mul(-distance * (1 << left_shift), multiplier)
            table[distance] = exp_on_negative_values(scaled)
    return table
