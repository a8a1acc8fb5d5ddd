"""One BenchReport, several views: terminal table, Markdown, JSON (``to_dict``) and PNG plots."""

from __future__ import annotations

from ..common.files import write_text
from ..common.plotting import pyplot, save_figure
from ..common.render import human_bytes, markdown_table, percent, plural, text_table

# MACs per digit beside the latency: what a micro-controller's time follows, even where a desktop core disagrees.
HEADERS = [
    "model",
    "backend",
    "quant",
    "size",
    "batch",
    "p50 µs",
    "MACs",
    "p99 µs",
    "img/s",
    "vs bare",
    "cold s",
    "RSS",
    "accuracy",
    "agree",
    "params",
]


def rows_for(report) -> list[list]:
    table = []
    for row in report.rows:
        for batch, calls in row.latency.items():
            stats = calls["predictor"]
            table.append(
                [
                    row.label,
                    row.backend,
                    row.quantization,
                    human_bytes(row.file_bytes),
                    batch,
                    stats["p50_us"],
                    row.macs,
                    stats["p99_us"],
                    round(stats["images_per_s"]),
                    row.bare_ratio(batch),
                    row.cold_start_s,
                    human_bytes(row.peak_rss_bytes),
                    f"{row.accuracy:.2%}",
                    percent(row.agreement),
                    row.parameters,
                ]
            )
    return table


def baseline_rows(report) -> list[list]:
    return [
        [
            row.label,
            batch,
            name,
            stats["p50_us"],
            stats["p99_us"],
            round(calls["predictor"]["p50_us"] / stats["p50_us"], 3),
        ]
        for row in report.rows
        if not row.error
        for batch, calls in row.latency.items()
        for name, stats in calls.items()
        if name != "predictor"
    ]


BASELINE_HEADERS = ["model", "batch", "bare runtime call", "p50 µs", "p99 µs", "predictor / bare"]


INSTRUCTION_HEADERS = [
    "model",
    "batch",
    "guest instructions / call",
    "per digit",
    "bare runtime call / call",
    "accuracy",
    "agree",
]
# Why the emulated figures are counts, not times: said wherever they are shown.
INSTRUCTIONS_NOTE = (
    "guest instructions per call, counted by a QEMU TCG plugin on the emulated CPU's instruction stream; not a "
    "latency: every instruction weighs the same, while a real core's time also depends on its pipeline, caches, "
    "memory and clock"
)


def instruction_rows(report) -> list[list]:
    """Under emulation: guest instructions per call and per digit (QEMU's count), never µs."""
    return [
        [
            row.label,
            batch,
            calls["predictor"]["per_inference"],
            calls["predictor"]["per_digit"],
            next((c["per_inference"] for name, c in calls.items() if name != "predictor"), None),
            percent(row.accuracy),
            percent(row.agreement),
        ]
        for row in report.rows
        for batch, calls in row.instructions.items()
        if "predictor" in calls
    ]


def error_lines(report) -> list[str]:
    return [f"{row.label}: {row.error}" for row in report.rows if row.error]


def board_groups(report) -> dict[str, list]:
    """The rows of each remote board (``bench --on``), in the report's order; empty for a local run."""
    groups: dict[str, list] = {}
    for row in report.rows:
        if row.board:
            groups.setdefault(row.board, []).append(row)
    return groups


def state_text(before: dict, after: dict) -> str:
    """Clocks, SoC temperature around the runs and throttling, as far as the board exposes them."""
    readings = [
        f"cpus {p['cpus']}: {p['governor']}, {p['cur_mhz']}/{p['max_mhz']} MHz" for p in before.get("cpufreq", [])
    ]
    if before.get("soc_temp_c") is not None:
        readings.append(f"SoC {before['soc_temp_c']} → {after.get('soc_temp_c')} °C")
    if after.get("throttled"):
        readings.append(f"throttled {after['throttled']['raw']} ({', '.join(after['throttled']['flags']) or 'never'})")
    if before.get("load_avg") and after.get("load_avg"):
        readings.append(f"load average {before['load_avg'][0]} → {after['load_avg'][0]}")
    return "; ".join(readings) or "no state readings"


def no_state(rows) -> str:
    """Why a board has no state line: none of its runs finished, or it exposes none (a Cortex-M firmware)."""
    return "no run finished" if all(row.error for row in rows) else "no state readings"


