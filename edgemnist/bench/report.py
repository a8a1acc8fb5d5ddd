"""One BenchReport, several views: terminal table, Markdown, JSON (``to_dict``) and PNG plots."""
from __future__ import annotations

from ..common.deps import import_optional
from ..common.files import atomic_path, write_text
from ..common.render import human_bytes, markdown_table, text_table

HEADERS = ["model", "backend", "quant", "size", "batch", "p50 µs", "p99 µs", "img/s", "vs bare", "cold s", "RSS", "accuracy", "agree", "params", "MACs"]


def rows_for(report) -> list[list]:
    table = []
    for row in report.rows:
        for batch, calls in row.latency.items():
            stats = calls["predictor"]
            table.append([
                row.name, row.backend, row.quantization, human_bytes(row.file_bytes), batch, stats["p50_us"], stats["p99_us"],
                round(stats["images_per_s"]), row.bare_ratio(batch), row.cold_start_s, human_bytes(row.peak_rss_bytes),
                f"{row.accuracy:.2%}", None if row.agreement is None else f"{row.agreement:.2%}", row.parameters, row.macs,
            ])
    return table


def baseline_rows(report) -> list[list]:
    return [
        [row.name, batch, name, stats["p50_us"], stats["p99_us"], round(calls["predictor"]["p50_us"] / stats["p50_us"], 3)]
        for row in report.rows if not row.error
        for batch, calls in row.latency.items()
        for name, stats in calls.items() if name != "predictor"
    ]


BASELINE_HEADERS = ["model", "batch", "bare runtime call", "p50 µs", "p99 µs", "predictor / bare"]


def error_lines(report) -> list[str]:
    return [f"{row.name}: {row.error}" for row in report.rows if row.error]


def machine_line(report) -> str:
    m, s = report.machine, report.settings
    return (f"{m['cpu']} ({m['arch']}, {m['cores']} cores, {', '.join(m['isa']) or 'no SIMD flags read'}), "
            f"{human_bytes(m['memory_bytes'] or 0)} RAM, {m['os']}, Python {m['python']}; "
            f"threads={s['threads']}, cores={s['cores'] or 'all'}, runs={s['runs']}, warm-up={s['warmup']}")


def text_report(report) -> str:
    return "\n".join([
        machine_line(report), "", text_table(HEADERS, rows_for(report)), *error_lines(report), "",
        "bare runtime baselines", text_table(BASELINE_HEADERS, baseline_rows(report)),
    ])


def markdown_report(report, title="edgemnist benchmark") -> str:
    versions = ", ".join(f"{k} {v}" for k, v in report.machine["versions"].items())
    return "\n".join([
        f"## {title}", "", f"Machine: {machine_line(report)}.", "", f"Versions: {versions}.", "",
        markdown_table(HEADERS, rows_for(report)), "", *[f"- {line}" for line in error_lines(report)], "", "Bare runtime calls, measured in the same worker:", "",
        markdown_table(BASELINE_HEADERS, baseline_rows(report)), "",
    ])


def write_markdown(report, path, title="edgemnist benchmark"):
    return write_text(path, markdown_report(report, title))


def write_plot(report, path):
    """Latency per model and batch (log scale), and accuracy against file size."""
    matplotlib = import_optional("matplotlib", "plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in report.rows if not row.error]
    batches = report.settings["batches"]
    figure, (latency_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.8 / max(1, len(batches))
    for i, batch in enumerate(batches):
        positions = [j + i * width for j in range(len(rows))]
        latency_axes.bar(positions, [row.p50(batch) or 0 for row in rows], width, label=f"batch {batch}")
    latency_axes.set_xticks([j + width * (len(batches) - 1) / 2 for j in range(len(rows))])
    latency_axes.set_xticklabels([row.name for row in rows], rotation=35, ha="right", fontsize=8)
    latency_axes.set_yscale("log")
    latency_axes.set_ylabel("p50 latency per call (µs, log scale)")
    threads = report.settings["threads"]
    latency_axes.set_title(f"Predictor latency per call, {threads or 'default'} thread{'s' if threads != 1 else ''}")
    latency_axes.legend()
    for index, row in enumerate(sorted(rows, key=lambda r: r.file_bytes)):
        point = (row.file_bytes / 1024, row.accuracy * 100)
        accuracy_axes.scatter(*point)
        # Artifacts of equal size and accuracy sit on one point: stagger their labels.
        accuracy_axes.annotate(row.name, point, fontsize=7, xytext=(5, 4 - 10 * (index % 3)), textcoords="offset points")
    accuracies = [row.accuracy * 100 for row in rows]
    if accuracies:  # at least half a point of range, so rounding-level differences do not look large
        middle = (max(accuracies) + min(accuracies)) / 2
        half = max(0.25, (max(accuracies) - min(accuracies)) * 0.6)
        accuracy_axes.set_ylim(middle - half, middle + half)
    accuracy_axes.set_xscale("log")
    accuracy_axes.set_xlabel("file size (KB, log scale)")
    accuracy_axes.set_ylabel("MNIST test accuracy (%)")
    accuracy_axes.set_title("Accuracy vs size")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110, format="png")
    plt.close(figure)
    return path
