"""Atomic file writes: a temporary name in the target folder, then ``os.replace``.

An interrupted write never leaves a half-written file under its final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import EdgemnistError


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (and parents), or explain in one line why it cannot be used."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EdgemnistError(f"cannot create output folder {folder}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK):
        raise EdgemnistError(f"output folder {folder} is not writable")
    return folder


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds."""
    final = Path(final)
    ensure_dir(final.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp" + final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~current_umask())  # mkstemp makes 0600; a model is an ordinary file
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(final: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return Path(final)


def write_text(final: str | os.PathLike, text: str) -> Path:
    return write_bytes(final, text.encode("utf-8"))


def write_json(final: str | os.PathLike, obj) -> Path:
    return write_text(final, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_npz(final: str | os.PathLike, **arrays) -> Path:
    """An uncompressed ``.npz`` whose bytes depend only on the arrays (``np.savez`` stamps the time into
    the zip), so the same data always has the same sha256."""
    import zipfile

    import numpy as np

    with atomic_path(final) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
            for name, array in arrays.items():
                with archive.open(
                    zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True
                ) as member:
                    np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
    return Path(final)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir(name: str) -> Path:
    """edgemnist's cache folder ``name``: ``$XDG_CACHE_HOME/edgemnist/name``, else ``~/.cache/edgemnist/name``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "edgemnist" / name


def require_file(path: str | os.PathLike, what: str = "file") -> Path:
    """Refuse a missing path or a directory with one clear line."""
    p = Path(path)
    if not p.exists():
        raise EdgemnistError(f"{what} not found: {p}")
    if p.is_dir():
        raise EdgemnistError(f"{what} is a directory, expected a file: {p}")
    return p
