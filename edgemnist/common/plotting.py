"""matplotlib set up once for every PNG report: imported only when a picture is drawn, on the file-only Agg backend
(no display on a server or a board), with install advice when it is missing."""

from __future__ import annotations

from pathlib import Path

from .deps import import_optional
from .files import atomic_path


def pyplot():
    matplotlib = import_optional("matplotlib", "plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path, dpi: int = 110) -> Path:
    """Write ``figure`` as a PNG atomically and free it (pyplot keeps every open figure alive)."""
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(figure)
    return Path(path)