def board_lines(report) -> list[str]:
    """One line per board: what it is, which Python ran the workers, and its state before the first and after
    the last timed run."""
    lines = []
    for board, rows in board_groups(report).items():
        machine = next((row.machine for row in rows if row.machine), None)
        if not machine:
            lines.append(f"{board}: not measured (see its rows' errors)")
            continue
        states = [row.state for row in rows if row.state]
        runtimes = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if k not in ("python", "numpy"))
        state = state_text(states[0]["before"], states[-1]["after"]) if states else no_state(rows)
        lines.append(
            f"{board}: {machine['hostname']}, {machine['board'] or machine['cpu']} ({machine['arch']}, "
            f"{plural(machine['cores'], 'core')}), "
            f"{host_software(machine, runtimes)}; {state}"
        )
    return lines


def host_software(machine: dict, runtimes: str) -> str:
    """The board's OS, Python and runtimes; a bare-metal target (a Cortex-M firmware) has none of them."""
    parts = [f"Linux {machine['kernel']}" if machine.get("kernel") else None]
    if machine.get("python"):
        parts.append(f"Python {machine['python']} at {machine['executable']}")
    return ", ".join(part for part in [*parts, runtimes] if part) or "bare metal"


def comparison(report) -> tuple[list[str], list[list]] | None:
    """p50 µs per model and batch, one column per board that was reached: the boards side by side (None
    with fewer than two)."""
    groups = {
        board: rows for board, rows in board_groups(report).items() if any(row.machine and row.latency for row in rows)
    }
    if len(groups) < 2:
        return None
    models = list(dict.fromkeys(row.name for row in report.rows))
    by_board = {board: {row.name: row for row in rows} for board, rows in groups.items()}
    table = [
        [model, batch, *[by_board[board][model].p50(batch) if model in by_board[board] else None for board in groups]]
        for model in models
        for batch in report.settings["batches"]
    ]
    return ["model", "batch", *[f"{board} p50 µs" for board in groups]], table


MICRO_HEADERS = [
    "model",
    "quant",
    "MACs",
    "TFLM µs/digit (reference-kernel proxy)",
    "arena estimate B",
    "arena measured B",
]


def micro_table(report) -> tuple[list[str], list[list]] | None:
    """TFLite artifacts as a micro-controller sees them: MACs, inspect's arena bound and the arena the real
    TFLite Micro interpreter needs, and with --backend tflm its time per digit on TFLM's reference kernels:
    a proxy that ranks models the way an MCU will, not an MCU's latency."""
    rows = [
        row for row in report.rows if not row.error and (row.backend == "tflm" or row.arena_measured_bytes is not None)
    ]
    if not rows:
        return None
    batch = report.settings["batches"][0]

    def per_digit(row):
        return round(row.p50(batch) / batch, 1) if row.backend == "tflm" and row.p50(batch) else None

    return MICRO_HEADERS, [
        [row.label, row.quantization, row.macs, per_digit(row), row.arena_bytes, row.arena_measured_bytes]
        for row in rows
    ]


def machine_line(report) -> str:
    m, s = report.machine, report.settings
    return (
        f"{m['cpu']} ({m['arch']}, {plural(m['cores'], 'core')}, {', '.join(m['isa']) or 'no SIMD flags read'}), "
        f"{human_bytes(m['memory_bytes'] or 0)} RAM, {m['os']}, Python {m['python']}; "
        f"threads={s['threads']}, cores={s['cores'] or 'all'}, runs={s['runs']}, warm-up={s['warmup']}"
    )


def data_lines(report) -> list[str]:
    """Which digits the accuracy column scored, when they are not MNIST's test set."""
    data = report.settings.get("data")
    if not data or data["kind"] == "mnist":
        return []
    return [f"accuracy on {data['images']} images of {data['source']} ({data['part']}; {data['preprocessing']})"]


