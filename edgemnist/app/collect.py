"""``serve --collect DIR``: a user's correction ("wrong? it was a 7") saved as a labelled digit, ready for training.

Each save writes the 28×28 digit as the model saw it to ``DIR/<label>/<stem>.png`` — remade here from the upload
by the same preprocessing as ``/api/predict``, never taken from the client — and the upload itself to
``DIR/.originals/<label>/<stem>.<format>``: a hidden folder, which a reader of ``DIR/0`` … ``DIR/9`` skips, so an
original is not counted as a second digit. Names come from the clock and a random suffix, never from the client;
the label must be one digit. Each file is written atomically, the original first, so a digit never lacks it.
"""

from __future__ import annotations

import io
import math
import os
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from ..common.errors import EdgemnistError
from ..common.files import ensure_dir, write_bytes
from ..common.render import human_bytes
from .inputs import ApiError, digit_from_image, digit_with_ink, media_type, read_body, uploaded_form
from .limits import COLLECT_MAX_BYTES, COLLECT_PER_MINUTE

LABELS = tuple("0123456789")
ORIGINALS = ".originals"
EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "TIFF": ".tif"}  # Pillow's format → the usual extension
MAX_CLIENTS = 10_000  # past this many addresses tracked, those idle for a minute are forgotten


class RateLimit:
    """At most ``per_minute`` requests per client address in any 60 s. Used on the event loop only: no lock."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.recent: dict[str, list[float]] = {}

    def refusal(self, client: str, now: float | None = None) -> float | None:
        """Seconds until ``client`` may try again; None when it may go on (and this request is counted)."""
        now = time.monotonic() if now is None else now
        recent = [t for t in self.recent.get(client, ()) if now - t < 60]
        if len(recent) >= self.per_minute:
            self.recent[client] = recent
            return 60 - (now - recent[0])
        self.recent[client] = [*recent, now]
        if len(self.recent) > MAX_CLIENTS:
            self.recent = {c: times for c, times in self.recent.items() if now - times[-1] < 60}
        return None


class Collection:
    """The folder the corrections go to, its size cap, and the per-client rate limit."""

    def __init__(self, folder, max_bytes: int = COLLECT_MAX_BYTES, per_minute: int = COLLECT_PER_MINUTE):
        self.folder = ensure_dir(folder)
        self.max_bytes = max_bytes
        self.rate_limit = RateLimit(per_minute)
        self.used_bytes = folder_bytes(self.folder)  # measured once; then what this server writes is added
        self.lock = threading.Lock()  # saves run in worker threads: the size check and the writes go together

    def save(self, upload: bytes, label: str) -> dict:
        """Runs in a worker thread: preprocess the upload as /api/predict does, then write both files."""
        digit = digit_with_ink(lambda: digit_from_image(upload, "the upload"))
        if digit is None:
            raise ApiError(422, "the image is blank (no ink): nothing saved")
        png = io.BytesIO()
        Image.fromarray(digit).save(png, format="PNG")
        stem = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)
        digit_file = Path(label) / f"{stem}.png"
        original_file = Path(ORIGINALS) / label / (stem + extension_of(upload))
        with self.lock:
            needed = len(upload) + png.tell()
            if self.used_bytes + needed > self.max_bytes:
                raise ApiError(
                    507,
                    f"the collection is full ({human_bytes(self.used_bytes)} of {human_bytes(self.max_bytes)}):"
                    " nothing saved",
                )
            self.write_both(original_file, upload, digit_file, png.getvalue())
            self.used_bytes += needed
        return {"saved": True, "label": label, "file": str(digit_file), "original": str(original_file)}

    def write_both(self, original_file: Path, upload: bytes, digit_file: Path, png: bytes) -> None:
        """The original, then the digit; if either cannot be written, neither stays."""
        try:
            write_bytes(self.folder / original_file, upload)
            write_bytes(self.folder / digit_file, png)
        except (OSError, EdgemnistError) as exc:  # the server's disk, not the client's request
            (self.folder / original_file).unlink(missing_ok=True)
            raise ApiError(500, f"the server could not save the digit ({type(exc).__name__}): nothing saved") from None


def folder_bytes(folder: Path) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
        if os.path.isfile(os.path.join(root, name))
    )


def extension_of(upload: bytes) -> str:
    """From the decoded format (the upload decoded already, so Pillow knows it), never the client's file name."""
    with Image.open(io.BytesIO(upload)) as image:
        kind = image.format or "bin"
    return EXTENSIONS.get(kind, "." + kind.lower())


async def collect(request: Request):
    """POST /api/collect: multipart ``image`` (the upload /api/predict was given) and ``label`` (one digit)."""
    collection: Collection | None = request.app.state.collection
    if collection is None:
        raise ApiError(404, "this server does not collect digits: start it with `edgemnist serve --collect DIR`")
    client = request.client.host if request.client else "unknown"
    wait = collection.rate_limit.refusal(client)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"at most {collection.rate_limit.per_minute} saves a minute from one address: try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    body = await read_body(request)
    if media_type(request) != "multipart/form-data":
        raise ApiError(415, "send a multipart form: an image file and a label field (-F image=@digit.png -F label=7)")
    upload, fields = await uploaded_form(request, body)
    label = fields.get("label", "")
    if label not in LABELS:
        raise ApiError(400, f"label must be one digit 0–9, not {label[:20]!r}")
    return JSONResponse(await run_in_threadpool(collection.save, upload, label))
