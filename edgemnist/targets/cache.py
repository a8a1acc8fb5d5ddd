"""The one folder ``bench --on`` leaves on a board: ``~/.cache/edgemnist/bench`` (``$XDG_CACHE_HOME`` is
honoured). Files are named by their sha256, so a second run copies only what changed.

This module runs on the board, driven over SSH by ``remote``:
``python -m edgemnist.targets.cache check NAME...`` prints the folder and which NAMEs are there intact (a file
whose content no longer matches its name is removed); ``python -m edgemnist.targets.cache put NAME`` stores its
standard input as NAME — written to a temporary name, checked against the sha256 in NAME, then renamed, so
an interrupted copy or two runs copying at once never leave a wrong file under a good name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from ..common.files import cache_dir, sha256_file

NAME = re.compile(r"^[0-9a-f]{64}\.[A-Za-z0-9]{1,16}$")  # <sha256>.<suffix>: never a path
STALE_PART_S = 3600  # a .part file this old is a copy that was killed


def cache_folder() -> Path:
    return cache_dir("bench")


def cache_name(path: str | os.PathLike) -> str:
    """The name a file has in the cache: its sha256 and its suffix (the suffix keeps it recognisable)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return f"{sha256_file(path)}.{suffix if suffix.isalnum() else 'bin'}"


def checked(name: str) -> str:
    if not NAME.match(name):
        raise SystemExit(f"not a cache file name: {name!r}")
    return name


def check(names) -> dict:
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for part in folder.glob(".*.part"):
        if time.time() - part.stat().st_mtime > STALE_PART_S:
            part.unlink(missing_ok=True)
    present = []
    for name in map(checked, names):
        path = folder / name
        if path.is_file() and sha256_file(path) == name.split(".")[0]:
            present.append(name)
        elif path.exists():
            path.unlink()
    return {"folder": str(folder), "present": present}


def put(name: str, stream) -> Path:
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{checked(name)}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != name.split(".")[0]:
            raise SystemExit(f"{name}: the copy arrived corrupted (sha256 {digest.hexdigest()})")
        os.chmod(tmp, 0o644)
        os.replace(tmp, folder / name)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return folder / name


def main(argv: list[str]) -> None:
    command, *names = argv
    if command == "check":
        sys.stdout.write(json.dumps(check(names)))
    elif command == "put" and len(names) == 1:
        put(names[0], sys.stdin.buffer)
    else:
        raise SystemExit("usage: python -m edgemnist.targets.cache check NAME... | put NAME < FILE")


if __name__ == "__main__":
    main(sys.argv[1:])
