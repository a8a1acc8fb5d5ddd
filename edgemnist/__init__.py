"""edgemnist: the MNIST tutorial CNN from Keras training to edge deployment.

Nothing heavy is imported here: ``import edgemnist`` works on a device that has only one runtime.
"""
from .common.errors import EdgemnistError

__version__ = "0.1.0"
__all__ = ["load", "EdgemnistError", "__version__"]


def load(path, threads=None, **contract_overrides):
    """Load a model (.keras, .tflite or .onnx) as a Predictor: ``edgemnist.load("m.onnx").predict(digits)``."""
    from .predict import load as load_predictor

    return load_predictor(path, threads=threads, **contract_overrides)
