import numpy as np
import pytest

from edgemnist.robustness.corruptions import CORRUPTIONS
from edgemnist.robustness.runner import mcnemar_p

NAMES = CORRUPTIONS.names()


def test_the_fifteen_corruptions_of_mnist_c():
    assert sorted(NAMES) == sorted(
        [
            "shot_noise",
            "impulse_noise",
            "glass_blur",
            "motion_blur",
            "shear",
            "scale",
            "rotate",
            "brightness",
            "translate",
            "stripe",
            "fog",
            "spatter",
            "dotted_line",
            "zigzag",
            "canny_edges",
        ]
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_corruption_is_deterministic_and_changes_the_digit(name, mnist):
    digits = mnist.x_test[:20]
    first, again = CORRUPTIONS.get(name)(digits, None, 0), CORRUPTIONS.get(name)(digits, None, 0)
    assert first.dtype == np.uint8 and first.shape == digits.shape
    assert first.tobytes() == again.tobytes()
    changed = np.abs(first.astype(int) - digits).sum(axis=(1, 2))
    assert (changed > 255).all()  # every digit visibly changed


def test_mcnemar_exact_p_values():
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_p(3, 3) == 1.0
    assert mcnemar_p(2, 10) == pytest.approx(2 * (1 + 12 + 66) / 4096)
