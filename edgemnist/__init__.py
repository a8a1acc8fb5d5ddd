"""edgemnist: the MNIST tutorial CNN from Keras training to edge deployment.

Nothing heavy is imported here: ``import edgemnist`` works on a device that has only one runtime.
"""

from .common.errors import EdgemnistError

__all__ = ["load", "EdgemnistError", "__version__"]


def __getattr__(name: str):
    """``__version__``, read from the installed package's metadata (importlib.metadata) when first asked for:
    pyproject.toml is the one place it is written, and ``import edgemnist`` stays free of importlib.metadata."""
    if name == "__version__":
        from .common.versions import EDGEMNIST_VERSION

        return EDGEMNIST_VERSION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(path, threads=None, backend=None, **contract_overrides):
    """Load a model (.keras, .tflite or .onnx) as a Predictor: ``edgemnist.load("m.onnx").predict(digits)``.

    The runtime is chosen by the file's content unless ``backend`` names one (``edgemnist.predict.BACKENDS``).
    Thread safety: one predictor may be shared by any number of threads; each call returns exactly what
    the same call would return alone (shared buffers are locked; ONNX Runtime calls still run in parallel).
    """
    from .predict import load as load_predictor

    return load_predictor(path, threads=threads, backend=backend, **contract_overrides)
