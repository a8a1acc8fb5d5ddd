"""The arm64 root's venv, seen from this machine: where it is and which edgemnist it holds.

This edgemnist is copied into the venv's site-packages as files (it is pure Python), with the metadata that
gives it its version, and copied again whenever its source changes, so the guest always runs the code the host
runs; pip never runs under emulation.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..common.versions import EDGEMNIST_VERSION as __version__

PACKAGE = Path(__file__).resolve().parent.parent  # this edgemnist
SITE = "venv/lib/python3.11/site-packages"  # Debian bookworm's Python


def has_venv(root: Path) -> bool:
    return (root / "venv/bin/python").exists() and (root / SITE).is_dir()


def source_digest() -> str:
    """sha256 over this package's files (names and bytes), caches excluded."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def install_edgemnist(root: Path) -> bool:
    """Copy this edgemnist into the root's venv unless the same source is there; True when it copied."""
    site = root / SITE
    stamp = site / "edgemnist.sha256"
    digest = source_digest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return False
    staging = Path(tempfile.mkdtemp(dir=site, prefix=".edgemnist-"))
    try:
        shutil.copytree(PACKAGE, staging / "edgemnist", ignore=shutil.ignore_patterns("__pycache__"))
        info = staging / f"edgemnist-{__version__}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: edgemnist\nVersion: {__version__}\n")
        (info / "INSTALLER").write_text("edgemnist emulate\n")
        for old in [path for path in [site / "edgemnist", *site.glob("edgemnist-*.dist-info")] if path.exists()]:
            shutil.rmtree(old)
        for part in staging.iterdir():
            os.replace(part, site / part.name)
        stamp.write_text(digest + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True
