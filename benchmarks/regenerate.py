"""Regenerate the sections of benchmarks/RESULTS.md: each is one module of this package with ``models()`` (the
files it measures, hashed into its provenance before measuring) and ``body()`` (its Markdown lines, which raise when
a measurement fails). A section that fails keeps its old figures under a line that says so."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass

from edgemnist.common.files import write_text
from edgemnist.common.render import markdown_table

from .sections import RESULTS, RESUMED, ROOT, Provenance, mark_failed, now, replace_section, section_text


@dataclass(frozen=True)
class Section:
    name: str  # its markers' name in RESULTS.md
    module: str  # the module of this package that measures it
    question: str
    timed: bool = False  # its figures are wall-clock times: it waits for a quiet machine first


SECTIONS = [
    Section("shipped", "shipped", "how accurate, how robust"),
    Section("speed", "speed", "how fast", timed=True),
    Section("overhead", "predictor_overhead", "how fast", timed=True),
    Section("litert-paths", "litert_paths", "how fast", timed=True),
    Section("serve-latency", "serve_latency", "how fast", timed=True),
    Section("tflm", "tflm", "on an MCU", timed=True),
    Section("firmware", "firmware", "on an MCU"),
    Section("targets", "targets", "on which CPU"),
    Section("training-time", "training_time", "how it was chosen"),
    Section("own-digits", "own_digits", "on your own digits"),
]
BY_NAME = {section.name: section for section in SECTIONS}
QUIET_LOAD, QUIET_WAIT_S = 1.5, 120  # a 1-minute load average below this, waited for at most this long
MADE = re.compile(r"^- \*\*made by\*\* `[^`]*` on (\S+ \S+) UTC in \*\*([\d,]+) s\*\*", re.M)


def command(section: Section) -> str:
    return f"python -m benchmarks --only {section.name}"


def wait_for_quiet() -> None:
    """Other jobs inflate latencies: wait a little for the load to drop (the provenance records it either way)."""
    deadline = time.monotonic() + QUIET_WAIT_S
    while os.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
        print(f"load average {os.getloadavg()[0]:.2f} > {QUIET_LOAD}: waiting", file=sys.stderr, flush=True)
        time.sleep(15)


def regenerate(section: Section) -> bool:
    """Measure ``section`` and replace it whole; on failure, keep it and mark it failed. True when it succeeded."""
    module = importlib.import_module(f"{__package__}.{section.module}")
    if section.timed:
        wait_for_quiet()
    started, clock = now(), time.monotonic()
    print(f"=== {section.name} ({section.question})", file=sys.stderr, flush=True)
    try:
        provenance = Provenance.now(module.models(), getattr(module, "code", list)())  # code(): if it has one
        lines = module.body()
    except Exception as exc:  # a failed benchmark must leave its old figures, marked, and let the others run
        traceback.print_exc()
        mark_failed(section.name, f"{type(exc).__name__}: {exc}", started)
        return False
    seconds = time.monotonic() - clock
    heading, rest = lines[0], "\n".join(lines[1:]).lstrip("\n").split("\n")
    made = provenance.lines(command(section), started, seconds)
    replace_section(section.name, command(section), [heading, "", *made, *rest])
    print(f"=== {section.name}: {seconds:.0f} s", file=sys.stderr, flush=True)
    return True


def recorded_times(text: str) -> list[tuple[Section, str, int]]:
    """(section, when, seconds) for each section whose provenance records how long it took."""
    from .sections import section_span

    found = []
    for section in SECTIONS:
        span = section_span(section.name, text)
        made = MADE.search(text[span[0] : span[1]]) if span else None
        if made:
            found.append((section, made.group(1), int(made.group(2).replace(",", ""))))
    return found


def write_timings() -> None:
    """The ``timings`` section: each regenerated section's recorded time and their sum, read back from RESULTS.md
    itself, so that it always adds up what is there."""
    text = RESULTS.read_text()
    times = recorded_times(text)
    missing = [s.name for s in SECTIONS if s.name not in {t[0].name for t in times}]
    resumed = {s.name for s, _, _ in times if RESUMED in section_text(s.name, text)}
    rows = [
        [f"`{s.name}`", s.question, f"{when} UTC", f"{seconds:,}" + (" (resumed)" if s.name in resumed else "")]
        for s, when, seconds in times
    ]
    total = sum(seconds for _, _, seconds in times)
    at_least = "at least " if resumed else ""
    rows.append(["**all** (`python -m benchmarks all`)", "", "", f"**{at_least}{total:,}** (≈ {total / 60:.0f} min)"])
    lines = [
        "## How long regenerating takes",
        "",
        "Each section's own recorded time (its *made by* line), on the machine its provenance names:",
        "",
        markdown_table(["section", "question", "measured", "seconds"], rows),
        "",
        (
            "Not yet recorded: " + ", ".join(f"`{name}`" for name in missing) + "."
            if missing
            else "Every section is recorded."
        ),
        *(
            ["", "A resumed section timed only the part it measured again (its text says which): a full run is longer."]
            if resumed
            else []
        ),
        "",
    ]
    replace_section("timings", "python -m benchmarks: the sum of the sections' recorded times", lines)


def refresh_readme() -> None:
    """Copy the tables README.md quotes from RESULTS.md, the way docs/hooks.py fills the manual's pages."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    results, readme = RESULTS.read_text(), ROOT / "README.md"

    def quote(match: re.Match) -> str:
        key = match.group(1)
        return f"<!-- results: {key} -->\n{hooks.results_block(key, results)}\n<!-- results: end -->"

    write_text(readme, hooks.INCLUDE.sub(quote, readme.read_text()))


def main(names: list[str]) -> int:
    results = [regenerate(BY_NAME[name]) for name in names]
    write_timings()
    refresh_readme()
    failed = [name for name, ok in zip(names, results) if not ok]
    if failed:
        print(f"failed: {', '.join(failed)} (their old figures are kept, marked failed)", file=sys.stderr)
    return 1 if failed else 0
