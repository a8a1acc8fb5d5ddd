"""The validation gate: run an exported artifact in its real runtime on the MNIST test set and
compare it with the Keras model it came from (through the Predictor, not the exporter's code)."""

from __future__ import annotations

from ..parity import Comparison, Tolerance, compare

# float32 must be the same function; float16 rounds weights (≈ 3 significant digits); dynamic and int8
# quantize, so they are held to top-1 agreement and accuracy instead.
TOLERANCES = {
    "float32": Tolerance(min_agreement=1.0, atol=1e-4),
    "float16": Tolerance(atol=1e-2),
    "dynamic": Tolerance(max_drop=0.3, min_agreement=0.995),
    "int8": Tolerance(max_drop=0.3, min_agreement=0.995),
}


def validate_artifact(
    artifact, candidate_probs, reference_probs, labels, quantization: str, reference: str
) -> Comparison:
    """``candidate_probs`` come from ``artifact``, a Predictor over the exported file opened in its own runtime."""
    return compare(candidate_probs, reference_probs, labels, TOLERANCES[quantization], str(artifact.path), reference)
