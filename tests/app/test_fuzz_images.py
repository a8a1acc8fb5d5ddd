"""Fuzzing the image reader, `edgemnist predict` and the app's /api/predict with mutated and huge images.

Each case starts from a real image (every format and mode Pillow writes, odd sizes, MNIST-like tiles, real
decompression bombs) and is byte-flipped, truncated, spliced, padded or given giant dimensions in its header.
Every case must be an answer or a one-line error: the reader raises EdgemnistError, the CLI exits 2, the
server answers 4xx JSON; never a traceback, an exit 3, a 5xx or a hang, and the server keeps serving.
"""

from __future__ import annotations

import faulthandler
import io
import struct
import zlib
from collections import Counter

import httpx
import numpy as np
import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from edgemnist.common.errors import EdgemnistError
from edgemnist.predict.images import MAX_IMAGE_PIXELS, load_digit_image

CASES = 1000
HANG_GUARD_S = 120  # a case still running after this long is a hang: dump every stack and stop the run


def stroke(height: int, width: int) -> np.ndarray:
    """Dark ink on white paper: a '7' scaled to the sheet."""
    sheet = np.full((height, width), 235, np.uint8)
    top, bottom, left, right = height // 5, height * 4 // 5, width // 4, width * 3 // 4
    thick = max(1, min(height, width) // 14)
    sheet[top : top + thick, left:right] = 20
    for row in range(top, bottom):
        column = right - (row - top) * (right - left) // max(1, bottom - top) // 2
        sheet[row, max(0, column - thick) : column] = 20
    return sheet


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int, rows: int | None = None) -> bytes:
    """A grayscale PNG of ``width``×``height`` zeros: a few KiB that decode to width×height bytes. ``rows``:
    only that many rows of pixel data (the header still claims them all)."""
    compressor, parts = zlib.compressobj(9), []
    line = bytes(width + 1)  # filter byte 0, then the pixels
    for _ in range(height if rows is None else rows):
        parts.append(compressor.compress(line))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def seed_images() -> list[tuple[str, bytes]]:
    """Real images to mutate: every common format and mode, odd sizes, an MNIST-like tile and real bombs."""
    sheet = Image.fromarray(stroke(120, 96))
    tile = Image.fromarray(255 - stroke(28, 28))  # light ink on dark: used as it is
    rgb, rgba = sheet.convert("RGB"), sheet.convert("RGBA")
    transparent = rgba.copy()
    transparent.putalpha(Image.fromarray((np.asarray(sheet) < 128).astype(np.uint8) * 255))
    palette = sheet.convert("P")
    palette.info["transparency"] = 0
    frames = [sheet, sheet.rotate(15, fillcolor=235), sheet.rotate(-15, fillcolor=235)]
    seeds = [
        ("png L", encoded(sheet, "PNG")),
        ("png RGB", encoded(rgb, "PNG")),
        ("png RGBA transparent", encoded(transparent, "PNG")),
        ("png P transparency", encoded(palette, "PNG")),
        ("png 1", encoded(sheet.convert("1"), "PNG")),
        ("png LA", encoded(sheet.convert("LA"), "PNG")),
        ("png I;16", encoded(Image.fromarray(np.asarray(sheet).astype(np.uint16) * 257), "PNG")),
        ("tiff I", encoded(sheet.convert("I"), "TIFF")),
        ("apng", encoded(frames[0], "PNG", save_all=True, append_images=frames[1:])),
        ("png tile 28×28", encoded(tile, "PNG")),
        ("png 1×1", encoded(Image.new("L", (1, 1), 0), "PNG")),
        ("png 1×300", encoded(Image.fromarray(stroke(300, 1)), "PNG")),
        ("png 300×1", encoded(Image.fromarray(stroke(1, 300)), "PNG")),
        ("png 2×2 ink", encoded(Image.fromarray(np.array([[0, 255], [255, 255]], np.uint8)), "PNG")),
        (
            "png noise 28×28",
            encoded(Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), np.uint8)), "PNG"),
        ),
        ("jpeg L", encoded(sheet, "JPEG", quality=80)),
        ("jpeg RGB progressive", encoded(rgb, "JPEG", quality=60, progressive=True)),
        ("jpeg CMYK", encoded(sheet.convert("CMYK"), "JPEG")),
        ("jpeg with EXIF orientation", encoded(rgb, "JPEG", exif=exif_orientation(6))),
        ("gif", encoded(sheet, "GIF")),
        ("gif animated", encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])),
        ("bmp 1", encoded(sheet.convert("1"), "BMP")),
        ("bmp L", encoded(sheet, "BMP")),
        ("bmp RGB", encoded(rgb, "BMP")),
        ("tiff L deflate", encoded(sheet, "TIFF", compression="tiff_deflate")),
        ("tiff RGB lzw", encoded(rgb, "TIFF", compression="tiff_lzw")),
        ("tiff F", encoded(sheet.convert("F"), "TIFF")),
        ("tiff I;16", encoded(Image.fromarray(np.asarray(sheet).astype(np.uint16) * 257), "TIFF")),
        ("tiff CMYK", encoded(sheet.convert("CMYK"), "TIFF")),
        ("tiff multi-page", encoded(frames[0], "TIFF", save_all=True, append_images=frames[1:])),
        ("webp lossy", encoded(rgb, "WEBP", quality=50)),
        ("webp lossless RGBA", encoded(transparent, "WEBP", lossless=True)),
        ("jpeg 2000", encoded(rgb, "JPEG2000")),
        ("ppm", encoded(rgb, "PPM")),
        ("pgm", encoded(sheet, "PPM")),
        ("tga", encoded(rgb, "TGA")),
        ("pcx", encoded(rgb, "PCX")),
        ("ico", encoded(rgba, "ICO")),
        ("bomb: 8000×8000 zeros", png_bomb(8000, 8000)),
        ("bomb: 30000×30000 header, 100 rows", png_bomb(30000, 30000, rows=100)),
        ("bomb: 65535×65535 header, 1 row", png_bomb(65535, 65535, rows=1)),
    ]
    return seeds


