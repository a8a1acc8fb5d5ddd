"""benchmarks/RESULTS.md is made of sections, each between ``<!-- NAME: begin (HOW) -->`` and ``<!-- NAME: end -->``.

A regenerated section starts with where its figures came from (its provenance): the model files it measured, each
with the first 12 hex digits of its sha256, the commit, the machine and its load, the date and how long it took.
A section whose figures are a function of our own code too (the firmware's C kernels and compiler) also records
that code's folders, hashed the same way. tests/test_results.py compares those hashes with the shipped files and
the code now, so a quoted figure of a model or kernel that has changed since is a failing test. A section is
replaced whole, by an atomic write of the file; a failed regeneration leaves the old section in place with a line
saying so.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from edgemnist.common.files import write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SHIPPED = "edgemnist/pretrained/"
MODEL = re.compile(r"`([^`]+)` sha256 `([0-9a-f]{12})`")  # a model file's, or a code folder's, short hash
FAILED = re.compile(r"^\*\*Last regeneration failed on [^\n]*\n\n", re.M)
RESUMED = "measured by earlier runs of this section"  # said by a section that timed only part of its figures
DERIVED = {"timings"}  # sections computed from the others' provenance lines: they measure nothing themselves


def short_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def folder_sha256(folder: Path) -> str:
    """A folder's short hash over its files' paths and bytes, Python's caches left out: it changes exactly when
    the code a section measured does."""
    digest = hashlib.sha256()
    files = sorted(path for path in Path(folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def repo_path(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it: what a reader can open."""
    path = Path(path).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def commit() -> str:
    """``git rev-parse --short HEAD``, plus "+dirty" when the tree has uncommitted changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def machine_line() -> str:
    from edgemnist.targets.machine import machine_info

    info = machine_info()
    isa = ", ".join(info["isa"]) or "no SIMD flags listed"
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items() if version)
    return (
        f"{info['cpu']} ({info['arch']}, {info['cores']} cores, {isa}), {info['os']}; {versions}; "
        f"1-minute load average {os.getloadavg()[0]:.2f} at the start"
    )


@dataclass
class Provenance:
    """Where a section's figures came from, written at its top."""

    models: dict[str, str]  # repository path → short sha256, hashed before measuring
    commit: str
    machine: str
    code: dict[str, str] = field(default_factory=dict)  # code folder → folder_sha256, for the sections that name one

    @classmethod
    def now(cls, models: list[Path], code: list[Path] = ()) -> Provenance:
        hashed = {repo_path(folder): folder_sha256(folder) for folder in code}
        return cls({repo_path(m): short_sha256(m) for m in models}, commit(), machine_line(), hashed)

    def lines(self, command: str, started: datetime, seconds: float) -> list[str]:
        files = ", ".join(f"`{path}` sha256 `{sha}`" for path, sha in self.models.items()) or "none"
        folders = ", ".join(f"`{path}` sha256 `{sha}`" for path, sha in self.code.items())
        return [
            f"- **made by** `{command}` on {started:%Y-%m-%d %H:%M} UTC in **{seconds:,.0f} s**",
            f"- **models measured**: {files}",
            *([f"- **code measured**: {folders}"] if folders else []),
            f"- **commit** `{self.commit}`",
            f"- **machine**: {self.machine}, {os.getloadavg()[0]:.2f} at the end",
            "",
        ]


def now() -> datetime:
    return datetime.now(timezone.utc)


def markers(name: str) -> tuple[re.Pattern, str]:
    return re.compile(rf"^<!-- {re.escape(name)}: begin \([^\n]*\) -->$", re.M), f"<!-- {name}: end -->"


def section_span(name: str, text: str) -> tuple[int, int] | None:
    """Start and end offsets of section ``name`` in ``text``, markers included."""
    begin, end = markers(name)
    found = begin.search(text)
    if not found or text.find(end, found.end()) < 0:
        return None
    return found.start(), text.find(end, found.end()) + len(end)


