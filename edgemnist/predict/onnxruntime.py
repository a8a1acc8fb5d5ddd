"""ONNX Runtime backend (CPU execution provider).

``session.run`` is thread-safe; the IOBinding buffers this backend reuses between calls are not, so they
belong to a ``FastPath``, behind its lock, and a thread that finds them busy runs ``session.run`` with
buffers of its own instead of waiting: threads sharing a predictor still run concurrently in ONNX Runtime.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..common.deps import import_optional
from ..common.errors import EdgemnistError
from ..metadata import read_onnx_metadata
from . import BACKENDS
from .base import FastPath, Predictor, TensorSpec, bad_model_errors

ONNX_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
}


def numpy_dtype(onnx_type: str) -> str:
    try:
        return ONNX_TYPES[onnx_type]
    except KeyError:
        raise EdgemnistError(
            f"model tensor type {onnx_type} is not supported (use float, float16, uint8 or int8)"
        ) from None


@BACKENDS.register("onnxruntime")
class OnnxRuntimePredictor(Predictor):
    backend = "onnxruntime"
    model_kind = "ONNX"
    runtime_package = "onnxruntime"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return head[:1] == b"\x08"  # protobuf field 1 (ir_version) as a varint: how every ONNX file begins

    def __init__(self, path, threads=None, input_scale=None, normalize=None):
        ort = import_optional("onnxruntime", "onnx")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        with bad_model_errors(path, self.model_kind):
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            metadata = read_onnx_metadata(self.session.get_modelmeta().custom_metadata_map)
        source, target = self.session.get_inputs()[0], self.session.get_outputs()[0]
        self.spec = TensorSpec(
            input_shape=tuple(d if isinstance(d, int) else None for d in source.shape),
            input_dtype=numpy_dtype(source.type),
            input_quant=(0.0, 0),
            output_dtype=numpy_dtype(target.type),
            output_quant=(0.0, 0),
        )
        self._input_name, self._output_names = source.name, [target.name]
        self._output_shape = tuple(target.shape)
        self._bindable = True
        super().__init__(path, threads, metadata, input_scale, normalize)

    def run_native(self, model_input):
        return self.session.run(self._output_names, {self._input_name: model_input})[0]

    def bare_calls(self, model_input):
        ort = import_optional("onnxruntime", "onnx")
        session = ort.InferenceSession(
            str(self.path), self.session.get_session_options(), providers=["CPUExecutionProvider"]
        )
        feed, outputs = {self._input_name: model_input}, self._output_names
        return {"onnxruntime session.run": lambda: session.run(outputs, feed)}

    def infer(self, digits):
        """Through a ``FastPath`` over IOBinding buffers (no per-call allocation, no feed-dict checks) when
        the session can state its output shape; else plain ``session.run``."""
        fast = self.fast_path
        if fast is None or fast.shape[0] != digits.shape[0]:
            fast = self._bind(digits.shape[0]) if self._bindable else None
        answer = None if fast is None else fast.run(digits)
        return super().infer(digits) if answer is None else answer

    def _bind(self, count: int) -> FastPath | None:
        """A fast path over input/output buffers bound for batches of ``count``; None (and plain
        ``session.run`` from now on) when the session cannot state the output's dimensions.

        Each path owns its buffers and its lock, so replacing ``self.fast_path`` with one for another batch
        size leaves a thread still running the old one undisturbed; a thread finding a path busy runs plain
        ``session.run`` (thread-safe, with buffers of its own) instead of waiting."""
        ort = import_optional("onnxruntime", "onnx")
        output_shape = (count, *self._output_shape[1:])
        if not all(isinstance(d, int) for d in output_shape[1:]):
            self._bindable = False
            return None
        source = np.empty((count, *self.codec.sample_shape), dtype=self.contract.dtype)
        target = np.empty(output_shape, dtype=self.spec.output_dtype)
        binding = self.session.io_binding()
        binding.bind_ortvalue_input(self._input_name, ort.OrtValue.ortvalue_from_numpy(source))
        binding.bind_ortvalue_output(self._output_names[0], ort.OrtValue.ortvalue_from_numpy(target))
        run = partial(self.session.run_with_iobinding, binding)
        self.fast_path = FastPath(self.codec, source, target, run, when_busy=partial(Predictor.infer, self))
        return self.fast_path
