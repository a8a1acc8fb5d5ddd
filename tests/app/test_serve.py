"""`edgemnist serve` as a user runs it: without TensorFlow, on loopback by default, the URL printed, a clean
stop on Ctrl-C, and a bad MODEL refused in one line before anything listens; its limits and --collect reach the
server."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
import numpy as np
from conftest import BLOCKER, run_cli

from .test_server import png_bytes

NO_TENSORFLOW = "tensorflow,keras,tf2onnx,onnx"  # onnx (the converter's package), not onnxruntime


def test_serve_runs_without_tensorflow_on_loopback_and_stops_on_ctrl_c(mnist, tmp_path):
    collected = tmp_path / "digits"
    command = [sys.executable, "-c", BLOCKER, NO_TENSORFLOW, "serve", "--port", "0", "--collect", str(collected)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line, second_line = server.stdout.readline(), server.stdout.readline()
        url = re.search(r"http://\S+/", first_line)
        assert url, first_line + server.stderr.read()
        assert url.group(0).startswith("http://127.0.0.1:")  # loopback unless --host says otherwise
        with httpx.Client(base_url=url.group(0), timeout=30) as http:
            assert 'id="canvas"' in http.get("/").text
            served = [m["name"] for m in http.get("/api/models").json()["models"]]
            assert "edge_int8.tflite" in served and "edge_int8.onnx" in served
            answer = http.post("/api/predict", json={"digit": mnist.x_test[0].tolist()}).json()
            assert answer["label"] == str(mnist.y_test[0])
            assert http.get("/api/models").json()["collect"] is True
            upload = {"image": ("digit.png", png_bytes(mnist.x_test[0]), "image/png")}
            assert http.post("/api/collect", files=upload, data={"label": "7"}).json()["saved"]
        assert len(list((collected / "7").iterdir())) == 1
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        server.kill()
    # exit 0 also proves the blocker's check: no blocked module was imported in the whole run
    assert server.returncode == 0, err
    assert out.strip().endswith("stopped") and "Traceback" not in err
    assert second_line.startswith(f"saving corrected digits into {collected}/<label>/ (at most 1.0 GiB)")


def test_the_limits_and_the_collection_reach_the_server(tmp_path, monkeypatch):
    from edgemnist.app import limits, server

    calls = []
    monkeypatch.setattr(server, "serve", lambda *args, **options: calls.append(options))
    assert run_cli("serve", "--port", "0").exit_code == 0
    assert calls[-1]["body_timeout"] == limits.BODY_TIMEOUT_S and calls[-1]["max_connections"] == limits.MAX_CONNECTIONS
    assert calls[-1]["collect_dir"] is None  # off by default
    options = ["--body-timeout", "2.5", "--max-connections", "7", "--collect", tmp_path, "--collect-max-bytes", "1000"]
    assert run_cli("serve", "--port", "0", *options, "--collect-per-minute", "5").exit_code == 0
    chosen = {key: calls[-1][key] for key in ("body_timeout", "max_connections", "collect_max_bytes")}
    assert chosen == {"body_timeout": 2.5, "max_connections": 7, "collect_max_bytes": 1000}
    assert calls[-1]["collect_dir"] == str(tmp_path) and calls[-1]["collect_per_minute"] == 5
    help_text = " ".join(run_cli("serve", "--help").output.split())
    for default in ("[default: 10.0;", "[default: 100;", "(default: 1073741824, 1 GiB)", "[default: 20;"):
        assert default in help_text


def test_a_collection_folder_that_cannot_be_made_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    result = run_cli("serve", "--port", "0", "--collect", tmp_path / "taken" / "digits")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and "digits" in result.stderr


def test_a_bad_model_path_is_one_line_and_exit_2(tmp_path):
    result = run_cli("serve", tmp_path / "missing.tflite", "--port", "0")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "missing.tflite" in result.stderr
    (tmp_path / "notes.onnx").write_text("not a model")
    result = run_cli("serve", tmp_path / "notes.onnx", "--port", "0")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_two_models_with_one_name_are_refused(tmp_path):
    from edgemnist.pretrained import pretrained_dir

    copy = tmp_path / "edge_int8.onnx"
    copy.write_bytes((pretrained_dir() / "edge_int8.onnx").read_bytes())
    result = run_cli("serve", pretrained_dir() / "edge_int8.onnx", copy, "--port", "0")
    assert result.exit_code == 2 and "rename one" in result.stderr


def test_a_busy_port_is_one_line_and_exit_2():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("serve", "--port", taken.getsockname()[1])
    assert result.exit_code == 2 and "cannot listen" in result.stderr


def test_serve_gives_a_foreign_model_the_contract_options(tmp_path, mnist, monkeypatch):
    """--input-scale and --normalize reach the served model: its answers follow (x·255/255 − 0.5) / 2 @ W,
    computed here with numpy, not by the predictor."""
    from model_builders import WEIGHTS, build_onnx, softmax
    from starlette.testclient import TestClient

    from edgemnist.app import server

    apps = []
    monkeypatch.setattr(
        server,
        "serve",
        lambda paths, host, port, say, input_scale, normalize, **limits: apps.append(
            server.create_app(paths, input_scale=input_scale, normalize=normalize)
        ),
    )
    path = build_onnx(tmp_path / "foreign.onnx")
    result = run_cli("serve", path, "--input-scale", "255", "--normalize", "0.5,2", "--port", "0")
    assert result.exit_code == 0, result.stderr
    digits = mnist.x_test[:5]
    expected = softmax((digits.reshape(5, 784).astype(np.float32) - 0.5) / 2 @ WEIGHTS)
    with TestClient(apps[0]) as client:
        contract = client.get("/api/models").json()["models"][0]["contract"]
        assert (contract["input_scale"], contract["mean"], contract["std"]) == (255.0, 0.5, 2.0)
        for digit, probabilities in zip(digits, expected):
            answer = client.post("/api/predict", json={"digit": digit.tolist()}).json()
            assert np.allclose(answer["probabilities"], probabilities, atol=1e-5)
