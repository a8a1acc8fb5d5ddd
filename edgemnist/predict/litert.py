"""LiteRT backend (the TFLite interpreter from ``ai_edge_litert``): what phones and Raspberry Pis run.

Hot path: digits are encoded straight into the interpreter's input tensor and probabilities read
straight from its output tensor, through numpy views kept between calls (no set/get copies), by a
``predict_proba`` compiled for the allocated batch size. The public wrapper refuses to run while such
views exist (it cannot know they are dropped before any re-allocation), so this backend drives the
wrapped C++ interpreter directly and re-creates the views whenever it re-allocates.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..common.deps import import_optional, native_output_silenced
from ..common.errors import EdgemnistError, first_line
from ..metadata import read_tflite_metadata
from . import BACKENDS
from .base import Predictor, TensorSpec


@BACKENDS.register("litert")
class LiteRTPredictor(Predictor):
    backend = "litert"
    runtime_package = "ai-edge-litert"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return head[4:8] == b"TFL3"  # the flatbuffer file identifier

    def __init__(self, path, threads=None, input_scale=None, normalize=None):
        litert = import_optional("ai_edge_litert.interpreter", "tflite")
        content = path.read_bytes()
        try:
            with native_output_silenced():  # LiteRT announces its XNNPACK delegate on stderr
                self.interpreter = litert.Interpreter(model_content=content, num_threads=threads)
                self.interpreter.allocate_tensors()
            metadata = read_tflite_metadata(content)
        except Exception as exc:  # truncated or corrupt flatbuffers raise ValueError/RuntimeError/IndexError
            raise EdgemnistError(f"{path} is not a valid TFLite model ({first_line(exc)})") from exc
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
        self._native = self.interpreter._interpreter
        self._allocate(int(source["shape"][0]), resize=False)
        super().__init__(path, threads, metadata, input_scale, normalize)
        self._compile_io()

    def run_native(self, model_input):
        if model_input.shape[0] != self._batch:
            self._allocate(model_input.shape[0])
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
        if digits.shape[0] != self._batch:
            self._allocate(digits.shape[0])
        self._write(digits)
        self._native.Invoke()
        return self._read()

    def _allocate(self, batch: int, resize: bool = True) -> None:
        """(Re)allocate for ``batch`` digits and take fresh views of the input and output tensors."""
        self.__dict__.pop("predict_proba", None)  # drop the hot path compiled for the old views
        self._input_view = self._output_view = None
        if resize:
            shape = np.array([batch, *self.spec.input_shape[1:]], dtype=np.int32)
            self._native.ResizeInputTensor(self._input_index, shape, False)
        self._native.AllocateTensors()
        self._native.Invoke()  # some delegates attach output memory on the first run
        self._input_view = self._native.tensor(self._native, self._input_index)
        self._output_view = self._native.tensor(self._native, self._output_index)
        self._batch = batch
        if hasattr(self, "codec"):
            self._compile_io()

    def _compile_io(self) -> None:
        """Bind encoding, decoding and the hot path to the current tensor views."""
        digit_view = self._input_view.reshape(self._batch, 28, 28)
        self._write, self._read = self.codec.writer(digit_view), self.codec.reader(self._output_view)
        fallback = partial(Predictor.predict_proba, self)
        self.predict_proba = self.codec.hot_path(self._write, self._read, self._native.Invoke, digit_view.shape, fallback)
