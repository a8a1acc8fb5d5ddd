"""The bench worker itself, run in this process: what it times is what its row says."""

from pathlib import Path

import numpy as np
import pytest

import edgemnist.predict
from edgemnist.bench.schema import BenchJob
from edgemnist.bench.worker import run_job

MCU_TFLITE = Path(edgemnist.predict.__file__).parents[1] / "pretrained" / "mcu_int8.tflite"


@pytest.fixture
def seen_batches(monkeypatch) -> list[int]:
    """The number of digits in each call of the predictor the worker loads."""
    sizes: list[int] = []
    real_load = edgemnist.predict.load

    def load_and_watch(*args, **kwargs):
        predictor = real_load(*args, **kwargs)
        predict_proba = predictor.predict_proba

        def watched(images):
            sizes.append(len(images))
            return predict_proba(images)

        predictor.predict_proba = watched
        return predictor

    monkeypatch.setattr(edgemnist.predict, "load", load_and_watch)
    return sizes


def test_a_batch_larger_than_the_limited_test_set_times_that_many_digits(mnist, tmp_path, seen_batches):
    """--limit 3 with --batch 64: each timed call takes 64 digits (the 3 repeated), and img/s divides by 64."""
    test_set = tmp_path / "test.npz"
    np.savez(test_set, x=mnist.x_test[:3], y=mnist.y_test[:3])
    job = BenchJob(model=str(MCU_TFLITE), test_set=str(test_set), batches=[64], runs=6, warmup=1, threads=1)
    result = run_job(job)
    timed = seen_batches[1:-1]  # after the first inference, before the accuracy pass over the 3 digits
    assert timed == [64] * 7 and seen_batches[-1] == 3
    for stats in result["latency"]["64"].values():
        assert stats["images_per_s"] == pytest.approx(64 / (stats["mean_us"] / 1e6), rel=1e-3)
