"""Refresh the page's copy of onnxruntime-web (the in-browser runtime of ``edgemnist serve``) from npm.

Keeps only what the page loads: the wasm-only ES module bundle (its Emscripten loader is inside it) and the one
WebAssembly binary it runs, and records the version and licence (from package.json) in VERSION.
The page works, server-side only, when these files are absent.

    python scripts/refresh_ort_web.py             # the version pinned below
    python scripts/refresh_ort_web.py 1.31.0      # another version
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "1.30.0"
TARGET = Path(__file__).resolve().parents[1] / "edgemnist" / "app" / "static" / "ort"
KEPT = {
    "package/dist/ort.wasm.bundle.min.mjs": "ort.wasm.bundle.min.mjs",  # ORT Web, wasm backend only
    "package/dist/ort-wasm-simd-threaded.wasm": "ort-wasm-simd-threaded.wasm",  # run single-threaded by the page
}


def refresh(version: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            ["npm", "pack", f"onnxruntime-web@{version}", "--silent"], cwd=work, check=True, stdout=subprocess.DEVNULL
        )
        (tarball,) = Path(work).glob("onnxruntime-web-*.tgz")
        with tarfile.open(tarball) as archive:
            staged = Path(work) / "staged"
            staged.mkdir()
            for member, name in KEPT.items():
                with archive.extractfile(member) as source, open(staged / name, "wb") as copy:
                    shutil.copyfileobj(source, copy)
            package = json.load(archive.extractfile("package/package.json"))
            (staged / "VERSION").write_text(
                f"onnxruntime-web {package['version']} from npm, {package['license']} licence, by Microsoft "
                "Corporation\n"
            )
        # copy beside the target, then swap: an interrupted refresh never leaves a half copy as the page's files
        incoming, outgoing = TARGET.with_name(TARGET.name + ".incoming"), TARGET.with_name(TARGET.name + ".outgoing")
        shutil.rmtree(incoming, ignore_errors=True)
        shutil.copytree(staged, incoming)
        if TARGET.exists():
            TARGET.rename(outgoing)
        incoming.rename(TARGET)
        shutil.rmtree(outgoing, ignore_errors=True)
    total = sum(f.stat().st_size for f in TARGET.iterdir())
    print(f"onnxruntime-web {version} → {TARGET} ({total / 2**20:.1f} MiB)")


if __name__ == "__main__":
    refresh(sys.argv[1] if len(sys.argv) > 1 else VERSION)
