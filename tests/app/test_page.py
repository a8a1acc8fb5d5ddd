"""The page in headless Chromium: digits drawn with real mouse strokes and uploaded photos are read by the
server (#prediction) and by the same ONNX model in the browser (#browser-prediction), which agree; #preview
shows the digit `edgemnist predict` would give the model; nothing is fetched from anywhere but the server."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from edgemnist.predict.images import load_digit_image

IDLE = "document.body.dataset.state === 'idle'"

# Strokes on the 280×280 canvas, as (x, y) points: each list is one press-move-release of the mouse.
STROKES = {
    "1": [[(150, 45), (143, 140), (138, 240)]],
    "7": [[(75, 55), (205, 55), (170, 130), (125, 240)]],
    "0": [[(140 + 62 * math.sin(t / 24 * 2 * math.pi), 140 - 95 * math.cos(t / 24 * 2 * math.pi)) for t in range(26)]],
}


@pytest.fixture(scope="module")
def page(browser, server_url):
    page = browser.new_page(viewport={"width": 1200, "height": 820})
    foreign = []
    local = (server_url, "blob:", "data:")  # blob: is the uploaded photo shown on the canvas
    page.on("request", lambda request: request.url.startswith(local) or foreign.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server_url + "/")
    page.wait_for_function(IDLE, timeout=60_000)
    yield page
    assert not foreign, f"the page fetched from elsewhere: {foreign}"
    assert not errors, f"JavaScript errors: {errors}"
    page.close()


def draw(page, strokes):
    page.click("#clear")
    page.wait_for_function(IDLE)
    box = page.locator("#canvas").bounding_box()
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
        page.mouse.up()
    page.wait_for_function(IDLE, timeout=30_000)


def preview_pixels(page) -> np.ndarray:
    rgba = page.evaluate(
        "Array.from(document.getElementById('preview').getContext('2d').getImageData(0, 0, 28, 28).data)"
    )
    return np.array(rgba, np.uint8).reshape(28, 28, 4)[..., 0]


@pytest.mark.parametrize("digit", list(STROKES))
def test_a_drawn_digit_is_read_by_the_server_and_in_the_browser(page, digit):
    draw(page, STROKES[digit])
    assert page.text_content("#prediction") == digit
    assert page.text_content("#browser-prediction") == digit
    assert "agree" in page.text_content("#agreement")
    assert preview_pixels(page).max() > 200  # the preview shows the digit, light on black
    assert page.is_hidden("#correct")  # "wrong? it was a …" only on a server that collects


def test_a_cleared_canvas_says_nothing_drawn(page):
    draw(page, STROKES["7"])
    page.click("#clear")
    page.wait_for_function(IDLE)
    assert page.text_content("#message") == "nothing drawn"
    assert page.text_content("#prediction") == "" and page.text_content("#browser-prediction") == ""
    assert preview_pixels(page).max() == 0


def test_uploaded_photos_are_read_and_previewed_as_predict_sees_them(page, mnist, direct_predictors, tmp_path):
    default = next(iter(direct_predictors.values()))
    correct = np.flatnonzero(default.predict(mnist.x_test[:40]) == mnist.y_test[:40])
    for index in correct[:3]:
        sheet = np.full((300, 400), 230, np.uint8)  # dark ink on light paper, enlarged and off-centre
        ink = np.asarray(Image.fromarray(mnist.x_test[index]).resize((140, 140), Image.BILINEAR), np.float32)
        sheet[60:200, 200:340] = (230 - ink * 0.8).astype(np.uint8)
        path = tmp_path / f"photo_{index}.jpg"
        Image.fromarray(sheet).save(path, quality=80)
        page.set_input_files("#upload", str(path))
        page.wait_for_function(IDLE, timeout=30_000)
        assert page.text_content("#prediction") == str(mnist.y_test[index])
        assert page.text_content("#browser-prediction") == str(mnist.y_test[index])
        assert np.array_equal(preview_pixels(page), load_digit_image(path))  # the same code path as `predict`


def test_every_served_model_answers_with_timings_and_a_screenshot_is_saved(page, tmp_path_factory):
    draw(page, STROKES["7"])
    cards = page.locator("#models .card")
    assert cards.count() >= 2
    for i in range(cards.count()):
        text = cards.nth(i).inner_text()
        assert "inference" in text and "round trip" in text and "\n7\n" in text
    assert "in-browser inference" in page.text_content("#browser")
    assert "#" not in page.inner_text("#models")  # no debug label such as "#prediction" on a card
    shot = tmp_path_factory.mktemp("screenshots") / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot of the page: {shot}")
    assert shot.stat().st_size > 10_000


def test_without_the_onnxruntime_web_files_the_page_works_server_side(browser, tmp_path, monkeypatch):
    from edgemnist.app import server

    from .conftest import running

    monkeypatch.setattr(server, "ORT_DIR", tmp_path)  # an install without the wasm files
    with running(server.create_app()) as url:
        page = browser.new_page()
        page.goto(url + "/")
        page.wait_for_function(IDLE, timeout=60_000)
        assert "not available" in page.text_content("#browser")
        draw(page, STROKES["1"])
        assert page.text_content("#prediction") == "1" and page.text_content("#browser-prediction") == ""
        page.close()
