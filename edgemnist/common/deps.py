"""Lazy imports of the heavy, optional runtimes, with install advice instead of an ImportError.

``import edgemnist`` imports none of them; each backend or exporter calls these when it needs one.
TensorFlow writes start-up lines straight to file descriptor 2 from C++, which ``TF_CPP_MIN_LOG_LEVEL``
does not fully hide, so its import and conversions run with the descriptor pointed at /dev/null.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys

from .errors import EdgemnistError

VERBOSE_ENV = "EDGEMNIST_VERBOSE"
VERBOSE = os.environ.get(VERBOSE_ENV) == "1"  # the CLI's --verbose sets it; a worker reads it from its environment


def set_verbose(flag: bool) -> None:
    global VERBOSE
    VERBOSE = flag


def worker_environment() -> dict[str, str]:
    """The environment to start one of our worker processes with: this process's, and whether it is verbose."""
    return {**os.environ, VERBOSE_ENV: "1" if VERBOSE else "0"}


def import_optional(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EdgemnistError(
            f"{module.split('.')[0]} is not installed; install it with: pip install 'edgemnist[{extra}]'"
        ) from exc


@contextlib.contextmanager
def native_output_silenced():
    """Hide what native libraries (and converters' own prints) write to stdout/stderr, unless --verbose."""
    if VERBOSE:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in saved:
        os.dup2(devnull, fd)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, original in saved.items():
            os.dup2(original, fd)
            os.close(original)
        os.close(devnull)


def import_tensorflow():
    if "tensorflow" not in sys.modules and not VERBOSE:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with native_output_silenced():
        tf = import_optional("tensorflow", "train")
    if not VERBOSE:
        tf.get_logger().setLevel("ERROR")
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    return tf


def import_keras():
    import_tensorflow()
    return importlib.import_module("keras")
