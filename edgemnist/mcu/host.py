"""The generated C built for this machine: a shared library from the host's gcc, loaded with ctypes.

Builds are cached under edgemnist's cache folder by a hash of the sources, the flags and the compiler, so
a model is compiled once per machine. Fast bit-exactness checks over 10,000 digits run this build.
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from ..common.errors import EdgemnistError
from ..common.files import cache_dir, ensure_dir
from .compiler import CompiledModel

HOST_COMPILER = "gcc"
HOST_FLAGS = ("-std=c99", "-O3", "-Wall", "-Wextra", "-Werror", "-pedantic", "-shared", "-fPIC")


def compiler_identity(compiler: str, package: str = "gcc") -> str:
    """The compiler's path and version: a new gcc means a new build."""
    path = shutil.which(compiler)
    if path is None:
        raise EdgemnistError(f"{compiler} is not installed; install Debian's package: apt-get install {package}")
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    return f"{path}\n{version.splitlines()[0] if version else '?'}"


def build_key(files: dict[str, str], flags: tuple[str, ...], compiler: str, package: str = "gcc") -> str:
    """The sources, the flags and the compiler: what a cached build depends on."""
    digest = hashlib.sha256(compiler_identity(compiler, package).encode())
    digest.update("\0".join(flags).encode())
    for file in sorted(files):
        digest.update(f"\0{file}\0{files[file]}".encode())
    return digest.hexdigest()[:24]


def build_shared_library(compiled: CompiledModel) -> Path:
    """lib<name>.so for this host, from the cache when these sources were built before."""
    folder = cache_dir("mcu") / build_key(compiled.files, HOST_FLAGS, HOST_COMPILER)
    library = folder / f"lib{compiled.name}.so"
    if library.exists():
        return library
    ensure_dir(folder.parent)
    with tempfile.TemporaryDirectory(dir=folder.parent) as work:
        compiled.write(work)
        built = Path(work) / library.name
        command = [HOST_COMPILER, *HOST_FLAGS, "-o", str(built), *compiled.sources]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, check=False)
        if result.returncode:  # the generated C is ours: failing to build it is our bug
            raise RuntimeError(f"gcc could not build {compiled.name}:\n{result.stderr}")
        ensure_dir(folder)
        built.replace(library)  # same file system: atomic
    return library


class HostModel:
    """``<name>_run`` through ctypes. The library's arena is static, so calls take turns under ``lock``."""

    def __init__(self, compiled: CompiledModel):
        self.library = ctypes.CDLL(str(build_shared_library(compiled)))
        self.entry = getattr(self.library, f"{compiled.name}_run")
        self.entry.restype = ctypes.c_int
        self.entry.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        self.output_size = compiled.ops[-1].result.size
        self.lock = threading.Lock()

    def run(self, digits: np.ndarray) -> np.ndarray:
        """N×28×28 uint8 pixels → N×outputs int8 scores, one call per digit."""
        pixels = np.ascontiguousarray(digits, np.uint8).reshape(len(digits), -1)
        scores = np.empty((len(digits), self.output_size), np.int8)
        with self.lock:
            for row, out in zip(pixels, scores):
                self.entry(row.ctypes.data, out.ctypes.data)
        return scores
