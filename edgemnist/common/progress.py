"""Live progress for long work. Library functions report to a ``Progress``; the CLI decides how it shows.

The library default is ``SILENT``. ``TerminalProgress`` (what the CLI passes) prints messages and draws
click progress bars (counts and time left) on stderr: bars only when stderr is a terminal, nothing at all
with ``--quiet``. One progress library for the whole project: click's, which the core already depends on.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

Advance = Callable[..., None]  # advance(steps=1)


def _ignore(steps: int = 1) -> None:
    pass


class Progress:
    """Reports nothing: the default for library callers."""

    def say(self, message: str) -> None:
        """A one-line status message (a stage starting, a result)."""

    @contextlib.contextmanager
    def bar(self, label: str, total: int) -> Iterator[Advance]:
        """A bar of ``total`` steps; the block calls the yielded ``advance(steps=1)`` as work gets done."""
        yield _ignore

    def indented(self, prefix: str = "    ") -> Progress:
        """The same progress with messages indented: a stage's own steps under the stage's line."""
        return _Indented(self, prefix)


SILENT = Progress()


class _Indented(Progress):
    def __init__(self, inner: Progress, prefix: str):
        self.inner, self.prefix = inner, prefix

    def say(self, message: str) -> None:
        self.inner.say(self.prefix + message)

    def bar(self, label: str, total: int):
        return self.inner.bar(self.prefix + label, total)


class TerminalProgress(Progress):
    """Messages on stderr; live bars only when stderr is a terminal; silent when ``quiet``."""

    def __init__(self, quiet: bool = False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.live = not quiet and self.stream.isatty()

    def say(self, message: str) -> None:
        if not self.quiet:
            import click

            click.echo(message, file=self.stream)

    @contextlib.contextmanager
    def bar(self, label: str, total: int) -> Iterator[Advance]:
        if not self.live or total <= 0:
            yield _ignore
            return
        import click

        with click.progressbar(
            length=total, label=label, file=self.stream, show_pos=True, show_eta=True, width=24
        ) as bar:
            yield bar.update
