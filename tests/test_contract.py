import math

import numpy as np
import pytest

from edgemnist.common.errors import EdgemnistError
from edgemnist.contract import (
    LAYOUT_SHAPES,
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


def by_hand(contract: InputContract) -> np.ndarray:
    """The model input for each pixel value 0..255, from the formula in plain Python floats and round()
    (half to even, as TFLite's and ONNX's quantizers round), not from the contract module."""
    values = []
    for pixel in range(256):
        x = (pixel / 255 * contract.input_scale - contract.mean) / contract.std
        if contract.dtype in ("int8", "uint8"):
            low, high = (-128, 127) if contract.dtype == "int8" else (0, 255)
            x = min(max(round(x / contract.quant_scale) + contract.quant_zero_point, low), high)
        values.append(x)
    return np.array(values, np.float64)


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
    expected = by_hand(contract)[DIGITS]
    codec = Codec(contract)
    encoded = codec.encode(DIGITS)
    assert encoded.dtype == np.dtype(contract.dtype) and encoded.shape == (3, *LAYOUT_SHAPES[contract.layout])
    assert np.allclose(encoded.reshape(3, 28, 28), expected, rtol=0, atol=1e-6)
    buffer = np.full((3, *LAYOUT_SHAPES[contract.layout]), 99, contract.dtype)  # a runtime's input memory
    codec.encode_into(DIGITS, codec.input_view(buffer))
    assert np.array_equal(buffer, encoded)  # the fast path writes the same values, in place


@pytest.mark.parametrize(
    ("contract", "pixels", "model_input"),
    [  # known values: int8 with scale 1/255 and zero-point -128 is the pixel minus 128
        (
            InputContract(dtype="int8", quant_scale=1 / 255, quant_zero_point=-128),
            [0, 1, 128, 255],
            [-128, -127, 0, 127],
        ),
        (InputContract(dtype="uint8", quant_scale=1 / 255, quant_zero_point=0), [0, 7, 255], [0, 7, 255]),
        # 255 → 1.0 / 0.0123 = 81.3 → 81 - 7 = 74; 128 → 0.502 / 0.0123 = 40.8 → 41 - 7 = 34
        (InputContract(dtype="int8", quant_scale=0.0123, quant_zero_point=-7), [0, 128, 255], [-7, 34, 74]),
        (InputContract(input_scale=255.0), [0, 3, 255], [0.0, 3.0, 255.0]),
        (InputContract(mean=0.5, std=0.5), [0, 255], [-1.0, 1.0]),
    ],
)
def test_encoding_gives_known_values(contract, pixels, model_input):
    digits = np.zeros((len(pixels), 28, 28), np.uint8)
    digits[:, 0, 0] = pixels
    assert Codec(contract).encode(digits).reshape(len(pixels), -1)[:, 0].tolist() == pytest.approx(model_input)


def test_quantize_rounds_and_clips_to_known_values():
    q = quantize(np.array([0.0, 0.25, 1.0, 2.0, -1.0]), 1 / 255, -128, "int8")
    assert q.dtype == np.int8 and q.tolist() == [-128, -64, 127, 127, -128]  # 0.25·255 = 63.75 → 64
    assert dequantize(np.array([-128, -64, 127], np.int8), 1 / 255, -128).tolist() == pytest.approx(
        [0.0, 64 / 255, 1.0]
    )
    assert input_lookup_table(InputContract(dtype="int8", quant_scale=1 / 255, quant_zero_point=-128))[255] == 127


def test_logits_become_probabilities_and_quantized_outputs_are_dequantized():
    logits = [2.0, 1.0, 0.1] + [0.0] * 7
    probs = Codec(InputContract(output="logits")).decode(np.array([logits], np.float32))
    total = sum(math.exp(v) for v in logits)
    assert probs[0].tolist() == pytest.approx([math.exp(v) / total for v in logits], rel=1e-6)
    quantized = np.array([[-128, 127, -1] + [-128] * 7], np.int8)
    codec = Codec(InputContract(output_dtype="int8", output_quant_scale=1 / 256, output_quant_zero_point=-128))
    assert codec.decode(quantized)[0, :3].tolist() == [0.0, 255 / 256, 127 / 256]  # (q + 128) / 256, exact


def test_unknown_layout_is_refused():
    with pytest.raises(EdgemnistError, match="layout"):
        InputContract(layout="NWHC")
