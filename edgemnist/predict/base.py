"""The Predictor: uint8 digits in, probabilities out, whatever runtime sits underneath.

A backend only opens the model, describes its tensors and runs it (``run_native``); the contract
arithmetic (``Codec``), batching and padding live here once, and so does the ``FastPath``: the zero-copy
way through a runtime's own buffers, with the lock that makes sharing a predictor between threads safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError, first_line
from ..common.progress import SILENT, Progress
from ..contract import DIGIT_SHAPE, LAYOUT_SHAPES, Codec, InputContract, as_digit_batch
from ..metadata import EMBEDDED_FIELDS

MAX_CHUNK = 1000  # large batches are run in chunks to bound activation memory


def probe_digits() -> np.ndarray:
    """Two fixed digits that any MNIST model tells apart: a blank one and a vertical stroke, a "1"."""
    probe = np.zeros((2, 28, 28), np.uint8)
    probe[1, 6:22, 12:16] = 255
    return probe


def predict_all(predictor, digits: np.ndarray, progress: Progress = SILENT, label: str = "predicting") -> np.ndarray:
    """Probabilities for many digits, chunk by chunk so that a pass over the test set shows a live bar."""
    if len(digits) <= MAX_CHUNK:
        return predictor.predict_proba(digits)
    parts = []
    with progress.bar(label, len(digits)) as advance:
        for start in range(0, len(digits), MAX_CHUNK):
            parts.append(predictor.predict_proba(digits[start : start + MAX_CHUNK]))
            advance(len(parts[-1]))
    return np.concatenate(parts)


@contextlib.contextmanager
def bad_model_errors(path, kind: str):
    """Any failure while a runtime or reader takes in the file at ``path`` is one line saying the file is not
    a valid ``kind`` model: on corrupted bytes runtimes raise every exception type there is (ValueError,
    RuntimeError, struct.error, DecodeError, ...), and the file, not edgemnist, is what the user can fix.
    It wraps the runtime's or reader's own call and nothing else: an exception from our code is a bug of ours."""
    try:
        yield
    except EdgemnistError:
        raise
    except Exception as exc:
        raise EdgemnistError(f"{path} is not a valid {kind} model ({type(exc).__name__}: {first_line(exc)})") from exc


@dataclass(frozen=True)
class TensorSpec:
    """What a backend reports of the model's input and output tensors."""

    input_shape: tuple  # batch dimension first; None where dynamic
    input_dtype: str
    input_quant: tuple  # (scale, zero_point), or (0.0, 0) when not quantized
    output_dtype: str
    output_quant: tuple


def layout_of(input_shape: tuple) -> str:
    """NHWC, NCHW, no channel axis or flat, from the shape after the batch dimension (a positive size, or None
    when dynamic: a damaged file can state a negative one, which its runtime then refuses to fill)."""
    sample, batch = tuple(input_shape[1:]), input_shape[0] if input_shape else 0
    for layout, shape in LAYOUT_SHAPES.items():
        if sample == shape and (batch is None or batch > 0):
            return layout
    raise EdgemnistError(
        f"model input shape {list(input_shape)} cannot be an MNIST digit "
        "(expected N×28×28×1, N×1×28×28, N×28×28 or N×784)"
    )


def inferred_contract(spec: TensorSpec, metadata: dict | None) -> InputContract:
    """Tensors tell layout, dtypes and quantization; our embedded metadata adds scale and labels."""
    input_dtype = spec.input_dtype
    quant_scale, quant_zero_point = spec.input_quant
    if input_dtype in ("int8", "uint8") and not quant_scale:
        # An integer input with no scale of its own takes raw pixels (uint8) or pixels - 128 (int8).
        quant_scale, quant_zero_point = (1.0, 0) if input_dtype == "uint8" else (1.0, -128)
        input_scale = 255.0
    else:
        input_scale = 1.0
    fields = dict(
        layout=layout_of(spec.input_shape),
        input_scale=input_scale,
        dtype=input_dtype,
        quant_scale=float(quant_scale),
        quant_zero_point=int(quant_zero_point),
        output_dtype=spec.output_dtype,
        output_quant_scale=float(spec.output_quant[0]),
        output_quant_zero_point=int(spec.output_quant[1]),
    )
    if metadata:
        embedded = metadata.get("contract", {})
        fields.update({key: embedded[key] for key in EMBEDDED_FIELDS if key in embedded})
    return InputContract.from_dict(fields)


UINT8 = np.dtype(np.uint8)


class FastPath:
    """The hot path for one batch size: digits are encoded straight into a runtime's input memory, the
    runtime runs, and probabilities are decoded straight from its output memory. Built once per allocation.

    Those buffers are shared by every thread calling the predictor, so ``lock`` is held from the write to
    the read: each caller gets its own answer. A thread finding them busy waits its turn, or takes
    ``when_busy`` (a path with buffers of its own) when given one. A runtime about to re-allocate its
    tensors ``retire``s the path, under the lock; ``run`` then answers None and the caller goes the general way.
    """

    def __init__(self, codec: Codec, input_buffer, output_buffer, invoke, lock=None, when_busy=None):
        self.shape = (input_buffer.shape[0], *DIGIT_SHAPE)
        self.input = codec.input_view(input_buffer)
        self.output = output_buffer
        self.encode_into, self.invoke, self.decode = codec.encode_into, invoke, codec.decode
        self.lock = lock or threading.Lock()
        self.when_busy = when_busy
        self.live = True

    def run(self, images) -> np.ndarray | None:
        """N×10 probabilities for ``images``, or None when this path does not take them: anything but a uint8
        N×28×28 ndarray of its batch size N, or after it was retired (the caller then goes the general way)."""
        if images.__class__ is not np.ndarray or images.shape != self.shape or images.dtype is not UINT8:
            return None
        if not self.lock.acquire(self.when_busy is None):
            return self.when_busy(images)
        try:
            return self.run_locked(images) if self.live else None
        finally:
            self.lock.release()

    def run_locked(self, digits: np.ndarray) -> np.ndarray:
        """write → invoke → read, for a caller that holds ``lock`` already."""
        self.encode_into(digits, self.input)
        self.invoke()
        return self.decode(self.output)

    def retire(self) -> None:
        """Called under ``lock`` before the runtime's buffers change: they are never touched again."""
        self.live = False


