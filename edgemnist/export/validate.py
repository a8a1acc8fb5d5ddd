"""The validation gate: run an exported artifact in its real runtime on the MNIST test set and
compare it with the Keras model it came from (through the Predictor, not the exporter's code).

An int8 ONNX artifact is also run on an emulated Haswell (``qemu:haswell``: AVX2, no AVX-512 or VNNI) over the
same digits: ONNX Runtime's U8S8 kernels there differ from this machine's, and can saturate. Where that cannot
run, the comparison records the check as skipped, with the reason."""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

from ..parity import Comparison, Tolerance, compare

# float32 must be the same function; float16 rounds weights (≈ 3 significant digits); dynamic and int8
# quantize, so they are held to top-1 agreement and accuracy instead.
TOLERANCES = {
    "float32": Tolerance(min_agreement=1.0, atol=1e-4),
    "float16": Tolerance(atol=1e-2),
    "dynamic": Tolerance(max_drop=0.3, min_agreement=0.995),
    "int8": Tolerance(max_drop=0.3, min_agreement=0.995),
}
AVX2_TARGET = "qemu:haswell"


def validate_artifact(
    artifact, candidate_probs, reference_probs, digits, labels, quantization: str, reference: str
) -> Comparison:
    """``candidate_probs`` come from ``artifact``, a Predictor over the exported file opened in its own runtime,
    on ``digits``; ``reference_probs`` from the Keras model on the same digits."""
    tolerance = TOLERANCES[quantization]
    comparison = compare(candidate_probs, reference_probs, labels, tolerance, str(artifact.path), reference)
    if needs_avx2_check(artifact.path, quantization):
        check_on_avx2(comparison, artifact, reference_probs, digits, labels, tolerance, reference)
    return comparison


def needs_avx2_check(path, quantization: str) -> bool:
    return quantization == "int8" and Path(path).suffix == ".onnx"


def avx2_unavailable() -> str | None:
    """Why int8 ONNX cannot also be validated on qemu:haswell here; None when it can."""
    if platform.machine() != "x86_64":
        return f"this machine is {platform.machine()}: {AVX2_TARGET} runs this machine's own x86-64 Python"
    if shutil.which("qemu-x86_64") is None:
        return "qemu-x86_64 is not installed (apt-get install qemu-user)"
    return None


def avx2_plan() -> str:
    """One line for the console: where int8 ONNX artifacts are validated besides this machine, or why not."""
    reason = avx2_unavailable()
    if reason:
        return f"int8 ONNX: not validated on an emulated Haswell ({AVX2_TARGET}): {reason}"
    return f"int8 ONNX: validated here and on an emulated Haswell ({AVX2_TARGET}: AVX2, no AVX-512 or VNNI)"


def check_on_avx2(
    comparison: Comparison, artifact, reference_probs, digits, labels, tolerance: Tolerance, reference: str
) -> None:
    """Add the qemu:haswell comparison to ``comparison.elsewhere`` (its failures to the comparison's), or the
    check as skipped with its reason."""
    reason = avx2_unavailable()
    if reason:
        comparison.elsewhere.append({"target": AVX2_TARGET, "skipped": reason})
        return
    on_avx2 = validate_on_avx2(artifact, reference_probs, digits, labels, tolerance, reference)
    comparison.elsewhere.append(on_avx2.to_dict() | {"disagreements": on_avx2.disagreements[:20]})
    comparison.failures += [f"on {AVX2_TARGET}: {failure}" for failure in on_avx2.failures]
    comparison.passed = not comparison.failures


def validate_on_avx2(artifact, reference_probs, digits, labels, tolerance: Tolerance, reference: str) -> Comparison:
    """The artifact on qemu:haswell over ``digits``, the test digits it was validated on here, against the same
    Keras reference."""
    from ..targets import resolve
    from ..targets.worker import predictions

    found = predictions(resolve(AVX2_TARGET), artifact.path, digits, threads=1)
    comparison = compare(found.probabilities, reference_probs, labels, tolerance, str(artifact.path), reference)
    comparison.target = found.target
    return comparison
