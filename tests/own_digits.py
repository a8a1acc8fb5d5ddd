"""A user's own digits for the tests of finetune and of export's --data: MNIST test digits turned a quarter (a shift
predict's preprocessing does not undo), written as PNGs in DIR/<label>/, and a quickly trained model to start from.
Import the fixtures into a test module to use them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

PER_CLASS = 40  # 400 images: 200 train and 200 test with --split-ratio 50:0:50


def write_digit_folder(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    from PIL import Image

    for index, (image, label) in enumerate(zip(images, labels)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / str(label) / f"{index:04d}.png")
    return folder


@pytest.fixture(scope="module")
def turned_digits(tmp_path_factory, mnist) -> Path:
    """PER_CLASS test digits of each class, each turned 90° anticlockwise."""
    chosen = np.concatenate([np.flatnonzero(mnist.y_test == digit)[:PER_CLASS] for digit in range(10)])
    turned = np.rot90(mnist.x_test[chosen], k=1, axes=(1, 2))
    return write_digit_folder(tmp_path_factory.mktemp("turned"), np.ascontiguousarray(turned), mnist.y_test[chosen])


@pytest.fixture(scope="module")
def start_model(tmp_path_factory, data_dir) -> Path:
    """The tutorial's CNN after one epoch on 3,000 MNIST digits (≈ 90 %): seconds to train."""
    from edgemnist.train import train

    trained = train("seed", epochs=1, seed=0, out=tmp_path_factory.mktemp("start"), data_dir=data_dir, train_limit=3000)
    return Path(trained.model_path)
