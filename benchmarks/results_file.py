"""benchmarks/RESULTS.md is written by several scripts, each owning one section between its markers:
``<!-- NAME: begin (SCRIPT) -->`` … ``<!-- NAME: end -->``. Rewriting a section leaves the others alone."""

from __future__ import annotations

from pathlib import Path

from edgemnist.common.files import write_text

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, script: str, lines: list[str], results: Path = RESULTS) -> None:
    """Replace section ``name`` (or append it) with ``lines``, atomically."""
    begin, end = f"<!-- {name}: begin ({script}) -->", f"<!-- {name}: end -->"
    text = results.read_text() if results.is_file() else ""
    block = "\n".join([begin, *lines, end])
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    write_text(results, text)
