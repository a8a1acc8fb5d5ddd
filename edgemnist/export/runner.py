"""``export()``: convert, write atomically, validate and record every requested artifact."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..common.errors import EdgemnistError
from ..common.files import ensure_dir, require_file, sha256_file, write_bytes
from ..common.progress import SILENT, Progress
from ..data import load_mnist
from . import FORMATS, ExportJob, Format, artifact_name, load_formats, weights_sha256
from .calibration import DEFAULT_CALIBRATION, representative_images
from .manifest import tensor_record, update_manifest
from .validate import avx2_plan, needs_avx2_check, validate_artifact


@dataclass
class ArtifactRecord:
    file: str
    format: str
    quantization: str
    size_bytes: int
    sha256: str
    extra_files: list = field(default_factory=list)
    input: dict | None = None  # dtype, shape, scale, zero_point
    output: dict | None = None
    validation: dict | None = None  # a parity.Comparison without its disagreement list
    passed: bool | None = None  # None when not validated


@dataclass
class ExportReport:
    out: str
    source: str
    manifest: str
    artifacts: list

    @property
    def failed(self) -> list:
        return [a for a in self.artifacts if a.passed is False]


def plan(formats: list[str], quantization: str | None) -> list[tuple[Format, str]]:
    """Every (format, quantization) to write; ``all`` means every format and, unless narrowed, every quantization."""
    load_formats()
    names = FORMATS.names() if "all" in formats else formats
    targets = []
    for name in names:
        fmt = FORMATS.get(name)
        if quantization is None:
            chosen = list(fmt.quantizations) if "all" in formats else [fmt.quantizations[0]]
        elif quantization in fmt.quantizations:
            chosen = [quantization]
        elif "all" in formats:
            chosen = []
        else:
            raise EdgemnistError(f"format {name} offers {', '.join(fmt.quantizations)}, not {quantization}")
        targets += [(fmt, q) for q in chosen]
    return targets


def require_keras_model(path) -> Path:
    """Export converts a trained Keras model; a .tflite or .onnx given instead is one line saying so (the
    converters' own messages about SavedModels name neither the file nor the fix)."""
    from ..predict import BACKENDS, detect_backend

    source = require_file(path, "model")
    found = detect_backend(source)
    if found != "keras":
        kind = BACKENDS.get(found).model_kind
        raise EdgemnistError(
            f"{source} is {'an' if kind[0] in 'AEIOU' else 'a'} {kind} model: export converts a trained Keras "
            "model (.keras); to compile an int8 .tflite to C for a micro-controller, use edgemnist compile"
        )
    return source


def export(
    model_path,
    formats=("tflite",),
    quantization: str | None = None,
    out="export",
    calibration: int = DEFAULT_CALIBRATION,
    validate: bool = True,
    data_dir: str | None = None,
    progress: Progress = SILENT,
) -> ExportReport:
    from ..predict import load
    from ..predict.base import predict_all
    from ..predict.keras import KerasPredictor

    targets = plan(list(formats), quantization)
    source = require_keras_model(model_path)
    out = ensure_dir(out)
    progress.say(f"loading {source}")
    reference = KerasPredictor(source)
    mnist = load_mnist(data_dir)
    job = ExportJob(
        keras_model=reference.model,
        arch=reference.model.name,
        source_path=source,
        source_sha256=sha256_file(source),
        weights_sha256=weights_sha256(reference.model),
        calibration=representative_images(mnist.x_train, mnist.y_train, calibration),
    )
    written = []
    with progress.bar(f"converting {len(targets)} artifact(s)", len(targets)) as advance:
        for fmt, quantization_name in targets:
            name = artifact_name(job.arch, fmt, quantization_name)
            files = fmt.convert(job, quantization_name)
            written.append(
                [
                    write_bytes(out / (Path(name).stem + (suffix or Path(name).suffix)), data)
                    for suffix, data in files.items()
                ]
            )
            advance()
    reference_probs = predict_all(reference, mnist.x_test, progress, "Keras reference") if validate else None
    if validate and any(fmt.validated and needs_avx2_check(paths[0], q) for (fmt, q), paths in zip(targets, written)):
        progress.say(avx2_plan())
    records = []
    for (fmt, quantization_name), paths in zip(targets, written):
        name = paths[0].name
        record = describe(paths, fmt, quantization_name)
        if fmt.validated:
            artifact = load(paths[0])  # in its real runtime, the way a user will load it
            record.input, record.output = tensor_records(artifact.spec)
            if validate:
                candidate_probs = predict_all(artifact, mnist.x_test, progress, f"{name}: validating")
                comparison = validate_artifact(
                    artifact,
                    candidate_probs,
                    reference_probs,
                    mnist.x_test,
                    mnist.y_test,
                    quantization_name,
                    str(source),
                )
                record.validation = {k: v for k, v in comparison.to_dict().items() if k != "disagreements"}
                record.passed = comparison.passed
        records.append(record)
    manifest = update_manifest(out, job, calibration, [asdict(r) for r in records])
    return ExportReport(str(out), str(source), str(manifest), records)


def describe(paths: list[Path], fmt: Format, quantization: str) -> ArtifactRecord:
    main = paths[0]
    return ArtifactRecord(
        file=main.name,
        format=fmt.name,
        quantization=quantization,
        size_bytes=main.stat().st_size,
        sha256=sha256_file(main),
        extra_files=[p.name for p in paths[1:]],
    )


def tensor_records(spec) -> tuple[dict, dict]:
    return (
        tensor_record(spec.input_shape, spec.input_dtype, spec.input_quant),
        tensor_record(None, spec.output_dtype, spec.output_quant),
    )
