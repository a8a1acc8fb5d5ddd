"""The model compiled to C by edgemnist's own compiler (``edgemnist.mcu``) and built for this host: the
arithmetic a micro-controller running the generated library does, bit for bit, at native speed.

Chosen explicitly (``--backend mcu-c``): a .tflite file is otherwise LiteRT's. The library takes raw uint8
pixels and quantizes them itself (its own table, from the model's contract), so this backend hands it the
digits untouched rather than the encoded input the other backends receive.
"""

from __future__ import annotations

import numpy as np

from ..common.files import require_file
from ..metadata import read_tflite_metadata
from . import BACKENDS
from .base import Predictor, TensorSpec, bad_model_errors


@BACKENDS.register("mcu-c")
class CompiledCPredictor(Predictor):
    backend = "mcu-c"
    model_kind = "TFLite"
    runtime_package = "edgemnist"

    @staticmethod
    def sniff(head: bytes) -> bool:
        return False  # a .tflite file is LiteRT's unless the compiled C is asked for by name

    def __init__(self, path, threads=None, input_scale=None, normalize=None):
        from ..mcu import compile_model
        from ..mcu.host import HostModel

        path = require_file(path, "model")
        compiled = compile_model(path)
        with bad_model_errors(path, "TFLite"):
            metadata = read_tflite_metadata(path.read_bytes())
        self.host = HostModel(compiled)
        source, target = compiled.model_input, compiled.model_output
        self.spec = TensorSpec(
            input_shape=source.shape,
            input_dtype=source.dtype,
            input_quant=(source.scale, source.zero_point),
            output_dtype=target.dtype,
            output_quant=(target.scale, target.zero_point),
        )
        super().__init__(path, None, with_output_kind(metadata, compiled.ends_in_softmax), input_scale, normalize)
        if input_scale is not None or normalize is not None:
            self.host = HostModel(compile_model(path, input_table=self.codec.input_table))

    def infer(self, digits: np.ndarray) -> np.ndarray:
        return self.codec.decode(self.host.run(digits))

    def run_native(self, model_input):
        raise NotImplementedError("the compiled library takes pixels: see infer")


def with_output_kind(metadata: dict | None, ends_in_softmax: bool) -> dict:
    """The metadata with the output kind the graph states (probabilities after a SOFTMAX), so the base class
    need not probe the model with encoded inputs, which this library does not take."""
    metadata = dict(metadata or {})
    contract = dict(metadata.get("contract", {}))
    contract.setdefault("output", "probabilities" if ends_in_softmax else "logits")
    metadata["contract"] = contract
    return metadata
