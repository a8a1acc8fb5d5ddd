"""Keras backend: the reference. Calls ``model(x)``, not ``model.predict`` (≈10× less overhead per call)."""

from __future__ import annotations

import warnings

from ..common.deps import import_keras, import_tensorflow, native_output_silenced
from ..common.errors import EdgemnistError, first_line
from . import BACKENDS
from .base import Predictor, TensorSpec


@BACKENDS.register("keras")
class KerasPredictor(Predictor):
    backend = "keras"
    model_kind = "Keras"
    runtime_package = "keras"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return head.startswith(b"PK\x03\x04")  # a .keras file is a zip archive

    def __init__(self, path, threads=None, input_scale=None, normalize=None):
        if threads:
            use_threads(import_tensorflow(), threads)
        self.model = load_keras_model(path)
        self.spec = TensorSpec(tuple(self.model.input_shape), "float32", (0.0, 0), "float32", (0.0, 0))
        super().__init__(path, threads, None, input_scale, normalize)

    def bare_calls(self, model_input):
        model = self.model
        return {
            "keras model(x)": lambda: model(model_input, training=False).numpy(),
            "keras model.predict(x)": lambda: model.predict(model_input, batch_size=len(model_input), verbose=0),
        }

    def run_native(self, model_input):
        return self.model(model_input, training=False).numpy()


def use_threads(tf, threads: int) -> None:
    """TensorFlow fixes its thread pools when it first runs: another count then cannot be set, and the model runs
    on the pools there are. That is said (a RuntimeWarning, once per message), never silently dropped."""
    config = tf.config.threading
    try:
        config.set_intra_op_parallelism_threads(threads)
        config.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        warnings.warn(
            f"threads={threads} not applied to the Keras model: TensorFlow already runs in this process with "
            f"{config.get_intra_op_parallelism_threads() or 'its default'} intra-op and "
            f"{config.get_inter_op_parallelism_threads() or 'its default'} inter-op threads, fixed when it started",
            RuntimeWarning,
            stacklevel=2,
        )


def load_keras_model(path):
    keras = import_keras()
    try:
        with native_output_silenced():
            return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors... for a bad file
        raise EdgemnistError(f"{path} is not a loadable Keras model ({first_line(exc)})") from exc
