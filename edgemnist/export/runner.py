"""``export()``: convert, write atomically, validate and record every requested artifact."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..common.errors import EdgemnistError
from ..common.files import ensure_dir, require_file, sha256_file, write_bytes
from ..common.progress import SILENT, Progress
from ..datasets import DataSelection, DigitSet, as_selection, scoring_digits, training_digits
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
    calibrated_on: dict | None = None  # the digits int8 was calibrated on (a DataRef)
    validated_on: dict | None = None  # the digits each artifact was validated on (a DataRef); None: not validated

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


EXPORT_NEEDS = (
    "export converts a trained Keras model (.keras); to compile an int8 .tflite to C for a micro-controller, use "
    "edgemnist compile"
)


def require_keras_model(path, needs: str = EXPORT_NEEDS) -> Path:
    """Export (and finetune) start from a trained Keras model; a .tflite or .onnx given instead is one line saying
    so and what ``needs`` (the converters' own messages about SavedModels name neither the file nor the fix)."""
    from ..predict import BACKENDS, detect_backend

    source = require_file(path, "model")
    found = detect_backend(source)
    if found != "keras":
        kind = BACKENDS.get(found).model_kind
        raise EdgemnistError(f"{source} is {'an' if kind[0] in 'AEIOU' else 'a'} {kind} model: {needs}")
    return source


def export(
    model_path,
    formats=("tflite",),
    quantization: str | None = None,
    out="export",
    calibration: int = DEFAULT_CALIBRATION,
    validate: bool = True,
    data: DataSelection | str | Path | None = None,
    progress: Progress = SILENT,
) -> ExportReport:
    """Convert ``model_path`` to each (format, quantization) of ``formats`` into ``out``. ``data`` is MNIST or a
    user's digits (``edgemnist.datasets``): int8 is calibrated on its training digits (MNIST's training set, the
    train part of a user's), and each artifact validated on its test digits (MNIST's test set, the test part)."""
    from ..predict import load
    from ..predict.base import predict_all
    from ..predict.keras import KerasPredictor

    targets = plan(list(formats), quantization)
    source = require_keras_model(model_path)
    out = ensure_dir(out)
    learned_from = training_digits(data)
    progress.say(f"loading {source}")
    reference = KerasPredictor(source)
    job = ExportJob(
        keras_model=reference.model,
        arch=reference.model.name,
        source_path=source,
        source_sha256=sha256_file(source),
        weights_sha256=weights_sha256(reference.model),
        calibration=representative_images(
            learned_from.images, learned_from.labels, calibration, calibration_source(learned_from)
        ),
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
    test = scoring_digits(replace(as_selection(data), part="test")) if validate else None
    reference_probs = predict_all(reference, test.images, progress, "Keras reference") if test else None
    if validate and any(fmt.validated and needs_avx2_check(paths[0], q) for (fmt, q), paths in zip(targets, written)):
        progress.say(avx2_plan())
    records = []
    for (fmt, quantization_name), paths in zip(targets, written):
        name = paths[0].name
        record = describe(paths, fmt, quantization_name)
        if fmt.validated:
            artifact = load(paths[0])  # in its real runtime, the way a user will load it
            record.input, record.output = tensor_records(artifact.spec)
            if test:
                candidate_probs = predict_all(artifact, test.images, progress, f"{name}: validating")
                comparison = validate_artifact(
                    artifact, candidate_probs, reference_probs, test.images, test.labels, quantization_name, str(source)
                )
                record.validation = {k: v for k, v in comparison.to_dict().items() if k != "disagreements"}
                record.passed = comparison.passed
        records.append(record)
    manifest = update_manifest(out, job, calibration, [asdict(r) for r in records])
    return ExportReport(
        str(out),
        str(source),
        str(manifest),
        records,
        calibrated_on=replace(learned_from.describe(), images=len(job.calibration)).to_dict(),
        validated_on=test.describe().to_dict() if test else None,
    )


def calibration_source(digits: DigitSet) -> str:
    """How the calibration limit names the digits it was drawn from."""
    return "MNIST's training set" if digits.kind == "mnist" else f"the {digits.part} part of {digits.source}"


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
