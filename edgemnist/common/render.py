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


def percent(value) -> str | None:
    return None if value is None else f"{value:.2%}"


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``: counts read as a person writes them."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")