@contextmanager
def locked(results: Path):
    """One writer at a time: two regenerations running at once must not lose each other's section."""
    key = hashlib.sha256(str(results.resolve()).encode()).hexdigest()[:12]
    with open(Path(tempfile.gettempdir()) / f"edgemnist-results-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def replace_section(name: str, how: str, lines: list[str], results: Path = RESULTS) -> None:
    """Replace section ``name`` whole (or append it), writing the file atomically."""
    with locked(results):
        replace_text(name, how, lines, results)


def replace_text(name: str, how: str, lines: list[str], results: Path) -> None:
    text = results.read_text() if results.is_file() else ""
    block = "\n".join([f"<!-- {name}: begin ({how}) -->", *lines, f"<!-- {name}: end -->"])
    span = section_span(name, text)
    if span:
        text = text[: span[0]] + block + text[span[1] :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    write_text(results, text)


def mark_failed(name: str, reason: str, when: datetime, results: Path = RESULTS) -> None:
    """Keep section ``name``'s figures and say, right under its heading line, that regenerating it failed."""
    with locked(results):
        note_failure(name, reason, when, results)


def note_failure(name: str, reason: str, when: datetime, results: Path) -> None:
    text = results.read_text()
    span = section_span(name, text)
    if not span:
        return
    begin, heading, rest = FAILED.sub("", text[span[0] : span[1]]).split("\n", 2)
    reason = " ".join(reason.split())[:300]
    note = f"**Last regeneration failed on {when:%Y-%m-%d %H:%M} UTC: {reason}** (the figures below are older)"
    write_text(results, text[: span[0]] + f"{begin}\n{heading}\n\n{note}\n{rest}" + text[span[1] :])


# -- reading sections back: what a quoted table measured ------------------------------------------------------------


def section_names(text: str) -> list[str]:
    return re.findall(r"^<!-- ([\w-]+): begin \(", text, re.M)


def section_text(name: str, text: str) -> str:
    span = section_span(name, text)
    if not span:
        raise ValueError(f"benchmarks/RESULTS.md has no section {name!r}")
    return text[span[0] : span[1]]


def enclosing_section(key: str, text: str) -> str:
    """The name of the outermost section holding what ``key`` quotes (a section name, or a quoted heading)."""
    if not key.startswith('"'):
        return outermost(key, text)
    heading = key.strip('"')
    offset = next((m.start() for m in re.finditer(r"^.*$", text, re.M) if m.group().strip() == heading), None)
    if offset is None:
        raise ValueError(f"benchmarks/RESULTS.md has no heading {heading!r}")
    for name in section_names(text):
        span = section_span(name, text)
        if span and span[0] < offset < span[1]:
            return outermost(name, text)
    raise ValueError(f"the heading {heading!r} of benchmarks/RESULTS.md lies in no marked section")


def outermost(name: str, text: str) -> str:
    span = section_span(name, text)
    for other in section_names(text):
        other_span = section_span(other, text)
        if span and other_span and other_span[0] < span[0] and span[1] < other_span[1]:
            return outermost(other, text)
    return name


def recorded(section: str, what: str) -> dict[str, str]:
    """What a section says it measured (``what``: "models" or "code"): repository path → short sha256."""
    line = next((line for line in section.splitlines() if line.startswith(f"- **{what} measured**")), "")
    return dict(MODEL.findall(line))


def stale_quotes(key: str, text: str, root: Path = ROOT) -> list[str]:
    """Why the section that ``key`` quotes is not a measurement of the files shipped now (empty: it is)."""
    name = enclosing_section(key, text)
    if name in DERIVED:
        return []
    section = section_text(name, text)
    models = recorded(section, "models")
    if not models:
        return [f"section {name!r} records no model files it measured"]
    problems = []
    for path, sha in models.items():
        if not path.startswith(SHIPPED):
            problems.append(f"section {name!r} measured {path}, which is not a shipped model")
        elif not (root / path).is_file():
            problems.append(f"section {name!r} measured {path}, which is no longer shipped")
        elif short_sha256(root / path) != sha:
            problems.append(
                f"section {name!r} measured {path} with sha256 {sha}; the shipped file's is "
                f"{short_sha256(root / path)}: run `python -m benchmarks --only {name}`"
            )
    return problems + stale_code(name, section, root)


def stale_code(name: str, section: str, root: Path) -> list[str]:
    """Why the code a section measured is not the code now (empty: it is)."""
    return [
        f"section {name!r} measured the code in {folder} with sha256 {sha}; it is now "
        f"{folder_sha256(root / folder)}: run `python -m benchmarks --only {name}`"
        for folder, sha in recorded(section, "code").items()
        if folder_sha256(root / folder) != sha
    ]
