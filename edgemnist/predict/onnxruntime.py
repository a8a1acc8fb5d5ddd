"""ONNX Runtime backend (CPU execution provider).

``session.run`` is thread-safe; the IOBinding buffers this backend reuses between calls are not, so they
sit behind the predictor's lock, and a thread that finds them busy runs ``session.run`` with buffers of
its own instead of waiting: threads sharing a predictor still run concurrently in ONNX Runtime.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..common.deps import import_optional
from ..common.errors import EdgemnistError, first_line
from ..metadata import read_onnx_metadata
from . import BACKENDS
from .base import Predictor, TensorSpec

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
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise EdgemnistError(f"{path} is not a valid ONNX model ({first_line(exc)})") from exc
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
        self._bound_batch, self._bindable = None, True
        metadata = read_onnx_metadata(self.session.get_modelmeta().custom_metadata_map)
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
        """IOBinding over reused buffers: no per-call allocation and no feed-dict checks; binding also
        compiles a ``predict_proba`` hot path for that batch size."""
        if not self._bindable or not self._lock.acquire(blocking=False):
            return super().infer(digits)  # session.run, thread-safe, with buffers of its own
        try:
            count = digits.shape[0]
            if count != self._bound_batch and not self._bind(count):
                self._bindable = False  # output dims the session cannot state: plain session.run from now on
                return super().infer(digits)
            self._write(digits)
            self.session.run_with_iobinding(self._binding)
            return self._read()
        finally:
            self._lock.release()

    def _bind(self, count: int) -> bool:
        """Allocate and bind input/output buffers for batches of ``count``; False if shapes are unknown."""
        ort = import_optional("onnxruntime", "onnx")
        output_shape = (count, *self._output_shape[1:])
        if not all(isinstance(d, int) for d in output_shape[1:]):
            return False
        self._input_buffer = np.empty((count, *self.codec.sample_shape), dtype=self.contract.dtype)
        self._output_buffer = np.empty(output_shape, dtype=self.spec.output_dtype)
        digit_view = self._input_buffer.reshape(count, 28, 28)
        self._write, self._read = self.codec.writer(digit_view), self.codec.reader(self._output_buffer)
        self._binding = self.session.io_binding()
        self._binding.bind_ortvalue_input(self._input_name, ort.OrtValue.ortvalue_from_numpy(self._input_buffer))
        self._binding.bind_ortvalue_output(self._output_names[0], ort.OrtValue.ortvalue_from_numpy(self._output_buffer))
        self._bound_batch = count
        run = partial(self.session.run_with_iobinding, self._binding)
        general = partial(Predictor.predict_proba, self)
        self.predict_proba = self.codec.hot_path(
            self._write, self._read, run, digit_view.shape, general, self._lock, when_busy=self._predict_unbound
        )
        return True

    def _predict_unbound(self, images):
        """The hot path's way when its buffers are in use by another thread: plain ``session.run``."""
        return Predictor.infer(self, images)
