"""Plain-text tables for the terminal: the same result objects also become JSON and Markdown."""

from __future__ import annotations


def text_table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[format_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|",
    ]
    lines += ["| " + " | ".join(format_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def format_cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 and value else f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def human_bytes(size: int) -> str:
    """Sizes in text and plots: IEC units (1 KiB = 1024 bytes), everywhere; JSON keeps bytes."""
    if size < 1024:
        return f"{size:.0f} B"
    scaled = size / 1024
    for unit in ("KiB", "MiB"):
        if scaled < 1024:
            return f"{scaled:.1f} {unit}"
        scaled /= 1024
    return f"{scaled:.1f} GiB"


def evaluation_text(evaluation) -> str:
    header = (
        f"{evaluation.model} ({evaluation.backend}, {evaluation.quantization}): "
        f"accuracy {evaluation.accuracy:.2%} on {evaluation.images} test images"
    )
    per_class = text_table(
        ["class", "precision", "recall", "support"],
        [[c.label, c.precision, c.recall, c.support] for c in evaluation.per_class],
    )
    confusion = text_table(
        ["true\\pred", *[c.label for c in evaluation.per_class]],
        [[c.label, *row] for c, row in zip(evaluation.per_class, evaluation.confusion)],
    )
    mistakes = text_table(
        ["test index", "label", "predicted", "confidence"],
        [[m.index, m.label, m.predicted, m.confidence] for m in evaluation.confident_mistakes],
    )
    return "\n\n".join([header, per_class, "confusion matrix", confusion, "most confidently wrong", mistakes])


def percent(value) -> str | None:
    return None if value is None else f"{value:.2%}"


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
    lines.append(f"manifest: {report.manifest}")
    return "\n".join(lines)


PARITY_HEADERS = [
    "candidate",
    "accuracy",
    "reference",
    "drop (pts)",
    "agreement",
    "max |Δp|",
    "max LSB",
    "disagree",
    "result",
]


def parity_text(comparisons, show: int = 10) -> str:
    rows = [
        [
            c.candidate,
            percent(c.accuracy),
            percent(c.reference_accuracy),
            round(c.accuracy_drop, 2),
            percent(c.agreement),
            f"{c.max_abs_diff:.1e}",
            "-" if c.max_abs_diff_lsb is None else f"{c.max_abs_diff_lsb:g}",
            len(c.disagreements),
            "pass" if c.passed else "FAIL",
        ]
        for c in comparisons
    ]
    lines = [text_table(PARITY_HEADERS, rows)]
    for c in comparisons:
        if c.disagreements:
            shown = ", ".join(map(str, c.disagreements[:show])) + (" …" if len(c.disagreements) > show else "")
            lines.append(f"{c.candidate}: disagrees with the reference on test images {shown}")
        if c.failures:
            lines.append(f"{c.candidate} FAILED: {'; '.join(c.failures)}")
    return "\n".join(lines)


def inspection_text(inspection) -> str:
    rows = [
        [
            layer.name[:40],
            layer.type,
            "×".join(map(str, layer.output_shape)),
            layer.parameters,
            layer.macs,
            layer.weight_dtype,
            layer.weight_bytes,
        ]
        for layer in inspection.layers
    ]
    table = text_table(["layer", "type", "output", "params", "MACs", "weights", "bytes"], rows)
    totals = (
        f"total: {inspection.parameters:,} parameters, {inspection.macs:,} MACs, flash "
        f"{human_bytes(inspection.flash_bytes)} "
        f"(weights and constants), activation arena ≈ {human_bytes(inspection.activation_bytes)} at batch 1, file "
        f"{human_bytes(inspection.file_bytes)}"
    )
    return "\n".join(
        [f"{inspection.model} ({inspection.format})", table, totals, *micro_arena_lines(inspection), *inspection.notes]
    )


def micro_arena_lines(inspection) -> list[str]:
    """TFLite only: the arena TFLite Micro needs, estimated (a bound) and, with --measure, measured."""
    if not inspection.bookkeeping_bytes:
        return []
    line = (
        f"TFLite Micro arena ≤ {human_bytes(inspection.arena_bytes)} ({inspection.arena_bytes:,} bytes: activations "
        f"{inspection.activation_bytes:,} + bookkeeping ≤ {inspection.bookkeeping_bytes:,})"
    )
    if inspection.arena_measured_bytes is not None:
        line += f"; measured in the real interpreter: {inspection.arena_measured_bytes:,} bytes"
    return [line]


def pipeline_text(result) -> str:
    lines = [
        f"model: {result.model} (test accuracy {result.test_accuracy:.2%})",
        text_table(EXPORT_HEADERS, export_rows(result.artifacts)),
        f"parity: {'pass' if result.parity_passed else 'FAIL'}",
        f"bench: {result.bench_json}, {result.bench_markdown}"
        + (f", {result.bench_plot}" if result.bench_plot else ""),
    ]
    lines += [
        f"explain {name}: suspect {e['suspect'] or 'none'} ({e['markdown']})" for name, e in result.explain.items()
    ]
    if result.robustness:
        lines.append("robustness: " + ", ".join(result.robustness.values()))
    return "\n".join(lines)


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``: counts read as a person writes them."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def train_text(result) -> str:
    return (
        f"{result.arch}: test accuracy {result.test_accuracy:.2%} after {plural(result.epochs, 'epoch')} "
        f"({result.parameters:,} parameters, {result.wall_time_s:.0f} s) → {result.model_path}"
    )


def prediction_text(prediction) -> str:
    others = "  ".join(f"{label}: {p:.3f}" for label, p in prediction.top_k[1:])
    return f"{prediction.path}: {prediction.label} ({prediction.confidence:.1%})" + (
        f"  next: {others}" if others else ""
    )


def predictions_text(predictions: list) -> str:
    return "\n".join(prediction_text(prediction) for prediction in predictions)


def shipped_models_text(shipped: dict) -> str:
    rows = [
        [
            m["file"],
            m["arch"],
            m["format"],
            m["quantization"],
            f"{m['accuracy']:.2%}",
            human_bytes(m["size_bytes"]),
            m["parameters"],
        ]
        for m in shipped["models"]
    ]
    table = text_table(["model", "arch", "format", "quant", "accuracy", "size", "params"], rows)
    return f"{table}\nin {shipped['folder']}"
