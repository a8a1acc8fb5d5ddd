"""Keras backend: the reference. Calls ``model(x)``, not ``model.predict`` (≈10× less overhead per call)."""

from __future__ import annotations

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
        tf = import_tensorflow()
        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                pass  # TensorFlow already started with its own thread pools
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


def load_keras_model(path):
    keras = import_keras()
    try:
        with native_output_silenced():
            return keras.saving.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors... for a bad file
        raise EdgemnistError(f"{path} is not a loadable Keras model ({first_line(exc)})") from exc
