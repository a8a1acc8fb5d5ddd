"""TensorFlow Lite for Microcontrollers backend: the TFLM interpreter and its reference kernels, the
arithmetic a micro-controller runs (``tflite_micro``, whose wheels exist for x86-64 Linux only).

Chosen explicitly (``--backend tflm``, ``edgemnist.load(path, backend="tflm")``): a .tflite file is
otherwise LiteRT's. TFLM takes one digit per ``invoke``; the base class feeds it batch by batch.
``measure_arena`` finds the smallest arena with which TFLM allocates and runs a model.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import tempfile

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from ..common.errors import EdgemnistError, first_line
from ..metadata import read_tflite_metadata
from ..tflite_graph import read_graph, unsupported_arithmetic
from . import BACKENDS
from .base import Predictor, TensorSpec, bad_model_errors

WHEEL_PLATFORMS = "x86-64 Linux, CPython 3.10–3.13"
# The predictor's arena: untouched pages of it cost no RAM. A firmware needs only measure_arena(path).
HOST_ARENA_BYTES = 64 * 1024 * 1024


def has_wheel() -> bool:
    return (
        sys.platform == "linux"
        and platform.machine() in ("x86_64", "AMD64")
        and platform.python_implementation() == "CPython"
        and (3, 10) <= sys.version_info[:2] <= (3, 13)
    )


def import_tflm():
    """``tflite_micro``'s runtime module, or one line saying how to get it (or that this machine cannot)."""
    try:
        return import_optional("tflite_micro", "tflm").runtime
    except EdgemnistError:
        if has_wheel():
            raise  # "install it with: pip install 'edgemnist[tflm]'"
        raise EdgemnistError(
            f"tflite_micro (TFLite Micro) has wheels only for {WHEEL_PLATFORMS}; this is {platform.machine()} "
            f"{sys.platform}, {platform.python_implementation()} {platform.python_version()}: run --backend tflm "
            "on such a machine"
        ) from None


@contextlib.contextmanager
def native_messages():
    """Collect what TFLM's C++ prints to stderr, its only way of saying why a model failed."""
    lines: list[str] = []
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines.extend(line for line in sink.read().decode(errors="replace").splitlines() if line.strip())


def open_tflm(runtime, content: bytes, path, arena_bytes: int = HOST_ARENA_BYTES):
    """An allocated TFLM interpreter, or one line with TFLM's own reason (an op it lacks, an arena too small)."""
    with native_messages() as messages:
        try:
            return runtime.Interpreter.from_bytes(content, arena_size=arena_bytes)
        except Exception as exc:  # its Python wrapper reads the flatbuffer too: struct.error, TypeError...
            error = exc
    reason = messages[0] if messages else first_line(error)
    raise EdgemnistError(f"{path}: TFLite Micro could not load the model ({reason.strip()[:200]})")


def quantization_of(details: dict) -> tuple:
    params = details.get("quantization_parameters") or {}
    scales = params.get("scales")
    if scales is None or not len(scales):
        return (0.0, 0)
    return (float(scales[0]), int(params["zero_points"][0]))


def runs_in_arena(runtime, content: bytes, arena_bytes: int) -> bool:
    """Does the model allocate and run a zero digit in an arena of exactly ``arena_bytes``?"""
    try:
        interpreter = runtime.Interpreter.from_bytes(content, arena_size=arena_bytes)
        source = interpreter.get_input_details(0)
        interpreter.set_input(np.zeros(source["shape"], source["dtype"]), 0)
        interpreter.invoke()
        return True
    except Exception:  # RuntimeError from a model that does not fit; open_tflm then says why a broken one fails
        return False


def measure_arena(path, start_bytes: int = 4096) -> int:
    """The smallest arena (to the byte) with which TFLM allocates and runs the model at ``path``.

    TFLM reports its arena use only on stderr, so it is found by search: doubling from ``start_bytes``
    until the model runs, then halving the interval (≈ 20 interpreters, well under a second for our models).
    Needing more room never makes a model fail, so the search is sound; the figure is for TFLM's 64-bit
    host build (8-byte pointers in its bookkeeping), a little above what a 32-bit MCU needs.
    """
    from ..common.files import require_file

    path = require_file(path, "model")
    runtime = import_tflm()
    content, _ = runnable_model(path)
    with native_output_silenced():  # each failed try prints TFLM's allocation errors
        fits = start_bytes
        while not runs_in_arena(runtime, content, fits):
            if fits >= HOST_ARENA_BYTES:
                open_tflm(runtime, content, path)  # raises with TFLM's reason
                raise EdgemnistError(f"{path}: TFLite Micro runs it only in an arena above {HOST_ARENA_BYTES} bytes")
            fits *= 2
        fails = fits // 2 if fits > start_bytes else 0
        while fits - fails > 1:
            middle = (fits + fails) // 2
            fits, fails = (middle, fails) if runs_in_arena(runtime, content, middle) else (fits, middle)
    return fits


def runnable_model(path) -> tuple[bytes, dict | None]:
    """The model's bytes and embedded metadata, or one line saying why TFLM cannot run it."""
    content = path.read_bytes()
    if content[4:8] != b"TFL3":  # the flatbuffer file identifier
        raise EdgemnistError(f"{path}: TFLite Micro runs TFLite models (.tflite) only")
    with bad_model_errors(path, "TFLite"):
        metadata, graph = read_tflite_metadata(content), read_graph(content, path)
    kind = unsupported_arithmetic(graph)
    if kind:
        raise EdgemnistError(
            f"{path}: TFLite Micro cannot run {kind} models (its kernels take float32 or full-int8 "
            "tensors); use the int8 or float32 export"
        )
    return content, metadata


@BACKENDS.register("tflm")
class TFLMPredictor(Predictor):
    """One TFLM interpreter behind the predictor's lock: it holds one digit's tensors, so calls take turns."""

    backend = "tflm"
    model_kind = "TFLite"
    runtime_package = "tflite-micro"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return False  # a .tflite file is LiteRT's unless TFLM is asked for by name

    def __init__(self, path, threads=None, input_scale=None, normalize=None):
        runtime = import_tflm()
        content, metadata = runnable_model(path)
        self.interpreter = open_tflm(runtime, content, path)
        source, target = self.interpreter.get_input_details(0), self.interpreter.get_output_details(0)
        self.spec = TensorSpec(
            input_shape=tuple(int(d) for d in source["shape"]),
            input_dtype=np.dtype(source["dtype"]).name,
            input_quant=quantization_of(source),
            output_dtype=np.dtype(target["dtype"]).name,
            output_quant=quantization_of(target),
        )
        super().__init__(path, None, metadata, input_scale, normalize)  # TFLM runs on one thread

    def run_native(self, model_input):
        with self._lock:
            self.interpreter.set_input(model_input, 0)
            self.interpreter.invoke()
            return self.interpreter.get_output(0)

    def bare_calls(self, model_input):
        """``set_input`` + ``invoke`` + ``get_output`` per digit on an interpreter of its own."""
        interpreter = open_tflm(import_tflm(), self.path.read_bytes(), self.path)
        step = self.spec.input_shape[0]

        def invoke():
            for start in range(0, len(model_input), step):
                interpreter.set_input(model_input[start : start + step], 0)
                interpreter.invoke()
                interpreter.get_output(0)

        return {"tflm invoke": invoke}