def text_report(report) -> str:
    side_by_side = comparison(report)
    return "\n".join(
        [
            machine_line(report),
            *board_lines(report),
            *data_lines(report),
            "",
            *([text_table(HEADERS, timed)] if (timed := rows_for(report)) else []),
            *error_lines(report),
            "",
            *(["boards side by side", text_table(*side_by_side), ""] if side_by_side else []),
            *(["TFLite Micro", text_table(*micro), ""] if (micro := micro_table(report)) else []),
            *(
                [INSTRUCTIONS_NOTE, text_table(INSTRUCTION_HEADERS, counted), ""]
                if (counted := instruction_rows(report))
                else []
            ),
            *(
                ["bare runtime baselines", text_table(BASELINE_HEADERS, bare)]
                if (bare := baseline_rows(report))
                else []
            ),
        ]
    )


def markdown_report(report, title="edgemnist benchmark") -> str:
    versions = ", ".join(f"{k} {v}" for k, v in report.machine["versions"].items())
    side_by_side = comparison(report)
    return "\n".join(
        [
            f"## {title}",
            "",
            f"Machine: {machine_line(report)}.",
            "",
            f"Versions: {versions}.",
            "",
            *(
                [
                    "Boards (the rows were measured there, over SSH):",
                    "",
                    *[f"- {line}" for line in board_lines(report)],
                    "",
                ]
                if board_groups(report)
                else []
            ),
            *(["Boards side by side:", "", markdown_table(*side_by_side), ""] if side_by_side else []),
            *([markdown_table(HEADERS, timed), ""] if (timed := rows_for(report)) else []),
            *[f"- {line}" for line in error_lines(report)],
            "",
            *(
                [
                    "TFLite Micro (the TFLM time is its reference kernels' cost on this machine: it ranks models as "
                    "an MCU "
                    "will, it is not an MCU's latency):",
                    "",
                    markdown_table(*micro),
                    "",
                ]
                if (micro := micro_table(report))
                else []
            ),
            *(
                [f"Emulated: {INSTRUCTIONS_NOTE}.", "", markdown_table(INSTRUCTION_HEADERS, counted), ""]
                if (counted := instruction_rows(report))
                else []
            ),
            *(
                ["Bare runtime calls, measured in the same worker:", "", markdown_table(BASELINE_HEADERS, bare), ""]
                if (bare := baseline_rows(report))
                else []
            ),
        ]
    )


def write_markdown(report, path, title="edgemnist benchmark"):
    return write_text(path, markdown_report(report, title))


def write_plot(report, path):
    """Latency per model and batch (log scale), and accuracy against file size."""
    plt = pyplot()
    rows = [row for row in report.rows if not row.error]
    batches = report.settings["batches"]
    figure, (latency_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(13, 5))
    width = 0.8 / max(1, len(batches))
    for i, batch in enumerate(batches):
        positions = [j + i * width for j in range(len(rows))]
        latency_axes.bar(positions, [row.p50(batch) or 0 for row in rows], width, label=f"batch {batch}")
    latency_axes.set_xticks([j + width * (len(batches) - 1) / 2 for j in range(len(rows))])
    latency_axes.set_xticklabels([row.label for row in rows], rotation=35, ha="right", fontsize=8)
    latency_axes.set_yscale("log")
    latency_axes.set_ylabel("p50 latency per call (µs, log scale)")
    threads = report.settings["threads"]
    latency_axes.set_title(f"Predictor latency per call, {threads or 'default'} thread{'s' if threads != 1 else ''}")
    latency_axes.legend()
    for index, row in enumerate(sorted(rows, key=lambda r: r.file_bytes)):
        point = (row.file_bytes / 1024, row.accuracy * 100)
        accuracy_axes.scatter(*point)
        # Artifacts of equal size and accuracy sit on one point: stagger their labels.
        accuracy_axes.annotate(
            row.label, point, fontsize=7, xytext=(5, 4 - 10 * (index % 3)), textcoords="offset points"
        )
    accuracies = [row.accuracy * 100 for row in rows]
    if accuracies:  # at least half a point of range, so rounding-level differences do not look large
        middle = (max(accuracies) + min(accuracies)) / 2
        half = max(0.25, (max(accuracies) - min(accuracies)) * 0.6)
        accuracy_axes.set_ylim(middle - half, middle + half)
    accuracy_axes.set_xscale("log")
    accuracy_axes.set_xlabel("file size (KiB, log scale)")
    accuracy_axes.set_ylabel("MNIST test accuracy (%)")
    accuracy_axes.set_title("Accuracy vs size")
    figure.tight_layout()
    save_figure(figure, path)
    return path
