"""What a client may POST to ``/api/predict``, turned into one 28×28 uint8 digit or a clear 4xx.

Three forms: a multipart form with an image file (what the page and ``curl -F image=@digit.png`` send),
the image bytes themselves (``Content-Type: image/...``), or JSON ``{"digit": [[0..255] × 28] × 28}``.
Images go through ``edgemnist.predict.images``, the same code path as ``edgemnist predict``.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator, Callable

import numpy as np
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect, Request

from ..common.errors import EdgemnistError
from ..contract import SIDE
from ..predict.images import BlankImage, decode_grayscale, to_mnist_digit

MAX_UPLOAD_BYTES = 10 * 2**20  # a phone photo is 2–8 MiB
DRAIN_LIMIT_BYTES = 64 * 2**20  # an oversized body read and dropped so that its sender reads the 413
NO_FILE = "the multipart form has no file: send the image as a file field, e.g. -F image=@digit.png"


class ApiError(Exception):
    """A client error: answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers


async def read_body(request: Request, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """The request body, refused with 413 once it passes ``limit`` (declared or streamed).

    An oversized body is still read, up to ``DRAIN_LIMIT_BYTES``, and dropped: a client that sends the whole body
    before reading (Python's urllib, requests) sees a reset connection, not the 413, if the server closes first.
    A client that waits for ``100-continue`` (curl) gets the 413 at once."""
    declared = request.headers.get("content-length", "")
    declared_size = int(declared) if declared.isdigit() else 0
    waits_to_send = request.headers.get("expect", "").lower() == "100-continue"
    if declared_size > limit and (waits_to_send or declared_size > DRAIN_LIMIT_BYTES):
        raise ApiError(413, f"request body is {declared_size:,} bytes; the limit is {limit:,}")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif size > DRAIN_LIMIT_BYTES:
                break
    except ClientDisconnect:  # the client left, or the server's deadline closed a stalled upload: no one to answer
        raise ApiError(400, "the connection closed before the request body was complete") from None
    if size > limit:
        raise ApiError(413, f"request body is over the limit of {limit:,} bytes")
    body = b"".join(chunks)
    if not body:
        raise ApiError(400, 'empty request: send an image (multipart or image/*) or JSON {"digit": 28×28 pixels 0–255}')
    return body


async def uploaded_image(request: Request, body: bytes) -> tuple[bytes, str]:
    """The first file of a multipart form (parsed from the already size-checked body), and its name."""
    async with parsed_form(request, body) as form:
        for value in form.values():
            if isinstance(value, UploadFile):
                return await value.read(), value.filename or "upload"
    raise ApiError(400, NO_FILE)


async def uploaded_form(request: Request, body: bytes) -> tuple[bytes, dict[str, str]]:
    """The first file of a multipart form and its text fields; the file's name is not the client's to choose."""
    upload: bytes | None = None
    fields: dict[str, str] = {}
    async with parsed_form(request, body) as form:
        for key, value in form.multi_items():
            if not isinstance(value, UploadFile):
                fields.setdefault(key, value)
            elif upload is None:
                upload = await value.read()
    if upload is None:
        raise ApiError(400, NO_FILE)
    return upload, fields


@contextlib.asynccontextmanager
async def parsed_form(request: Request, body: bytes) -> AsyncIterator[FormData]:
    """The multipart form in ``body``; a malformed one is a 400."""

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        async with Request(request.scope, replay).form(max_files=1, max_fields=10) as form:
            yield form
    except ApiError:
        raise
    except Exception as exc:  # python-multipart's and Starlette's parse errors have no common base
        raise ApiError(400, f"malformed multipart form ({type(exc).__name__})") from None


def digit_from_json(body: bytes) -> np.ndarray:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"malformed JSON ({exc})") from None
    pixels = data.get("digit") if isinstance(data, dict) else data
    try:
        digit = np.array(pixels, dtype=np.float64)
    except (TypeError, ValueError):
        digit = None
    if digit is None or digit.shape != (SIDE, SIDE) or not np.all((digit >= 0) & (digit <= 255)):
        raise ApiError(400, 'expected JSON {"digit": [[…28 pixels 0–255…] × 28 rows]}')
    if not np.array_equal(digit, np.round(digit)):
        raise ApiError(400, "digit pixels must be whole numbers 0–255")
    return digit.astype(np.uint8)


def digit_with_ink(make_digit: Callable[[], np.ndarray]) -> np.ndarray | None:
    """``make_digit()``, or None for an image without ink or an all-zero digit: nothing drawn."""
    try:
        digit = make_digit()
    except BlankImage:
        return None
    return digit if digit.any() else None


def digit_from_image(data: bytes, name: str) -> np.ndarray:
    """Raises BlankImage for an image without ink; ApiError(400) for anything that is not an image."""
    try:
        return to_mnist_digit(decode_grayscale(io.BytesIO(data), name))
    except BlankImage:
        raise
    except EdgemnistError as exc:
        raise ApiError(400, str(exc)) from None


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()
