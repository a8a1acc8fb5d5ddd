"""Views of one Explanation: terminal text, Markdown, JSON (``to_dict``), a gallery and a |Δp| histogram PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..common.files import ensure_dir, write_json, write_text
from ..common.plotting import pyplot, save_figure
from ..common.render import markdown_table, percent, text_table

GALLERY_MAX = 60  # digits in the gallery; the JSON lists every disagreement


def layer_rows(explanation) -> tuple[list[str], list[list]]:
    headers = ["layer", "op", "SQNR (dB)", "RMSE (steps)", "scale", "float range", "→0", "weights →0", ""]
    rows = (
        [
            [
                layer.layer,
                layer.op,
                layer.sqnr_db,
                layer.rmse_steps,
                f"{layer.scale:.3g}" if layer.scale else None,
                f"{layer.float_min:.3g}…{layer.float_max:.3g}" if layer.float_max is not None else None,
                percent(layer.zero_share),
                percent(layer.weight_zero_share),
                "← suspect" if layer.layer == explanation.suspect else "",
            ]
            for layer in explanation.layers.layers
        ]
        if explanation.layers
        else []
    )
    return headers, rows


def class_rows(explanation) -> tuple[list[str], list[list]]:
    headers = ["class", "support", "reference", "candidate", "Δ (pts)"]
    return headers, [
        [c.label, c.support, percent(c.reference_accuracy), percent(c.candidate_accuracy), f"{c.difference:+.2f}"]
        for c in explanation.outputs.per_class
    ]


def headline(explanation) -> list[str]:
    c, differing = explanation.comparison, len(explanation.outputs.disagreements)
    lines = [
        f"{explanation.candidate} against {explanation.reference} on {explanation.images} test digits: "
        f"accuracy {percent(c['accuracy'])} vs {percent(c['reference_accuracy'])}, agreement "
        f"{percent(c['agreement'])}, "
        f"{differing} digit{'' if differing == 1 else 's'} answered differently"
    ]
    if explanation.suspect:
        lines.append(f"suspect: {explanation.suspect} — {explanation.reason}")
    elif explanation.layers:
        lines.append("suspect: none — no layer's error jumps (SQNR below 15 dB and 10 dB under the layers before it)")
    else:
        lines.append("suspect: unknown — no per-layer analysis for this pair (see the note)")
    return lines


def quantile_text(explanation) -> str:
    return "largest |Δp| per digit: " + ", ".join(
        f"{k} {v:.2g}" for k, v in explanation.outputs.abs_diff_quantiles.items()
    )


def explain_text(explanation) -> str:
    lines = headline(explanation)
    if explanation.layers:
        lines += [
            "",
            f"per-layer error ({explanation.layers.method}, {explanation.layers.images} digits), execution order",
            text_table(*layer_rows(explanation)),
            *explanation.layers.notes,
        ]
    lines += [
        *explanation.notes,
        "",
        "accuracy per class",
        text_table(*class_rows(explanation)),
        "",
        quantile_text(explanation),
    ]
    if explanation.files:
        lines.append("reports: " + ", ".join(explanation.files.values()))
    return "\n".join(lines)


def markdown(explanation) -> str:
    parts = [
        f"# Why {Path(explanation.candidate).name} differs from {Path(explanation.reference).name}",
        "",
        *[f"- {line}" for line in headline(explanation)],
        "",
    ]
    if explanation.layers:
        parts += [
            "## Per-layer error",
            "",
            f"{explanation.layers.method}, {explanation.layers.images} test digits. "
            "SQNR: float signal power over quantization noise; RMSE in units of the tensor's quantization step; "
            "→0: share of values (weights) quantized to 0.",
            "",
            markdown_table(*layer_rows(explanation)),
            "",
            *[f"> {note}" for note in explanation.layers.notes],
        ]
    parts += [
        *[f"> {note}" for note in explanation.notes],
        "",
        "## Answers",
        "",
        markdown_table(*class_rows(explanation)),
        "",
        "Confusion matrix difference (candidate − reference; rows true, columns predicted):",
        "",
        markdown_table(
            ["true\\pred", *map(str, range(10))],
            [[str(t), *row] for t, row in enumerate(explanation.outputs.confusion_difference)],
        ),
        "",
        quantile_text(explanation),
        "",
    ]
    for key, title in (("gallery", "Disagreeing digits"), ("histogram", "Distribution of |Δp|")):
        if key in explanation.files:
            parts += [f"![{title}]({Path(explanation.files[key]).name})", ""]
    return "\n".join(parts)


def write_gallery(explanation, digits: np.ndarray, path) -> Path:
    """Each disagreeing digit with its label, the reference's and the candidate's answer and confidence."""
    plt = pyplot()
    shown = explanation.outputs.disagreements[:GALLERY_MAX]
    columns = 8
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.45, rows * 1.75 + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, d in zip(axes.ravel(), shown):
        ax.imshow(digits[d.index], cmap="gray", vmin=0, vmax=255)
        ax.set_title(
            f"#{d.index} label {d.label}\nref {d.reference} ({d.reference_confidence:.0%})\n"
            f"cand {d.candidate} ({d.candidate_confidence:.0%})",
            fontsize=7,
        )
    total = len(explanation.outputs.disagreements)
    fig.suptitle(
        f"{total} disagreeing digits" + (f" (first {len(shown)})" if total > len(shown) else "")
        if total
        else "no disagreeing digits",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))  # room for the title above the first row
    return save_figure(fig, path, dpi=100)


def write_histogram(explanation, path) -> Path:
    plt = pyplot()
    histogram = explanation.outputs.abs_diff_histogram
    edges, counts = np.array(histogram["edges"]), np.array(histogram["counts"])
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.bar(range(len(counts)), counts, width=0.9)
    ax.set_xticks(range(0, len(counts), 4), [f"{e:.0e}" for e in edges[1::4]], fontsize=7)
    ax.set_yscale("log")
    ax.set_xlabel("largest |Δp| of a digit (bin upper edge)")
    ax.set_ylabel("digits")
    ax.set_title(quantile_text(explanation), fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)


def write_reports(explanation, out, digits: np.ndarray) -> dict:
    """explain.json, explain.md, gallery.png and abs_diff.png in ``out``."""
    out = ensure_dir(out)
    files = {}
    try:
        files["gallery"] = str(write_gallery(explanation, digits, out / "gallery.png"))
        files["histogram"] = str(write_histogram(explanation, out / "abs_diff.png"))
    except Exception as exc:  # matplotlib is optional; the text reports stand without the pictures
        explanation.notes.append(f"no PNGs: {exc}")
    files["json"] = str(out / "explain.json")
    files["markdown"] = str(write_text(out / "explain.md", markdown(explanation)))
    explanation.files = files
    write_json(out / "explain.json", explanation.to_dict())
    return files
