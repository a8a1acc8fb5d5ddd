"""finetune on a shifted folder (MNIST test digits turned a quarter): it learns them, keeps MNIST in the mix, exports
int8 calibrated on them and checks parity there; bad starts and too small folders are one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import own_digits
import pytest
from conftest import run_cli
from own_digits import PER_CLASS

from edgemnist.common.progress import Progress
from edgemnist.datasets import DataSelection, Split

start_model, turned_digits = own_digits.start_model, own_digits.turned_digits  # the shared fixtures

HALF = Split.parse("50:0:50")
RECIPE = {"epochs": 5, "batch_size": 32, "mnist_share": 0.5}


class CountedBatches(Progress):
    """Counts the batches training really ran, apart from what the result says it trained on."""

    def __init__(self):
        self.batches = 0

    def bar(self, label, total):
        import contextlib

        @contextlib.contextmanager
        def counting():
            def advance(steps=1):
                self.batches += steps if label.startswith("fine-tuning") else 0

            yield advance

        return counting()


@pytest.fixture(scope="module")
def finetuned(start_model, turned_digits, data_dir, tmp_path_factory):
    from edgemnist.finetune import FinetuneRecipe, finetune

    counted = CountedBatches()
    result = finetune(
        start_model,
        DataSelection(str(turned_digits), None, HALF),
        tmp_path_factory.mktemp("finetuned"),
        FinetuneRecipe(**RECIPE),
        mnist=data_dir,
        calibration=100,
        formats=("tflite",),
        progress=counted,
    )
    return result, counted.batches


def test_it_learns_the_shifted_digits_and_keeps_reading_mnist(finetuned):
    result, _ = finetuned
    before, after, int8 = result.scores
    assert before.user_test < 0.25  # turned a quarter, the MNIST model mostly fails
    assert after.user_test > before.user_test + 0.3 and int8.user_test > before.user_test + 0.3
    assert after.mnist_test > 0.7 and int8.mnist_test > 0.7
    assert result.tested_on["part"] == "test" and result.tested_on["images"] == 10 * PER_CLASS // 2
    assert result.mnist_test["kind"] == "mnist" and result.mnist_test["images"] == 10_000


def test_mnist_is_mixed_in(finetuned, turned_digits):
    result, batches = finetuned
    own = len(list(turned_digits.rglob("*.png"))) // 2  # the train half
    per_epoch = math.ceil(own / (1 - RECIPE["mnist_share"]) / RECIPE["batch_size"])  # half of each batch from MNIST
    assert batches == RECIPE["epochs"] * per_epoch  # what Keras really trained on: 13 batches, not 7, an epoch
    assert result.user_images == own and result.train_images == per_epoch * RECIPE["batch_size"]
    assert result.mnist_images == round(result.train_images * RECIPE["mnist_share"])
    assert len(result.history) == RECIPE["epochs"]


def test_the_mix_is_what_keeps_mnist(finetuned, start_model, turned_digits, data_dir, tmp_path):
    """The same fine-tuning with --mnist-share 0 forgets much more MNIST: the MNIST digits really reach training."""
    from edgemnist.finetune import FinetuneRecipe, finetune

    mixed, _ = finetuned
    alone = finetune(
        start_model,
        DataSelection(str(turned_digits), None, HALF),
        tmp_path,
        FinetuneRecipe(**(RECIPE | {"mnist_share": 0.0})),
        mnist=data_dir,
        calibration=100,
        formats=(),
    )
    assert alone.mnist_images == 0 and mixed.scores[1].mnist_test > alone.scores[1].mnist_test + 0.05


def test_the_export_is_int8_calibrated_on_the_users_train_digits(finetuned, turned_digits, data_dir, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from edgemnist.export.runner import export

    result, _ = finetuned
    assert result.calibrated_on["source"] == str(turned_digits) and result.calibrated_on["part"] == "train"
    assert result.calibrated_on["images"] == 100
    ours = Path(result.model_path).parent / "seed_int8.tflite"
    on_mnist = export(result.model_path, ["tflite"], "int8", tmp_path, calibration=100, validate=False, data=data_dir)
    assert on_mnist.calibrated_on["kind"] == "mnist"

    def scales(path):
        interpreter = Interpreter(str(path))
        return [detail["quantization"][0] for detail in interpreter.get_tensor_details()]

    # read from the files themselves: the activation ranges differ from those MNIST's digits give
    assert scales(ours) != scales(tmp_path / "seed_int8.tflite")
    assert Interpreter(str(ours)).get_input_details()[0]["dtype"] == np.int8


def test_parity_runs_on_the_users_test_part(finetuned, turned_digits):
    result, _ = finetuned
    (comparison,) = result.parity
    assert comparison.data["source"] == str(turned_digits) and comparison.data["part"] == "test"
    assert comparison.images == result.tested_on["images"]
    written = json.loads((Path(result.model_path).parent / "finetune.json").read_text())
    assert written["parity"][0]["agreement"] == comparison.agreement and written["user_images"] == 200


def test_a_model_that_is_not_keras_is_one_line(turned_digits, tmp_path):
    from edgemnist.pretrained import pretrained_dir

    result = run_cli("finetune", pretrained_dir() / "mcu_int8.tflite", "--data", turned_digits, "--out", tmp_path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "is a TFLite model: finetune starts from a trained Keras model (.keras)" in result.stderr


def test_too_few_train_digits_for_the_calibration_is_one_line_before_training(start_model, turned_digits, tmp_path):
    args = ["--data", turned_digits, "--split-ratio", "50:0:50", "--out", tmp_path, "--quiet"]
    result = run_cli("finetune", start_model, *args, "--calibration", 300)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert f"--calibration can be at most 200 with the train part of {turned_digits}" in result.stderr
    assert list(tmp_path.iterdir()) == []  # refused before anything was trained or written


def test_mnist_alone_is_not_a_fine_tuning_set(start_model, data_dir, tmp_path):
    result = run_cli("finetune", start_model, "--data", data_dir, "--out", tmp_path)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "finetune learns your own digits" in result.stderr