class Predictor:
    """Base class of every backend; subclasses set ``spec`` and implement ``run_native``.

    Thread safety: one predictor may be shared by threads; each call returns exactly what a call alone
    would. A backend that keeps buffers between calls does so in a ``FastPath`` (``self.fast_path``), whose
    lock guards them; an interpreter that is not re-entrant is guarded by ``self._lock``; runtimes whose
    own call is thread-safe need no lock on their plain path.
    """

    spec: TensorSpec  # set by the backend before Predictor.__init__
    backend = "?"
    model_kind = "?"  # the file format, in messages: "TFLite", "ONNX", "Keras"
    runtime_package = "?"
    resizable = False  # True when the runtime can change the model's batch dimension itself

    def __init__(self, path: Path, threads: int | None, metadata: dict | None, input_scale=None, normalize=None):
        self._lock = threading.Lock()
        self.fast_path: FastPath | None = None  # set by backends that run on their runtime's own buffers
        self.path = Path(path)
        self.threads = threads
        self.metadata = metadata
        contract = inferred_contract(self.spec, metadata).with_overrides(input_scale, normalize)
        if metadata is None or "output" not in metadata.get("contract", {}):
            contract = self._with_probed_output_kind(contract)
        self.contract = contract
        self.codec = Codec(contract)
        batch = self.spec.input_shape[0]
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 and not self.resizable else None
        # Batches up to this size go to the runtime in one call; others are chunked (and padded).
        self._direct_limit = 0 if self.fixed_batch else MAX_CHUNK

    # -- what a backend implements -------------------------------------------------------------
    def run_native(self, model_input: np.ndarray) -> np.ndarray:
        """The bare runtime call on an input already in the model's dtype and layout."""
        raise NotImplementedError

    def bare_calls(self, model_input: np.ndarray) -> dict:
        """Benchmark baselines: the runtime's own public call on an input already in its dtype,
        on a separately opened copy of the model, so they share nothing with the predictor."""
        return {}

    def infer(self, digits: np.ndarray) -> np.ndarray:
        """One batch the model can take at once → probabilities; backends may override it with
        the runtime's zero-copy entry points, since this is the hot path."""
        return self.codec.decode(self.run_native(self.codec.encode(digits)))

    @property
    def runtime_version(self) -> str:
        from ..common.versions import package_version

        return package_version(self.runtime_package) or "?"

    # -- the public API --------------------------------------------------------------------------
    def predict_proba(self, images) -> np.ndarray:
        """uint8 digits (28×28 or N×28×28) → N×10 float32 probabilities."""
        answer = self.fast_path.run(images) if self.fast_path else None
        if answer is not None:
            return answer
        digits = as_digit_batch(images)
        if digits.shape[0] <= self._direct_limit:
            return self.infer(digits)
        return self._predict_in_chunks(digits)

    def predict(self, images) -> np.ndarray:
        """uint8 digits → N int labels (the index of the most probable class)."""
        return np.argmax(self.predict_proba(images), axis=1)

    @property
    def labels(self) -> tuple:
        return self.contract.labels

    @property
    def quantization(self) -> str:
        if self.metadata and self.metadata.get("quantization"):
            return self.metadata["quantization"]
        return self.contract.dtype

    def describe(self) -> dict:
        return {
            "path": str(self.path),
            "backend": self.backend,
            "runtime_version": self.runtime_version,
            "quantization": self.quantization,
            "arch": (self.metadata or {}).get("arch"),
            "contract": self.contract.to_dict(),
        }

    # -- internals --------------------------------------------------------------------------------
    def _predict_in_chunks(self, digits: np.ndarray) -> np.ndarray:
        step = self.fixed_batch or MAX_CHUNK
        return np.concatenate([self._predict_chunk(digits[i : i + step], step) for i in range(0, len(digits), step)])

    def _predict_chunk(self, digits: np.ndarray, step: int) -> np.ndarray:
        count = digits.shape[0]
        if self.fixed_batch and count < step:  # pad to the model's fixed batch, then drop the padding
            digits = np.concatenate([digits, np.zeros((step - count, *digits.shape[1:]), np.uint8)])
        return self.infer(digits)[:count]

    def _with_probed_output_kind(self, contract: InputContract) -> InputContract:
        """Probabilities or logits? Run two fixed probe digits: probabilities are ≥ 0 and sum to 1."""
        probe = probe_digits()
        codec = Codec(dataclasses.replace(contract, output="probabilities"))
        batch = self.spec.input_shape[0]
        if isinstance(batch, int) and batch > 0 and not self.resizable:
            probe = np.concatenate([probe, np.zeros((batch - 2, 28, 28), np.uint8)]) if batch > 2 else probe[:batch]
        values = codec.decode(self.run_native(codec.encode(probe)))
        looks_like_probabilities = values.min() >= -1e-3 and np.allclose(values.sum(axis=1), 1.0, atol=2e-2)
        return dataclasses.replace(contract, output="probabilities" if looks_like_probabilities else "logits")
