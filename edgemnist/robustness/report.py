"""Views of one RobustnessReport: terminal text, Markdown, JSON (``to_dict``) and a heat-map PNG."""

from __future__ import annotations

from pathlib import Path

from ..common.files import write_text
from ..common.plotting import pyplot, save_figure
from ..common.render import markdown_table, percent, text_table

SIGNIFICANT = 0.05


def accuracy_rows(report) -> tuple[list[str], list[list]]:
    names = list(report.models[0].accuracy) if report.models else []
    headers = ["corruption", "severity", *[Path(m.model).name for m in report.models]]
    rows = [
        [name, report.severities.get(name) or None, *[percent(m.accuracy[name]) for m in report.models]]
        for name in names
    ]
    rows.append([f"mean of {len(names) - 1} corruptions", None, *[percent(m.mean) for m in report.models]])
    rows.append(["worst", None, *[f"{m.worst} {percent(m.accuracy[m.worst])}" for m in report.models]])
    return headers, rows


def difference_rows(report) -> tuple[list[str], list[list]]:
    headers = [
        "int8 model",
        "vs float",
        "corruption",
        "int8",
        "float",
        "Δ (pts)",
        "only int8 right",
        "only float right",
        "p (McNemar)",
    ]
    rows = [
        [
            Path(d.int8).name,
            Path(d.float).name,
            d.corruption,
            percent(d.int8_accuracy),
            percent(d.float_accuracy),
            f"{d.difference:+.2f}",
            d.only_int8_right,
            d.only_float_right,
            f"{d.p_value:.3g}" + (" *" if d.p_value < SIGNIFICANT else ""),
        ]
        for d in report.differences
    ]
    return headers, rows


def summary(report) -> str:
    significant = [d for d in report.differences if d.p_value < SIGNIFICANT]
    if not report.differences:
        return "no int8 model with a float32 partner of the same arch: no int8-versus-float comparison"
    if not significant:
        return f"int8 versus float: no difference significant at p < {SIGNIFICANT} on any corrupted set"
    worst = min(significant, key=lambda d: d.difference)
    return (
        f"int8 versus float: {len(significant)} of {len(report.differences)} differences significant at p < "
        f"{SIGNIFICANT}; "
        f"largest {worst.difference:+.2f} pts ({Path(worst.int8).name}, {worst.corruption})"
    )


def robustness_text(report) -> str:
    lines = [
        f"accuracy on {report.images} MNIST test digits per MNIST-C corruption (seed {report.seed})",
        text_table(*accuracy_rows(report)),
    ]
    if report.differences:
        lines += ["", "int8 versus float (discordant digits; * p < 0.05)", text_table(*difference_rows(report))]
    lines += ["", summary(report)]
    return "\n".join(lines)


def write_markdown(report, path, title: str = "Robustness under MNIST-C corruptions") -> Path:
    parts = [
        f"# {title}",
        "",
        f"Accuracy on {report.images} MNIST test digits per corruption (severity as used; -: the corruption has none), "
        f"seed {report.seed}.",
        "",
        markdown_table(*accuracy_rows(report)),
        "",
    ]
    if report.differences:
        parts += [
            "## int8 versus float",
            "",
            "Digits only one of the two models classifies correctly, and the exact McNemar p-value on them.",
            "",
            markdown_table(*difference_rows(report)),
            "",
        ]
    parts += [summary(report), ""]
    return write_text(path, "\n".join(parts))


def write_heatmap(report, path) -> Path:
    """Accuracy per corruption (rows) × model (columns), the value written in each cell."""
    import numpy as np

    plt = pyplot()

    names = list(report.models[0].accuracy)
    grid = np.array([[m.accuracy[n] * 100 for m in report.models] for n in names])
    fig, ax = plt.subplots(figsize=(2.2 + 1.6 * len(report.models), 0.42 * len(names) + 1.6))
    image = ax.imshow(grid, cmap="RdYlGn", vmin=max(0, grid.min() - 5), vmax=100, aspect="auto")
    ax.set_xticks(range(len(report.models)), [Path(m.model).name for m in report.models], rotation=20, ha="right")
    ax.set_yticks(
        range(len(names)), [f"{n} ({report.severities[n]})" if report.severities.get(n) else n for n in names]
    )
    for (row, col), value in np.ndenumerate(grid):
        ax.text(col, row, f"{value:.1f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label="accuracy (%)")
    ax.set_title(f"MNIST-C accuracy, {report.images} test digits")
    fig.tight_layout()
    return save_figure(fig, path)


def write_reports(report, out) -> dict:
    """robustness.json, robustness.md and (with matplotlib) robustness.png in ``out``; returns what was written."""
    from ..common.errors import EdgemnistError
    from ..common.files import write_json

    files = {
        "json": str(write_json(Path(out) / "robustness.json", report.to_dict())),
        "markdown": str(write_markdown(report, Path(out) / "robustness.md")),
    }
    try:
        files["heatmap"] = str(write_heatmap(report, Path(out) / "robustness.png"))
    except EdgemnistError:  # no matplotlib on a device: the tables stand without the picture
        pass
    return files
