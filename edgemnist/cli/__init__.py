"""The ``edgemnist`` command: each subcommand parses, calls one library function, prints the result.

Commands live in modules by what they are for, each adding itself to the group ``cli``: ``training``
(train, export, pipeline), ``checking`` (predict, evaluate, parity, sample), ``measuring`` (bench,
inspect, models). Exit codes, the same for every command: 0 all good, 1 a check failed, 2 bad input
(one line on stderr), 3 an internal error (one line; ``--verbose``, before or after the command, shows
the traceback and TensorFlow's own output).
"""

from __future__ import annotations

from . import checking, compiling, explaining, measuring, serving, training  # noqa: F401  (each adds its commands to cli)
from .group import cli


def main():
    cli(prog_name="edgemnist")
