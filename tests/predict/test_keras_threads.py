"""--threads on a Keras model: TensorFlow takes a thread count only before it first runs; after, it is said."""

import numpy as np
import pytest

import edgemnist
from edgemnist.common.deps import import_tensorflow
from edgemnist.models import build_model


def test_a_thread_count_tensorflow_can_no_longer_take_is_said(tmp_path):
    tf = import_tensorflow()
    tf.constant(1.0) + 1  # TensorFlow has run: its thread pools are fixed from now on
    threads = tf.config.threading.get_intra_op_parallelism_threads() + 1
    path = tmp_path / "mcu.keras"
    build_model("mcu").save(path)
    with pytest.warns(RuntimeWarning, match=f"threads={threads} not applied to the Keras model"):
        predictor = edgemnist.load(path, threads=threads)
    assert predictor.predict_proba(np.zeros((2, 28, 28), np.uint8)).shape == (2, 10)  # on the pools there are
