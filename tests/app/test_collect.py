"""`serve --collect DIR`: a correction is saved as the 28×28 digit the model saw (remade by the server from the
upload) plus the upload itself, under names the server makes; every rule (one-digit label, no name from the
client, rate limit, size cap, all-or-nothing writes, no blank digits) is a clear JSON error with nothing written.
Last, Chromium draws a digit on the page, corrects it, and the files are there."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgemnist.app.collect import ORIGINALS, Collection, RateLimit
from edgemnist.predict.images import load_digit_image

from .conftest import running
from .test_page import IDLE, STROKES, draw, preview_pixels
from .test_server import photo_of, png_bytes

STEM = r"\d{8}T\d{12}Z-[0-9a-f]{8}"  # UTC time to the microsecond, and a random suffix


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "digits"


@pytest.fixture
def collecting(app, client, folder):
    """The tests' app with a collection into ``folder``; ``collecting(**limits)`` swaps in other limits."""

    def use(**limits) -> Collection:
        app.state.collection = Collection(folder, **limits)
        return app.state.collection

    use()
    yield use
    app.state.collection = None  # the session's app does not collect


def files_under(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def save(client, upload: bytes, label: str, name: str = "canvas.png", kind: str = "image/png"):
    return client.post("/api/collect", files={"image": (name, upload, kind)}, data={"label": label})


def test_the_catalogue_says_whether_the_server_collects(client, request):
    assert client.get("/api/models").json()["collect"] is False
    refused = save(client, png_bytes(np.zeros((28, 28), np.uint8)), "3")
    assert refused.status_code == 404 and "--collect" in refused.json()["error"]
    request.getfixturevalue("collecting")
    assert client.get("/api/models").json()["collect"] is True


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_correction_saves_the_digit_predict_answered_with_and_the_upload(client, collecting, folder, mnist, fmt):
    upload = png_bytes(photo_of(mnist.x_test[3]), fmt)
    kind = f"image/{fmt.lower()}"
    answered = client.post("/api/predict", files={"image": ("photo", upload, kind)}).json()
    saved = save(client, upload, "0", "photo", kind)
    assert saved.status_code == 200, saved.text
    extension = ".png" if fmt == "PNG" else ".jpg"  # from the decoded format, not the client's file name
    stem = re.fullmatch(rf"0/({STEM})\.png", saved.json()["file"]).group(1)
    assert saved.json()["original"] == f"{ORIGINALS}/0/{stem}{extension}"
    assert files_under(folder) == [Path(ORIGINALS, "0", stem + extension), Path("0", stem + ".png")]
    assert (folder / ORIGINALS / "0" / (stem + extension)).read_bytes() == upload
    with Image.open(folder / "0" / f"{stem}.png") as digit:
        assert digit.mode == "L" and digit.size == (28, 28)
    assert np.array_equal(load_digit_image(folder / "0" / f"{stem}.png"), np.array(answered["digit"], np.uint8))


@pytest.mark.parametrize("label", ["", "10", "-1", " 7", "7 ", "7\n", "٧", "a", "../7", "7/../../escape", "/tmp"])
def test_a_label_that_is_not_one_digit_is_a_400_and_nothing_is_written(client, collecting, folder, mnist, label):
    answer = save(client, png_bytes(mnist.x_test[0]), label)
    assert answer.status_code == 400 and "one digit" in answer.json()["error"]
    assert files_under(folder.parent) == []


def test_no_client_field_names_a_file(client, collecting, folder, mnist):
    """The file name, the field names, the query and the headers are the client's: none of them reaches a path."""
    escape = "../../../escaped.png"
    answer = client.post(
        f"/api/collect?file={escape}&label=../9",
        files={escape: (escape, png_bytes(mnist.x_test[0]), "image/png")},
        data={"label": "7", "file": escape, escape: escape},
        headers={"X-File-Name": escape},
    )
    assert answer.status_code == 200, answer.text
    written = files_under(folder.parent)
    assert len(written) == 2 and all(re.fullmatch(rf"digits/(\.originals/)?7/{STEM}\.png", str(p)) for p in written)
    answer = client.post("/api/collect", files={"image": ("a.png", png_bytes(mnist.x_test[0]), "image/png")})
    assert answer.status_code == 400  # no label at all
    assert len(files_under(folder.parent)) == 2


def test_past_the_rate_limit_a_client_reads_429_with_retry_after(app, client, collecting, folder, mnist):
    from starlette.testclient import TestClient

    collecting(per_minute=3)
    for _ in range(3):
        assert save(client, png_bytes(mnist.x_test[0]), "7").status_code == 200
    refused = save(client, png_bytes(mnist.x_test[0]), "7")
    assert refused.status_code == 429 and "3 saves a minute" in refused.json()["error"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert len(files_under(folder)) == 6
    with TestClient(app, client=("192.0.2.7", 50000)) as other:  # another address has its own allowance
        assert save(other, png_bytes(mnist.x_test[0]), "7").status_code == 200


def test_the_rate_limit_is_a_sliding_minute():
    limit = RateLimit(2)
    assert limit.refusal("a", now=0) is None and limit.refusal("a", now=10) is None
    assert limit.refusal("a", now=30) == 30  # the first save leaves the window at 60
    assert limit.refusal("b", now=30) is None
    assert limit.refusal("a", now=60.5) is None and limit.refusal("a", now=61) == 9


def test_past_the_size_cap_nothing_is_written(client, collecting, folder, mnist):
    upload = png_bytes(mnist.x_test[0])
    assert save(client, upload, "7").status_code == 200
    one_save = sum((folder / p).stat().st_size for p in files_under(folder))
    collecting(max_bytes=2 * one_save + one_save // 2)  # counts what is already in the folder: room for one more
    assert save(client, upload, "7").status_code == 200
    refused = save(client, upload, "7")
    assert refused.status_code == 507 and "full" in refused.json()["error"]
    assert len(files_under(folder)) == 4


def test_a_failed_write_leaves_nothing_half_done(client, collecting, folder, mnist):
    """The digit's folder cannot be made (a file holds its name): the original, written first, goes too."""
    (folder / "4").write_bytes(b"in the way")
    answer = save(client, png_bytes(mnist.x_test[0]), "4")
    assert answer.status_code == 500 and "nothing saved" in answer.json()["error"]
    assert files_under(folder) == [Path("4")]  # no original, no temporary file


@pytest.mark.parametrize(
    "blank",
    [np.full((280, 280), 255, np.uint8), np.zeros((28, 28), np.uint8), np.full((50, 80), 200, np.uint8)],
    ids=["white canvas", "black digit", "grey sheet"],
)
def test_a_blank_image_is_refused(client, collecting, folder, blank):
    answer = save(client, png_bytes(blank), "1")
    assert answer.status_code == 422 and "blank" in answer.json()["error"]
    assert files_under(folder) == []


def test_what_is_not_an_image_or_a_form_is_refused(client, collecting, folder):
    assert save(client, b"twenty digits, no image", "1", "notes.txt", "text/plain").status_code == 400
    answer = client.post("/api/collect", json={"label": "1", "digit": [[0] * 28] * 28})
    assert answer.status_code == 415 and answer.json()["error"]
    assert files_under(folder) == []


def test_evaluate_reads_what_the_server_collected(client, collecting, folder, mnist):
    """Only the digits count: the originals, in their hidden folder, are not read as a second copy."""
    from conftest import run_cli

    from edgemnist.pretrained import pretrained_dir

    for index in range(10):
        upload = png_bytes(photo_of(mnist.x_test[index]))
        assert save(client, upload, str(mnist.y_test[index])).status_code == 200
    result = run_cli("evaluate", pretrained_dir() / "mcu_int8.tflite", "--data", folder)
    assert result.exit_code == 0, result.output
    assert f"on 10 images of {folder}" in result.output


def test_chromium_draws_a_digit_corrects_it_and_the_files_are_there(browser, folder):
    from edgemnist.app.server import create_app

    with running(create_app(collection=Collection(folder))) as url:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + "/")
        page.wait_for_function(IDLE, timeout=60_000)
        assert page.is_hidden("#correct")  # nothing answered yet
        draw(page, STROKES["7"])
        assert page.is_visible("#correct") and "wrong? it was a" in page.inner_text("#correct")
        seen = preview_pixels(page)  # the digit /api/predict answered with
        page.click('#correct button[data-label="1"]')
        page.wait_for_function("document.getElementById('collected').textContent !== ''", timeout=30_000)
        assert page.text_content("#collected").startswith("saved as a 1")
        page.close()
    assert not errors, errors
    (digit,) = (folder / "1").iterdir()
    (original,) = (folder / ORIGINALS / "1").iterdir()
    assert original.name == digit.name  # the canvas PNG, under the same stem
    with Image.open(original) as canvas:
        assert canvas.size == (280, 280)
    assert np.array_equal(load_digit_image(digit), seen)
