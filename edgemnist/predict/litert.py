"""LiteRT backend (the TFLite interpreter from ``ai_edge_litert``): what phones and Raspberry Pis run.

Hot path: digits are encoded straight into the interpreter's input tensor and probabilities read
straight from its output tensor, through numpy views kept between calls (no set/get copies). The
public wrapper refuses to run while such views exist (it cannot know they are dropped before any
re-allocation), so this backend drives the wrapped C++ interpreter directly and re-creates the views
whenever it re-allocates.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..deps import import_optional, native_output_silenced
from ..errors import EdgemnistError, first_line
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

    def infer(self, digits):
        """Only reached when the batch size changes: the compiled hot path (below) is used otherwise."""
        self._allocate(digits.shape[0])
        return self.infer(digits)

    def _allocate(self, batch: int, resize: bool = True) -> None:
        """(Re)allocate for ``batch`` digits and take fresh views of the input and output tensors."""
        self.__dict__.pop("infer", None)  # drop the hot path compiled for the old views
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
        """Bind the hot path to this allocation: locals in a closure beat attribute look-ups."""
        write = self.codec.writer(self._input_view.reshape(self._batch, 28, 28))
        read, invoke, batch = self.codec.reader(self._output_view), self._native.Invoke, self._batch
        reallocate = partial(LiteRTPredictor.infer, self)

        def infer(digits):
            if digits.shape[0] != batch:
                return reallocate(digits)
            write(digits)
            invoke()
            return read()

        self.infer = infer
