"""A predictor shared by threads answers each caller exactly as a call alone would, on every backend,
at every batch size, with no errors — including LiteRT's public-API path, forced here."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import edgemnist
from edgemnist.predict import litert

THREADS = 8
BATCHES = (1, 7, 64, 1, 3)  # mixed sizes, so buffers are re-bound / re-allocated while others run


def expected_probabilities(path, digits):
    """Single-threaded answers from a separate predictor, one digit batch at a time."""
    alone = edgemnist.load(path)
    return [alone.predict_proba(batch) for batch in digits]


def hammer(predictor, work: list, rounds: int = 12) -> tuple[int, list]:
    """THREADS threads share ``predictor``; each predicts its own batches ``rounds`` times."""
    wrong, errors = [0], []
    start = threading.Barrier(THREADS)

    def run(thread: int):
        start.wait()
        for _ in range(rounds):
            for digits, expected in work[thread]:
                try:
                    answer = predictor.predict_proba(digits)
                except Exception as exc:  # any error at all is a failure of the guarantee
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if answer.shape != expected.shape or not np.array_equal(answer, expected):
                    wrong[0] += 1

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wrong[0], errors


def thread_work(path, mnist) -> list:
    """Per thread: its own digits (a different slice of the test set) in each batch size."""
    work = []
    for thread in range(THREADS):
        offset = thread * 200
        batches = [mnist.x_test[offset : offset + size] for size in BATCHES]
        work.append(list(zip(batches, expected_probabilities(path, batches))))
    return work


@pytest.mark.parametrize("name", ["seed_int8.tflite", "seed_float32.tflite", "seed_float32.onnx", "seed_int8.onnx"])
def test_threads_sharing_a_predictor_get_their_own_answers(artifact_paths, mnist, name):
    path = artifact_paths[name]
    work = thread_work(path, mnist)
    wrong, errors = hammer(edgemnist.load(path), work)
    assert errors == [] and wrong == 0


def test_threads_sharing_the_keras_predictor_get_their_own_answers(trained, mnist):
    work = thread_work(trained.model_path, mnist)
    wrong, errors = hammer(edgemnist.load(trained.model_path), work, rounds=2)
    assert errors == [] and wrong == 0


@pytest.mark.parametrize("name", ["seed_int8.tflite", "seed_float32.tflite"])
def test_litert_falls_back_to_its_public_api(monkeypatch, artifact_paths, mnist, name):
    path = artifact_paths[name]
    native = edgemnist.load(path)
    monkeypatch.setattr(litert, "NATIVE_ATTRIBUTE", "_renamed_in_a_future_release")  # as in a future LiteRT
    public = edgemnist.load(path)
    assert (native.path_kind, public.path_kind) == ("native", "public")
    for size in (1, 7, 64, 10_000):
        assert np.array_equal(public.predict_proba(mnist.x_test[:size]), native.predict_proba(mnist.x_test[:size]))
    wrong, errors = hammer(public, thread_work(path, mnist))
    assert errors == [] and wrong == 0


def test_the_native_path_is_used_when_it_answers_like_the_public_one(artifact_paths):
    assert edgemnist.load(artifact_paths["seed_int8.tflite"]).path_kind == "native"


def test_a_native_path_that_answers_differently_is_not_used(monkeypatch, artifact_paths, mnist):
    """A private interpreter that exists but behaves differently (here: its Invoke does nothing)."""

    class Wrong:
        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def Invoke(self):  # noqa: N802  (the wrapped C++ name)
            return None

    from ai_edge_litert.interpreter import Interpreter

    native = edgemnist.load(artifact_paths["seed_int8.tflite"])
    monkeypatch.setattr(litert, "NATIVE_ATTRIBUTE", "_wrong_for_test")
    monkeypatch.setattr(Interpreter, "_wrong_for_test", property(lambda self: Wrong(self._interpreter)), raising=False)
    predictor = edgemnist.load(artifact_paths["seed_int8.tflite"])
    assert (native.path_kind, predictor.path_kind) == ("native", "public")
    assert np.array_equal(predictor.predict_proba(mnist.x_test[:100]), native.predict_proba(mnist.x_test[:100]))