def exif_orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


SEEDS = seed_images()


def with_png_size(data: bytes, width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width``×``height`` (its CRC fixed, so the decoder believes it)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return data
    header = struct.pack(">II", width, height) + data[24:29]
    return data[:8] + png_chunk(b"IHDR", header) + data[33:]


def with_header_size(data: bytes, width: int, height: int) -> bytes:
    """Giant or zero dimensions written where each format keeps them (PNG, BMP, GIF, JPEG's SOF)."""
    if data[:4] == b"\x89PNG":
        return with_png_size(data, width, height)
    if data[:2] == b"BM" and len(data) > 26:
        return data[:18] + struct.pack("<ii", width % 2**31, (height % 2**32) - 2**31) + data[26:]
    if data[:3] == b"GIF" and len(data) > 10:
        return data[:6] + struct.pack("<HH", width % 2**16, height % 2**16) + data[10:]
    sof = data.find(b"\xff\xc0") if data[:2] == b"\xff\xd8" else -1
    if sof == -1 and data[:2] == b"\xff\xd8":
        sof = data.find(b"\xff\xc2")
    if sof > 0 and len(data) > sof + 9:
        return data[: sof + 5] + struct.pack(">HH", height % 2**16, width % 2**16) + data[sof + 9 :]
    return data


class Case(tuple):
    """(how it was made, its bytes), shown by name and size: a failing case is saved to a file, not printed."""

    def __repr__(self) -> str:
        return f"Case({self[0]!r}, {len(self[1]):,} bytes)"


@st.composite
def mutated_images(draw) -> Case:
    name, data = draw(st.sampled_from(SEEDS))
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "giant", "splice", "garbage", "intact"]))
    position = draw(st.integers(0, max(0, len(data) - 1)))
    if kind == "flip":
        data = bytearray(data)
        for offset, value in draw(
            st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)), min_size=1, max_size=16)
        ):
            data[offset] = value
        data = bytes(data)
    elif kind == "truncate":
        data = data[:position]
    elif kind == "insert":
        data = data[:position] + draw(st.binary(min_size=1, max_size=64)) + data[position:]
    elif kind == "delete":
        data = data[:position] + data[position + draw(st.integers(1, 256)) :]
    elif kind == "giant":
        side = st.one_of(st.integers(0, 70_000), st.integers(0, 2**32 - 1))
        data = with_header_size(data, draw(side), draw(side))
    elif kind == "splice":  # one format's header on another's body
        _, other = draw(st.sampled_from(SEEDS))
        data = data[:position] + other[draw(st.integers(0, max(0, len(other) - 1))) :]
    elif kind == "garbage":  # a real magic number, then noise
        data = data[:16] + draw(st.binary(min_size=0, max_size=2048))
    return Case((f"{kind} {name}", data))


def one_line(message: str) -> bool:
    return bool(message.strip()) and "\n" not in message.strip() and "Traceback" not in message


@pytest.fixture(scope="module")
def default_model():
    from edgemnist.pretrained import default_model

    return default_model()


