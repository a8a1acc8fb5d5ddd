"""``explain()``: run reference and candidate on the test set, analyse outputs and (where layers match) layers."""

from __future__ import annotations

from pathlib import Path

from ..common.files import require_file
from ..common.progress import SILENT, Progress
from ..datasets import DataSelection, DigitSet, scoring_digits, training_digits
from . import Explanation, LayerAnalysis, find_suspect, reason_for

FORMAT_OF_BACKEND = {"keras": "keras", "litert": "tflite", "onnxruntime": "onnx"}
DEBUG_IMAGES = 500  # test digits the per-layer debuggers run: ≈ 1 % noise on an SQNR, a few seconds


def kind(path) -> str:
    """A model's format from its content, as ``predict`` picks a runtime: a renamed file is still matched."""
    from ..common.files import require_file
    from ..predict import detect_backend

    return FORMAT_OF_BACKEND[detect_backend(require_file(path, "model"))]


def layer_analysis(
    reference,
    candidate,
    quantization: str,
    scored: DigitSet,
    training: DigitSet,
    debug_images: int,
    calibration: int,
    progress: Progress,
) -> tuple[LayerAnalysis | None, str | None]:
    """Per-layer errors where the runtimes can match the two models' layers; otherwise why not. The layers are
    measured on the first ``debug_images`` scored digits, calibrated on ``training``'s."""
    from ..export.calibration import representative_images

    pair = (kind(reference), kind(candidate))
    digits = scored.images[:debug_images]
    if quantization != "int8":
        return None, f"the candidate is {quantization}, not int8: per-layer quantization error does not apply"
    calibration_digits = representative_images(training.images, training.labels, calibration)
    if pair == ("keras", "tflite"):
        from .tflite import tflite_layers

        return tflite_layers(reference, candidate, calibration_digits, digits, progress), None
    if pair == ("onnx", "onnx"):
        from .onnx import onnx_layers

        return onnx_layers(reference, candidate, digits, progress), None
    return None, (
        f"layers of a .{pair[1]} candidate cannot be matched with a .{pair[0]} reference (per-layer analysis "
        "needs a Keras reference for TFLite, a float ONNX reference for ONNX): output-level analysis only"
    )


def explain(
    reference,
    candidate,
    out=None,
    data: DataSelection | str | None = None,
    limit=None,
    debug_images: int = DEBUG_IMAGES,
    calibration: int | None = None,
    threads=None,
    progress: Progress = SILENT,
) -> Explanation:
    from ..export.calibration import DEFAULT_CALIBRATION
    from ..parity import Tolerance, compare
    from ..predict import load
    from ..predict.base import predict_all
    from .outputs import analyse_outputs

    require_file(reference, "reference model")
    require_file(candidate, "candidate model")
    scored = scoring_digits(data, limit)
    digits, labels = scored.images, scored.labels
    reference_probs = predict_all(load(reference, threads=threads), digits, progress, f"{Path(reference).name}")
    candidate_model = load(candidate, threads=threads)
    candidate_probs = predict_all(candidate_model, digits, progress, f"{Path(candidate).name}")
    comparison = compare(candidate_probs, reference_probs, labels, Tolerance(), str(candidate), str(reference))
    comparison.data = scored.describe().to_dict()
    outputs = analyse_outputs(reference_probs, candidate_probs, labels)
    layers, note = layer_analysis(
        reference,
        candidate,
        candidate_model.quantization,
        scored,
        training_digits(data),
        debug_images,
        calibration or DEFAULT_CALIBRATION,
        progress,
    )
    suspect = find_suspect(layers.layers) if layers else None
    explanation = Explanation(
        str(reference),
        str(candidate),
        int(len(labels)),
        {k: v for k, v in comparison.to_dict().items() if k not in ("disagreements", "passed", "failures")},
        outputs,
        layers,
        suspect.layer if suspect else None,
        reason_for(suspect) if suspect else None,
        [note] if note else [],
    )
    if out is not None:
        from .report import write_reports

        explanation.files = write_reports(explanation, out, digits)
    return explanation
