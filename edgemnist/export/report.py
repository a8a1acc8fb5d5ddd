"""The export's terminal view: one row per artifact with its size and its validation against the Keras model."""

from __future__ import annotations

from ..common.render import human_bytes, percent, text_table


def export_rows(artifacts) -> list[list]:
    float_sizes = {a.format: a.size_bytes for a in artifacts if a.quantization == "float32"}
    rows = []
    for a in artifacts:
        v = a.validation or {}
        reference = float_sizes.get(a.format)
        rows.append(
            [
                a.file,
                human_bytes(a.size_bytes),
                f"{a.size_bytes / reference:.1%}" if reference else None,
                percent(v.get("accuracy")),
                percent(v.get("agreement")),
                f"{v['max_abs_diff']:.1e}" if v else None,
                {True: "pass", False: "FAIL", None: "-"}[a.passed],
            ]
        )
    return rows


EXPORT_HEADERS = ["artifact", "size", "vs float32", "accuracy", "agreement", "max |Δp|", "validation"]


def export_text(report) -> str:
    lines = [text_table(EXPORT_HEADERS, export_rows(report.artifacts))]
    for artifact in report.failed:
        lines.append(f"{artifact.file} failed: {'; '.join(artifact.validation['failures'])}")
    lines += [f"{role} {digits_line(data)}" for role, data in user_data(report)]
    lines.append(f"manifest: {report.manifest}")
    return "\n".join(lines)


def user_data(report) -> list[tuple[str, dict]]:
    """The calibration and validation digits when they are the user's own (MNIST goes without saying)."""
    quantized = any(artifact.quantization == "int8" for artifact in report.artifacts)
    pairs = [("int8 calibrated on", report.calibrated_on if quantized else None), ("validated on", report.validated_on)]
    return [(role, data) for role, data in pairs if data and data["kind"] != "mnist"]


def digits_line(data: dict) -> str:
    return f"{data['images']} images of {data['source']} ({data['part']} part)"
