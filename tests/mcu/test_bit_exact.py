"""The compiled C, built for this host, against the tflite-micro interpreter: every int8 score identical."""

from __future__ import annotations

import pytest

from edgemnist.mcu import compile_model
from edgemnist.mcu.host import HostModel
from edgemnist.pretrained import pretrained_dir

from .reference import differing_digits, tflm_scores


def compare(model: str, digits) -> tuple[int, int]:
    path = pretrained_dir() / f"{model}_int8.tflite"
    return differing_digits(HostModel(compile_model(path)).run(digits), tflm_scores(path, digits))


def test_mcu_matches_tflm_on_the_first_digits(mnist):
    assert compare("mcu", mnist.x_test[:300]) == (0, 0)


@pytest.mark.slow
def test_mcu_matches_tflm_on_every_test_digit(mnist):
    assert compare("mcu", mnist.x_test) == (0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["edge", "seed"])
def test_edge_and_seed_match_tflm(mnist, model):
    assert compare(model, mnist.x_test[:1000]) == (0, 0)
