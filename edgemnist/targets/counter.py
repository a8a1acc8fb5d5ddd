"""The guest instruction counter: edgemnist's QEMU TCG plugin (``plugin/insn_count.c``), built once into the
cache, and the counts it writes. qemu-user (``qemu.py``) and qemu-system-arm (``cortex_m.py``) load the same
plugin."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..common.errors import EdgemnistError
from ..common.files import cache_dir

PLUGIN_SOURCE = Path(__file__).parent / "plugin" / "insn_count.c"


@functools.cache
def plugin_library() -> Path:
    """The instruction counter, built once per source version into the cache."""
    source = PLUGIN_SOURCE.read_bytes()
    library = cache_dir("emulate") / "plugin" / f"insn_count-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if library.is_file():
        return library
    compiler = shutil.which("gcc") or shutil.which("cc")
    if not compiler:
        raise EdgemnistError("counting instructions under QEMU needs a C compiler: apt-get install gcc")
    library.parent.mkdir(parents=True, exist_ok=True)
    partial = library.with_suffix(f".{os.getpid()}.part")
    built = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(PLUGIN_SOURCE)], capture_output=True, text=True
    )
    if built.returncode != 0:
        raise EdgemnistError(f"building the QEMU plugin failed: {built.stderr.strip().splitlines()[-1:]}")
    os.replace(partial, library)
    return library


def read_counts(path: Path) -> tuple[int | None, list[int]]:
    """The plugin's output: ``total N`` and one ``mark N`` per mark."""
    total, marks = None, []
    for line in path.read_text().splitlines() if path.is_file() else []:
        key, _, value = line.partition(" ")
        if key == "total":
            total = int(value)
        elif key == "mark":
            marks.append(int(value))
    return total, marks
