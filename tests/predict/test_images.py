"""Photos of digits → MNIST-style inputs, judged by what a trained model reads from them."""

import io

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

import edgemnist
from edgemnist.predict.images import load_digit_images, to_mnist_digit

COUNT = 400


def photograph(digit: np.ndarray, rng, mode="L", scale=4, jpeg=True) -> Image.Image:
    """Dark ink on white paper, enlarged, off-centre on a larger sheet, JPEG-compressed."""
    ink = Image.fromarray(255 - digit).resize((28 * scale, 28 * scale), Image.BICUBIC)
    sheet = Image.new("L", (28 * scale + 90, 28 * scale + 50), 255)
    sheet.paste(ink, (int(rng.integers(0, 90)), int(rng.integers(0, 50))))
    sheet = sheet.convert(mode)
    if jpeg:
        buffer = io.BytesIO()
        sheet.convert("RGB").save(buffer, "JPEG", quality=70)
        sheet = Image.open(io.BytesIO(buffer.getvalue()))
    return sheet


@pytest.fixture(scope="module")
def reader(artifact_paths):
    return edgemnist.load(artifact_paths["seed_float32.onnx"])


def test_photos_are_read_like_the_digits_they_show(reader, mnist):
    rng = np.random.default_rng(1)
    digits = mnist.x_test[:COUNT]
    photos = [np.asarray(photograph(d, rng).convert("L"), np.float32) for d in digits]
    prepared = np.stack([to_mnist_digit(p) for p in photos])
    photo_accuracy = np.mean(reader.predict(prepared) == mnist.y_test[:COUNT])
    assert photo_accuracy >= 0.95
    assert photo_accuracy >= np.mean(reader.predict(digits) == mnist.y_test[:COUNT]) - 0.03


def test_the_digit_is_fitted_and_centred_as_mnist_was(mnist):
    rng = np.random.default_rng(2)
    prepared = to_mnist_digit(np.asarray(photograph(mnist.x_test[0], rng, jpeg=False), np.float32))
    rows, cols = np.flatnonzero(prepared.max(1) > 0), np.flatnonzero(prepared.max(0) > 0)
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21
    total = prepared.sum()
    centre = (prepared.sum(1) @ np.arange(28) / total, prepared.sum(0) @ np.arange(28) / total)
    assert np.allclose(centre, 13.5, atol=1.0)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "1"])
def test_any_image_mode_is_read(tmp_path, mnist, mode):
    path = tmp_path / f"digit.{'bmp' if mode == '1' else 'png'}"
    photograph(mnist.x_test[3], np.random.default_rng(3), mode=mode, jpeg=False).save(path)
    assert load_digit_images([path]).shape == (1, 28, 28)


def test_an_mnist_png_round_trips_exactly(digit_png, mnist):
    assert np.array_equal(load_digit_images([digit_png])[0], mnist.x_test[4444])


def test_a_blank_image_is_refused(tmp_path, artifact_paths):
    Image.new("L", (50, 50), 255).save(tmp_path / "blank.png")
    result = run_cli("predict", artifact_paths["seed_int8.onnx"], tmp_path / "blank.png")
    assert result.exit_code == 2 and "blank" in result.stderr


def test_predict_cli_top_k_json_and_stdin(tmp_path, artifact_paths, digit_png):
    import json

    model = artifact_paths["seed_int8.tflite"]
    text = run_cli("predict", model, digit_png, "--top-k", 3)
    assert text.exit_code == 0 and text.output.startswith(f"{digit_png}: 9 (") and "next:" in text.output
    records = json.loads(run_cli("predict", model, "-", "--json", input=f"{digit_png}\n{digit_png}\n").output)
    assert len(records) == 2 and records[0]["label"] == "9" and len(records[0]["probabilities"]) == 10
