"""The input contract embedded in our own models, so a device needs no flags to run them.

TFLite keeps it as a named entry of the flatbuffer's ``metadata`` list (a buffer of JSON); ONNX keeps
it in ``metadata_props``. Both are read with what a device has: LiteRT's flatbuffer schema and
onnxruntime's model metadata.
"""

from __future__ import annotations

import json

from .contract import InputContract
from .tflite_graph import tflite_schema

METADATA_KEY = "edgemnist"
# What the tensors cannot say: the float range, normalization, output kind and labels.
EMBEDDED_FIELDS = ("input_scale", "mean", "std", "output", "labels")


def model_metadata(contract: InputContract, arch: str, weights_sha256: str, fmt: str, quantization: str) -> dict:
    from .common.versions import EDGEMNIST_VERSION

    return {
        "edgemnist_version": EDGEMNIST_VERSION,
        "arch": arch,
        "format": fmt,
        "quantization": quantization,
        "weights_sha256": weights_sha256,
        "contract": {key: value for key, value in contract.to_dict().items() if key in EMBEDDED_FIELDS},
    }


def read_tflite_metadata(model_bytes: bytes) -> dict | None:
    schema = tflite_schema()
    model = schema.Model.GetRootAs(model_bytes, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() == METADATA_KEY.encode():
            return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes())
    return None


def embed_tflite_metadata(model_bytes: bytes, metadata: dict) -> bytes:
    import flatbuffers
    import numpy as np

    schema = tflite_schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_KEY
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    builder = flatbuffers.Builder(len(model_bytes) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def read_onnx_metadata(custom_metadata_map: dict) -> dict | None:
    text = custom_metadata_map.get(METADATA_KEY)
    return json.loads(text) if text else None
