import numpy as np
import pytest

from edgemnist.common.errors import EdgemnistError
from edgemnist.contract import (
    Codec,
    InputContract,
    as_digit_batch,
    dequantize,
    input_lookup_table,
    quantize,
    to_float01,
)

DIGITS = np.resize(np.arange(256, dtype=np.uint8), (3, 28, 28))


def test_training_contract_is_float_in_unit_range():
    x = to_float01(DIGITS)
    assert x.shape == (3, 28, 28, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0


@pytest.mark.parametrize("images", [DIGITS[0], DIGITS, DIGITS[..., None]])
def test_digit_batches_accept_the_usual_shapes(images):
    assert as_digit_batch(images).shape[1:] == (28, 28)


@pytest.mark.parametrize(
    "images", [np.zeros((28, 27), np.uint8), np.zeros((2, 28, 28), np.float32), np.zeros(5, np.uint8)]
)
def test_wrong_digits_are_refused_clearly(images):
    with pytest.raises(EdgemnistError, match="expected"):
        as_digit_batch(images)


@pytest.mark.parametrize(
    "contract",
    [
        InputContract(),
        InputContract(input_scale=255.0),
        InputContract(mean=0.1307, std=0.3081, layout="NCHW"),
        InputContract(dtype="int8", quant_scale=1 / 255, quant_zero_point=-128),
        InputContract(dtype="uint8", quant_scale=1 / 255, quant_zero_point=0, layout="flat"),
        InputContract(dtype="int8", quant_scale=0.0123, quant_zero_point=-7, layout="NHW"),
    ],
)
def test_encoding_matches_the_formula(contract):
    expected = (DIGITS.astype(np.float64) / 255 * contract.input_scale - contract.mean) / contract.std
    if contract.dtype != "float32":
        expected = quantize(expected, contract.quant_scale, contract.quant_zero_point, contract.dtype)
    codec = Codec(contract)
    encoded = codec.encode(DIGITS)
    assert encoded.dtype == np.dtype(contract.dtype)
    assert np.allclose(encoded.reshape(3, 28, 28), expected, atol=1e-6)
    buffer = np.empty((3, 28, 28), contract.dtype)
    codec.writer(buffer)(DIGITS)
    assert np.array_equal(buffer, encoded.reshape(3, 28, 28))  # the hot path writes the same values


def test_quantize_round_trips_within_half_a_step():
    values = np.linspace(0, 1, 101)
    q = quantize(values, 1 / 255, -128, "int8")
    assert (
        np.max(np.abs(dequantize(q, 1 / 255, -128) - values)) <= 0.5 / 255 + 1e-6
    )  # half a step, plus float32 rounding
    assert input_lookup_table(InputContract(dtype="int8", quant_scale=1 / 255, quant_zero_point=-128))[255] == 127


def test_logits_become_probabilities_and_quantized_outputs_are_dequantized():
    logits = np.array([[2.0, 1.0, 0.1] + [0.0] * 7], np.float32)
    probs = Codec(InputContract(output="logits")).decode(logits)
    assert np.isclose(probs.sum(), 1.0) and probs.argmax() == 0
    quantized = np.array([[-128, 127] + [-128] * 8], np.int8)
    codec = Codec(InputContract(output_dtype="int8", output_quant_scale=1 / 256, output_quant_zero_point=-128))
    assert np.allclose(codec.decode(quantized)[0, :2], [0.0, 255 / 256])


def test_unknown_layout_is_refused():
    with pytest.raises(EdgemnistError, match="layout"):
        InputContract(layout="NWHC")
