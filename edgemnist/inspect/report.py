"""The terminal view of an Inspection: per-layer table, totals and the micro-controller arena."""

from __future__ import annotations

from ..common.render import human_bytes, text_table


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
        return [line + f"; measured in the real interpreter: {inspection.arena_measured_bytes:,} bytes"]
    unchecked = inspection.arena_unchecked_ops
    return [line] + (
        [f"arena bound not checked on ops {', '.join(unchecked)}: measure it with --measure"] if unchecked else []
    )
