"""The JSON API over real MNIST digits and the shipped models: right answers, the digit the model saw,
a clear 4xx JSON error for every bad request (and the server still serving after it), and 50 concurrent
requests each answered with their own digit's label."""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from edgemnist.app.inputs import MAX_UPLOAD_BYTES
from edgemnist.predict.images import load_digit_image


def png_bytes(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def photo_of(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit as a photo of paper: dark ink on light, 4× larger, off-centre on a bigger sheet."""
    sheet = np.full((200, 260), 235, np.uint8)
    sheet[30:142, 90:202] = 235 - np.asarray(Image.fromarray(digit).resize((112, 112), Image.BILINEAR)) * (200 / 255)
    return sheet


def assert_serving(client, mnist):
    """The server still answers a good request correctly."""
    answer = client.post("/api/predict", json={"digit": mnist.x_test[0].tolist()})
    assert answer.status_code == 200 and answer.json()["label"] == str(mnist.y_test[0])


def test_models_lists_the_shipped_models_with_their_contracts(client):
    from edgemnist.app.models import shipped_model_paths

    catalogue = client.get("/api/models").json()
    assert [m["name"] for m in catalogue["models"]] == [p.name for p in shipped_model_paths()]
    assert catalogue["default"] == catalogue["models"][0]["name"]
    for model in catalogue["models"]:
        assert model["contract"]["layout"] in ("NHWC", "NCHW", "NHW", "flat") and len(model["contract"]["labels"]) == 10
        assert model["backend"] and model["quantization"] and "path" not in model  # no server path leaks
    browser = catalogue["browser"]
    assert browser["available"] and browser["model"].endswith(".onnx")
    assert client.get(browser["url"]).content[:1] == b"\x08"  # an ONNX protobuf
    assert client.get(browser["wasm"]).content[:4] == b"\0asm"
    assert client.get("/api/openapi.json").json()["paths"]["/api/predict"]["post"]


def test_json_digits_are_answered_like_a_direct_predictor_call(client, mnist, direct_predictors):
    digits = mnist.x_test[:20]
    for name, predictor in direct_predictors.items():
        expected = predictor.predict_proba(digits)
        for digit, probabilities in zip(digits, expected):
            answer = client.post(f"/api/predict?model={name}", json={"digit": digit.tolist()}).json()
            assert answer["model"] == name and answer["label"] == str(np.argmax(probabilities))
            assert np.allclose(answer["probabilities"], probabilities, atol=1e-6)
            assert answer["inference_us"] > 0 and answer["server_us"] >= answer["inference_us"]
            assert [t["label"] for t in answer["top"]][0] == answer["label"] and len(answer["top"]) == 3


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_photo_is_answered_with_the_digit_predict_would_see(client, mnist, tmp_path, fmt):
    index = 7
    photo = photo_of(mnist.x_test[index])
    path = tmp_path / f"photo.{fmt.lower()}"
    Image.fromarray(photo).save(path, format=fmt)
    answer = client.post("/api/predict", files={"image": (path.name, path.read_bytes(), f"image/{fmt.lower()}")}).json()
    assert answer["label"] == str(mnist.y_test[index])
    assert np.array_equal(np.array(answer["digit"], np.uint8), load_digit_image(path))  # the `edgemnist predict` path
    raw = client.post(
        "/api/predict", content=path.read_bytes(), headers={"Content-Type": f"image/{fmt.lower()}"}
    ).json()
    assert raw["label"] == answer["label"] and raw["digit"] == answer["digit"]


def test_a_blank_canvas_is_nothing_drawn_not_a_digit(client):
    for body in (
        dict(files={"image": ("canvas.png", png_bytes(np.full((280, 280), 255, np.uint8)), "image/png")}),
        dict(json={"digit": np.zeros((28, 28), int).tolist()}),
    ):
        answer = client.post("/api/predict", **body)
        assert answer.status_code == 200
        assert (
            answer.json()["blank"] is True
            and answer.json()["label"] is None
            and answer.json()["message"] == "nothing drawn"
        )


BAD_REQUESTS = {
    "a text file": (400, dict(files={"image": ("notes.txt", b"twenty digits, no image", "text/plain")})),
    "text as the body": (415, dict(content=b"hello", headers={"Content-Type": "text/plain"})),
    "an empty body": (400, dict(content=b"", headers={"Content-Type": "image/png"})),
    "a multipart form without a file": (
        400,
        dict(
            content=b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nno file\r\n--b--\r\n',
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        ),
    ),
    "a broken multipart form": (
        400,
        dict(content=b"--b\r\ngarbage", headers={"Content-Type": "multipart/form-data; boundary=b"}),
    ),
    "a form that is not multipart": (415, dict(data={"image": "seven"})),
    "malformed JSON": (400, dict(content=b'{"digit": [[0, 1', headers={"Content-Type": "application/json"})),
    "JSON of the wrong shape": (400, dict(json={"digit": [[0] * 27] * 28})),
    "JSON pixels out of range": (400, dict(json={"digit": [[256] * 28] * 28})),
    "JSON that is not a digit": (400, dict(json={"digit": "seven"})),
    "a truncated PNG": (
        400,
        dict(content=png_bytes(np.full((50, 50), 9, np.uint8))[:60], headers={"Content-Type": "image/png"}),
    ),
    "an image too large to decode": (
        400,
        dict(content=png_bytes(np.zeros((8000, 8000), np.uint8)), headers={"Content-Type": "image/png"}),
    ),
    "a 20 MB upload": (413, dict(files={"image": ("big.png", b"\x89PNG" + bytes(20 * 2**20), "image/png")})),
    "a 20 MB body": (413, dict(content=bytes(20 * 2**20), headers={"Content-Type": "image/png"})),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_is_a_4xx_json_error_and_the_server_keeps_serving(client, mnist, case):
    status, request = BAD_REQUESTS[case]
    answer = client.post("/api/predict", **request)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json" and answer.json()["error"]
    assert_serving(client, mnist)


@pytest.mark.parametrize(
    "name", ["nope.onnx", "../pretrained/edge_int8.onnx", "/etc/passwd", "edge_int8", "EDGE_INT8.TFLITE"]
)
def test_models_are_chosen_by_served_name_only(client, mnist, name):
    from edgemnist.pretrained import pretrained_dir

    for model in (name, str(pretrained_dir() / "edge_int8.onnx")):  # not even the path of a served model
        answer = client.post("/api/predict", params={"model": model}, json={"digit": mnist.x_test[0].tolist()})
        assert answer.status_code == 404 and "unknown model" in answer.json()["error"]
    assert_serving(client, mnist)


def test_wrong_methods_and_paths_are_json_errors(client):
    assert client.get("/api/predict").status_code == 405 and client.get("/api/predict").json()["error"]
    assert client.get("/api/nothing").status_code == 404 and client.get("/api/nothing").json()["error"]
    assert client.get("/static/../server.py").status_code == 404


def test_the_real_server_refuses_an_oversized_stream_and_keeps_serving(server_url, mnist):
    import httpx

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(MAX_UPLOAD_BYTES // 2**20 + 2):
            yield bytes(2**20)

    with httpx.Client(base_url=server_url, timeout=30) as http:
        answer = http.post("/api/predict", content=chunks(), headers={"Content-Type": "image/png"})
        assert answer.status_code == 413 and answer.json()["error"]
        assert (
            http.post("/api/predict", content=b"not json", headers={"Content-Type": "application/json"}).status_code
            == 400
        )
        assert http.post("/api/predict", json={"digit": mnist.x_test[0].tolist()}).json()["label"] == str(
            mnist.y_test[0]
        )


@pytest.mark.parametrize("framing", ["Content-Length", "chunked"])
def test_urllib_sending_all_20_mb_reads_the_413_and_the_server_keeps_serving(server_url, mnist, framing):
    """urllib writes the whole body before it reads a byte: the server must drain it, not reset the connection."""
    import urllib.error
    import urllib.request

    body = bytes(20 * 2**20)
    data = body if framing == "Content-Length" else iter([body[i : i + 2**20] for i in range(0, len(body), 2**20)])
    request = urllib.request.Request(f"{server_url}/api/predict", data=data, headers={"Content-Type": "image/png"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413 and "limit" in json.loads(refused.value.read())["error"]
    digit = json.dumps({"digit": mnist.x_test[0].tolist()}).encode()
    good = urllib.request.Request(f"{server_url}/api/predict", data=digit, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(good, timeout=60) as answer:
        assert json.loads(answer.read())["label"] == str(mnist.y_test[0])


def test_a_client_waiting_for_100_continue_gets_the_413_before_sending(server_url):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(server_url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(
            f"POST /api/predict HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {20 * 2**20}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"413"


def test_50_concurrent_requests_each_get_their_own_answer(server_url, mnist, direct_predictors):
    """Different digits, all served models and both input kinds at once, over real uvicorn; each answer
    is compared with a separately opened predictor called one digit at a time."""
    import httpx

    names = list(direct_predictors)
    count = 50
    by_class = [np.flatnonzero(mnist.y_test == c)[: count // 10] for c in range(10)]
    indices = np.array(by_class).T.ravel()  # 0, 1, …, 9, 0, 1, …: neighbouring requests differ
    digits = mnist.x_test[indices]
    requests = []
    for i, digit in enumerate(digits):
        name = names[i % len(names)]
        if i % 2:
            requests.append((name, dict(json={"digit": digit.tolist()})))
        else:
            requests.append((name, dict(files={"image": (f"{i}.png", png_bytes(digit), "image/png")})))
    expected = [direct_predictors[name].predict_proba(digit) for (name, _), digit in zip(requests, digits)]

    barrier = threading.Barrier(count)  # all 50 go at once, each on its own connection

    def send(request):
        name, body = request
        with httpx.Client(base_url=server_url, timeout=60) as http:
            barrier.wait()
            return http.post("/api/predict", params={"model": name}, **body).json()

    with ThreadPoolExecutor(count) as pool:  # threads, not asyncio: Playwright's sync API may hold this thread's loop
        answers = list(pool.map(send, requests))
    labels = [answer["label"] for answer in answers]
    assert labels == [str(np.argmax(p)) for p in expected]
    for answer, probabilities in zip(answers, expected):
        assert np.allclose(answer["probabilities"], probabilities[0], atol=1e-6)
    assert len(set(labels)) == 10  # the digits differ, so a mixed-up answer would show
    assert np.mean(np.array(labels, int) == mnist.y_test[indices]) >= 0.96