def test_mutated_and_huge_images_are_answers_or_one_line_errors(server_url, default_model, tmp_path_factory, mnist):
    folder = tmp_path_factory.mktemp("fuzz")
    outcomes = Counter()  # per path: answered, blank, refused (a one-line error)
    digit = {"digit": mnist.x_test[0].tolist()}

    @settings(
        max_examples=CASES,
        deadline=None,
        derandomize=True,  # the same cases on every run: CI stays reproducible
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(mutated_images(), st.booleans())
    def case(image, as_form):
        name, data = image
        path = folder / "case.img"
        path.write_bytes(data)
        faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
        try:
            read = reader_outcome(path)
            outcomes[f"reader {read[0]}"] += 1
            cli = cli_outcome(default_model, path)
            outcomes[f"cli {cli}"] += 1
            app = app_outcome(http, data, as_form)
            outcomes[f"app {app[0]}"] += 1
        except AssertionError as exc:
            raise AssertionError(f"{name} (saved as {keep(data)}): {exc}") from None
        finally:
            faulthandler.cancel_dump_traceback_later()
        assert cli == read[0] or (read[0] == "blank" and cli == "refused"), f"{name}: {keep(data)}"
        assert app[0] == read[0], f"{name}: {keep(data)}"
        if read[0] == "answered":  # the server reads an upload as predict reads a file
            assert np.array_equal(app[1], read[1]), f"{name}: {keep(data)}"

    def keep(data: bytes) -> str:
        saved = folder / f"failing-{zlib.crc32(data):08x}.img"
        saved.write_bytes(data)
        return str(saved)

    with httpx.Client(base_url=server_url, timeout=HANG_GUARD_S) as http:
        case()
        answer = http.post("/api/predict", json=digit)  # the server still serves
        assert answer.status_code == 200 and answer.json()["label"] == str(mnist.y_test[0])
    print(f"fuzzed images: {dict(sorted(outcomes.items()))}")
    for path in ("reader", "cli", "app"):
        assert sum(n for key, n in outcomes.items() if key.startswith(path)) >= CASES
    assert outcomes["reader answered"] and outcomes["reader refused"]  # both kinds of ending were reached


def reader_outcome(path) -> tuple[str, np.ndarray | None]:
    from edgemnist.predict.images import BlankImage

    try:
        digit = load_digit_image(path)
    except BlankImage:
        return "blank", None
    except EdgemnistError as exc:
        assert one_line(str(exc)), str(exc)
        return "refused", None
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    return "answered", digit


def cli_outcome(model, path) -> str:
    result = run_cli("predict", model, path)
    if result.exit_code == 0:
        assert result.stdout.startswith(f"{path}: ") and result.stderr == ""
        return "answered"
    assert result.exit_code == 2, result.stderr
    assert one_line(result.stderr) and result.stderr.startswith("error: "), result.stderr
    return "refused"


def app_outcome(http, data: bytes, as_form: bool) -> tuple[str, np.ndarray | None]:
    body = dict(files={"image": ("case.img", data, "image/png")}) if as_form else dict(content=data)
    answer = http.post("/api/predict", headers=None if as_form else {"Content-Type": "image/png"}, **body)
    assert answer.headers["content-type"] == "application/json", answer.text
    payload = answer.json()
    if answer.status_code == 200:
        if payload["blank"]:
            return "blank", None
        assert payload["label"] in [str(i) for i in range(10)]
        return "answered", np.array(payload["digit"], np.uint8)
    assert 400 <= answer.status_code < 500 and one_line(payload["error"]), (answer.status_code, payload)
    return "refused", None


@pytest.mark.parametrize("side", [7072, 30000])  # just over our cap; over Pillow's own (≈ 179 MP) too
def test_an_image_over_the_pixel_cap_is_refused_before_decoding(tmp_path, side):
    """A header claiming side×side over 100 rows of data: refused by its size, not decoded."""
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(side, side, rows=100))
    with pytest.raises(EdgemnistError, match=f"bomb.png is too large: .*{MAX_IMAGE_PIXELS:,}"):
        load_digit_image(path)


def test_a_damaged_tiff_is_one_line_on_the_real_stderr(tmp_path, default_model):
    """libtiff writes its own warnings to file descriptor 2, which CliRunner does not see: run the real command."""
    import subprocess
    import sys

    data = bytearray(dict(SEEDS)["tiff RGB lzw"])
    rng = np.random.default_rng(0)
    for position in rng.integers(8, 300, 6):  # inside the LZW strip: libtiff warns, then fails
        data[position] = rng.integers(0, 256)
    path = tmp_path / "damaged.tif"
    path.write_bytes(bytes(data))
    command = [sys.executable, "-m", "edgemnist.cli", "predict", str(default_model), str(path)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {path} is a damaged image")
