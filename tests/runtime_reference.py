"""Independent references for tests: each artifact run through its runtime's own public API, with the
input encoded here from the model's own tensor description, not through edgemnist's contract code, so a
test comparing edgemnist with these can fail when edgemnist is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np

CHUNK = 1000


def direct_probabilities(path, digits: np.ndarray) -> np.ndarray:
    """Probabilities of our exports (NHWC pixels / 255 in, probabilities out) from a bare runtime call."""
    path = Path(path)
    run = onnx_session(path) if path.suffix == ".onnx" else litert_call(path)
    return np.concatenate(
        [run(digits[i : i + CHUNK].astype(np.float32)[..., None] / 255.0) for i in range(0, len(digits), CHUNK)]
    )


def direct_accuracy(path, digits, labels) -> float:
    return float(np.mean(direct_probabilities(path, digits).argmax(axis=1) == labels))


def onnx_session(path: Path):
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def litert_call(path: Path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))

    def run(x):
        index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(index, list(x.shape))
        interpreter.allocate_tensors()
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        if source["dtype"] == np.int8:  # q = round(x / scale) + zero_point, as TFLite defines it
            scale, zero_point = source["quantization"]
            x = np.clip(np.round(x / scale) + zero_point, -128, 127).astype(np.int8)
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        y = interpreter.get_tensor(target["index"])
        if target["dtype"] == np.int8:
            scale, zero_point = target["quantization"]
            y = (y.astype(np.float32) - zero_point) * scale
        return y

    return run


def tflm_runs_in(path, arena_size: int) -> bool:
    """The real TFLite Micro interpreter: does the model allocate and run a zero digit in exactly this arena?"""
    from tflite_micro import runtime

    try:
        interpreter = runtime.Interpreter.from_file(str(path), arena_size=arena_size)
        source = interpreter.get_input_details(0)
        interpreter.set_input(np.zeros(source["shape"], source["dtype"]), 0)
        interpreter.invoke()
        return True
    except RuntimeError:
        return False
