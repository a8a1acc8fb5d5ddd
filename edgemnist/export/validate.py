"""The validation gate: run an exported artifact in its real runtime on the MNIST test set and
compare it with the Keras model it came from (through the Predictor, not the exporter's code).

An int8 ONNX artifact is also run on an emulated Haswell (``qemu:haswell``: AVX2, no AVX-512 or VNNI) when
qemu-user is installed: ONNX Runtime's U8S8 kernels there differ from this machine's, and can saturate."""

from __future__ import annotations

import platform
import shutil

import numpy as np

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
    artifact, candidate_probs, reference_probs, labels, quantization: str, reference: str
) -> Comparison:
    """``candidate_probs`` come from ``artifact``, a Predictor over the exported file opened in its own runtime."""
    tolerance = TOLERANCES[quantization]
    comparison = compare(candidate_probs, reference_probs, labels, tolerance, str(artifact.path), reference)
    needs_avx2 = quantization == "int8" and artifact.path.suffix == ".onnx" and avx2_available()
    on_avx2 = validate_on_avx2(artifact, reference_probs, labels, tolerance, reference) if needs_avx2 else None
    if on_avx2:
        comparison.elsewhere.append(on_avx2.to_dict() | {"disagreements": on_avx2.disagreements[:20]})
        comparison.failures += [f"on {AVX2_TARGET}: {reason}" for reason in on_avx2.failures]
        comparison.passed = not comparison.failures
    return comparison


def avx2_available() -> bool:
    return platform.machine() == "x86_64" and shutil.which("qemu-x86_64") is not None


def validate_on_avx2(artifact, reference_probs, labels, tolerance: Tolerance, reference: str) -> Comparison | None:
    """The artifact on qemu:haswell over the same test digits, against the same Keras reference (None when the
    default MNIST source does not hold the digits the export was validated on)."""
    from ..data import load_mnist
    from ..targets import resolve
    from ..targets.worker import predictions

    mnist = load_mnist()
    if not np.array_equal(mnist.y_test[: len(labels)], labels):
        return None
    found = predictions(resolve(AVX2_TARGET), artifact.path, mnist.x_test[: len(labels)], threads=1)
    comparison = compare(found.probabilities, reference_probs, labels, tolerance, str(artifact.path), reference)
    comparison.target = found.target
    return comparison
