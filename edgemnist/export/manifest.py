"""``manifest.json``: one entry per artifact in an export folder (schema in export/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

from ..common.files import write_json
from ..common.versions import EDGEMNIST_VERSION as __version__
from ..common.versions import tool_versions

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


def tensor_record(shape, dtype: str, quant: tuple) -> dict:
    record: dict[str, object] = {"dtype": dtype}
    if shape is not None:
        record["shape"] = [-1 if d is None else int(d) for d in shape]
    if quant and quant[0]:
        record["scale"], record["zero_point"] = float(quant[0]), int(quant[1])
    return record


def read_manifest(folder) -> dict | None:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # a damaged manifest is rebuilt from this export


def update_manifest(folder: Path, job, calibration: int, records: list[dict]) -> Path:
    """Merge ``records`` into the folder's manifest (same source model), then fill size ratios."""
    previous = read_manifest(folder) or {}
    kept = []
    if previous.get("source", {}).get("sha256") == job.source_sha256:
        written = {r["file"] for r in records}
        kept = [a for a in previous.get("artifacts", []) if a["file"] not in written and (folder / a["file"]).is_file()]
    artifacts = sorted(kept + records, key=lambda a: (a["format"], a["size_bytes"]))
    float_sizes = {a["format"]: a["size_bytes"] for a in artifacts if a["quantization"] == "float32"}
    for artifact in artifacts:
        reference = float_sizes.get(artifact["format"])
        artifact["ratio_to_float32"] = round(artifact["size_bytes"] / reference, 4) if reference else None
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "edgemnist_version": __version__,
        "source": {
            "file": str(job.source_path),
            "sha256": job.source_sha256,
            "weights_sha256": job.weights_sha256,
            "arch": job.arch,
        },
        "calibration_images": calibration,
        "tools": tool_versions(),
        "artifacts": artifacts,
    }
    return write_json(folder / MANIFEST, manifest)
