"""LiteRT backend (the TFLite interpreter from ``ai_edge_litert``): what phones and Raspberry Pis run.

Two ways to drive the interpreter, chosen once at load time:

- **native** (fast): a ``FastPath`` encodes digits straight into the interpreter's input tensor and reads
  probabilities straight from its output tensor, through numpy views kept for the allocated batch size.
  The public wrapper refuses to run while such views exist, so this drives the wrapped C++ interpreter,
  the private ``Interpreter._interpreter``.
- **public**: ``set_tensor`` → ``invoke`` → ``get_tensor``, the documented API (a copy each way).

The native path is used only when that private attribute exists and answers exactly like the public
path on probe digits; otherwise (a LiteRT release that renamed or changed it) the public path is used.
``benchmarks/RESULTS.md`` records what the native path gains; ``EDGEMNIST_LITERT_PUBLIC=1`` forces the public
one. Either way one lock (the predictor's, which the fast path shares) serializes the interpreter, which is
not re-entrant, so a predictor shared by threads stays correct.
"""

from __future__ import annotations

import os

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from ..metadata import read_tflite_metadata
from ..tflite_graph import read_graph
from . import BACKENDS
from .base import FastPath, Predictor, TensorSpec, bad_model_errors, probe_digits

NATIVE_ATTRIBUTE = "_interpreter"  # the wrapped C++ interpreter of ai_edge_litert's Interpreter
PUBLIC_ONLY_ENV = "EDGEMNIST_LITERT_PUBLIC"  # "1": always the public API (an escape hatch, and for benchmarks)
NATIVE_METHODS = ("Invoke", "AllocateTensors", "ResizeInputTensor", "tensor")


def open_litert(litert, threads, **source):
    """An allocated LiteRT interpreter that has run once (its XNNPACK announcement on stderr hidden): LiteRT
    applies its XNNPACK delegate at the first invoke, which is where it refuses some damaged files."""
    with native_output_silenced():
        interpreter = litert.Interpreter(num_threads=threads, **source)
        interpreter.allocate_tensors()
        interpreter.invoke()
    return interpreter


@BACKENDS.register("litert")
class LiteRTPredictor(Predictor):
    backend = "litert"
    model_kind = "TFLite"
    runtime_package = "ai-edge-litert"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return head[4:8] == b"TFL3"  # the flatbuffer file identifier

    def __init__(self, path, threads=None, input_scale=None, normalize=None):
        litert = import_optional("ai_edge_litert.interpreter", "tflite")
        with bad_model_errors(path, self.model_kind):  # LiteRT reads tensor names only when asked for details
            content = path.read_bytes()
            read_graph(content, path)  # checks first what would make LiteRT abort instead of refusing the file
            self.interpreter = open_litert(litert, threads, model_content=content)
            metadata = read_tflite_metadata(content)
            source, target = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        signature_batch = int(source["shape_signature"][0])
        self.resizable = signature_batch == -1
        self.spec = TensorSpec(
            input_shape=(None if self.resizable else signature_batch, *map(int, source["shape"][1:])),
            input_dtype=np.dtype(source["dtype"]).name,
            input_quant=tuple(source["quantization"]),
            output_dtype=np.dtype(target["dtype"]).name,
            output_quant=tuple(target["quantization"]),
        )
        self._input_index, self._output_index = source["index"], target["index"]
        self._batch = load_batch = int(source["shape"][0])
        self._native = self._input_view = self._output_view = None  # the public path answers the probes
        super().__init__(path, threads, metadata, input_scale, normalize)
        self._choose_path(load_batch)

    @property
    def path_kind(self) -> str:
        """'native' (the private zero-copy path) or 'public' (set_tensor / invoke / get_tensor)."""
        return "public" if self._native is None else "native"

    def describe(self) -> dict:
        return {**super().describe(), "litert_path": self.path_kind}

    def run_native(self, model_input):
        with self._lock:
            if self._native is None:
                return self._run_public(model_input)
            self._allocated_for(model_input.shape[0])
            self._input_view[...] = model_input
            self._native.Invoke()
            return self._output_view.copy()

    def bare_calls(self, model_input):
        litert = import_optional("ai_edge_litert.interpreter", "tflite")
        with native_output_silenced():
            interpreter = litert.Interpreter(model_path=str(self.path), num_threads=self.threads)
        if self.resizable:
            interpreter.resize_tensor_input(self._input_index, list(model_input.shape))
        interpreter.allocate_tensors()
        source, target = self._input_index, self._output_index

        def invoke():
            interpreter.set_tensor(source, model_input)
            interpreter.invoke()
            return interpreter.get_tensor(target)

        return {"litert invoke": invoke}

    def infer(self, digits):
        if self._native is None:
            return super().infer(digits)
        with self._lock:
            return self._allocated_for(digits.shape[0]).run_locked(digits)

    # -- the public path ----------------------------------------------------------------------------
    def _run_public(self, model_input):
        """set_tensor → invoke → get_tensor: the documented API, and the reference for the native path."""
        if model_input.shape[0] != self._batch:
            self.interpreter.resize_tensor_input(self._input_index, [model_input.shape[0], *self.spec.input_shape[1:]])
            self.interpreter.allocate_tensors()
            self._batch = model_input.shape[0]
        self.interpreter.set_tensor(self._input_index, model_input)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output_index)

    # -- the native path ----------------------------------------------------------------------------
    def _choose_path(self, batch: int) -> None:
        """Use the private C++ interpreter, allocated for ``batch`` with its fast path, if it exists and
        answers probe digits exactly like the public API; else stay on the public path."""
        # Two probes, the native path answering the first: stale output memory cannot pass for an answer.
        probe, last = (np.repeat(digit[None], batch, axis=0) for digit in probe_digits()[::-1])  # a stroke, a blank
        public = self.codec.decode(self.run_native(self.codec.encode(probe)))  # before any reference to the native one
        self.run_native(self.codec.encode(last))
        native = None if os.environ.get(PUBLIC_ONLY_ENV) == "1" else getattr(self.interpreter, NATIVE_ATTRIBUTE, None)
        if native is None or not all(hasattr(native, name) for name in NATIVE_METHODS):
            return
        try:
            self._native = native
            answer = self.infer(probe)
        except Exception:  # a changed private API: any failure means the public path
            answer = None
        if answer is not None and np.array_equal(public, answer):
            return
        self.fast_path = self._native = self._input_view = self._output_view = None
        self.interpreter = open_litert(
            import_optional("ai_edge_litert.interpreter", "tflite"), self.threads, model_path=str(self.path)
        )  # a fresh one: no views may remain on it
        self._batch = batch

    def _allocated_for(self, batch: int) -> FastPath:
        """The fast path for ``batch`` digits, (re)allocating the interpreter when its batch differs: the old
        path is retired and fresh views of the input and output tensors make a new one. Called under the lock."""
        if self.fast_path is not None and self._batch == batch:
            return self.fast_path
        if self.fast_path is not None:
            self.fast_path.retire()
        self.fast_path = self._input_view = self._output_view = None
        native = self._native
        shape = np.array([batch, *self.spec.input_shape[1:]], dtype=np.int32)
        native.ResizeInputTensor(self._input_index, shape, False)
        native.AllocateTensors()
        native.Invoke()  # some delegates attach output memory on the first run
        self._input_view = native.tensor(native, self._input_index)
        self._output_view = native.tensor(native, self._output_index)
        self._batch = batch
        self.fast_path = FastPath(self.codec, self._input_view, self._output_view, native.Invoke, self._lock)
        return self.fast_path
