"""Latency of `edgemnist serve`: the predictor call alone, the same call through the server (real uvicorn,
1 worker, loopback, a 28×28 JSON digit), and the same ONNX model in headless Chromium with onnxruntime-web.
Also takes the README's screenshot of the page. Target: the server adds ≤ 1 ms p50 over the predictor call.

    python -m benchmarks --only serve-latency      # the shipped default model, on a server of every shipped model

Makes the serve-latency section of benchmarks/RESULTS.md, and docs/app.png.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from edgemnist.common.render import markdown_table
from edgemnist.data import load_mnist
from edgemnist.predict import load
from edgemnist.pretrained import default_model, pretrained_dir

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SCREENSHOT = HERE.parent / "docs" / "app.png"
SERVER_CORE, CLIENT_CORE = 0, 1  # the server and the client on their own cores, as on a device and its user
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def percentiles(samples_us) -> dict:
    values = np.asarray(samples_us, np.float64)
    return {"p50": float(np.percentile(values, 50)), "p99": float(np.percentile(values, 99)), "n": len(values)}


def predictor_alone(model: Path, digits: np.ndarray, calls: int) -> dict:
    os.sched_setaffinity(0, {SERVER_CORE})
    predictor = load(model, threads=1)
    for digit in digits[:200]:
        predictor.predict_proba(digit[None])
    times = []
    for i in range(calls):
        batch = digits[i % len(digits)][None]
        start = time.perf_counter_ns()
        predictor.predict_proba(batch)
        times.append((time.perf_counter_ns() - start) / 1e3)
    os.sched_setaffinity(0, {SERVER_CORE, CLIENT_CORE})
    return percentiles(times)


def start_server(models: list[Path]) -> tuple[subprocess.Popen, str]:
    command = [
        "taskset",
        "-c",
        str(SERVER_CORE),
        sys.executable,
        "-m",
        "edgemnist.cli",
        "serve",
        *map(str, models),
        "--port",
        "0",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    url = re.search(r"http://\S+/", server.stdout.readline())
    if not url:
        server.kill()
        raise RuntimeError("the server did not start")
    return server, url.group(0).rstrip("/")


def through_server(url: str, path: str, bodies: list[bytes], calls: int, client: str) -> dict:
    """Sequential requests from one client on its own core: round trip, and the server's own figures."""
    import httpx

    os.sched_setaffinity(0, {CLIENT_CORE})
    headers = {"Content-Type": "application/json"}
    if client == "httpx":
        session = httpx.Client(base_url=url, timeout=30)
        post = lambda body: session.post(path, content=body, headers=headers).json()  # noqa: E731
    else:  # the standard library's http.client: a thinner client, to show what httpx itself costs
        host, port = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port))

        def post(body):
            connection.request("POST", path, body, headers)
            return json.loads(connection.getresponse().read())

    for body in bodies[:200]:
        post(body)
    round_trip, in_server, inference = [], [], []
    started = time.perf_counter()
    for i in range(calls):
        start = time.perf_counter_ns()
        answer = post(bodies[i % len(bodies)])
        round_trip.append((time.perf_counter_ns() - start) / 1e3)
        in_server.append(answer["server_us"])
        inference.append(answer["inference_us"])
    elapsed = time.perf_counter() - started
    os.sched_setaffinity(0, {SERVER_CORE, CLIENT_CORE})
    return {
        "client": client,
        "round_trip": percentiles(round_trip),
        "in_server": percentiles(in_server),
        "inference": percentiles(inference),
        "requests_per_s": calls / elapsed,
    }


def concurrent_throughput(url: str, path: str, bodies: list[bytes], calls: int, in_flight: int = 16) -> float:
    """Requests/s with ``in_flight`` clients at once (threads, each with its own keep-alive connection)."""
    from concurrent.futures import ThreadPoolExecutor

    host, port = url.removeprefix("http://").split(":")
    per_client = calls // in_flight

    def client(k):
        connection = http.client.HTTPConnection(host, int(port))
        for i in range(per_client):
            connection.request(
                "POST", path, bodies[(k * per_client + i) % len(bodies)], {"Content-Type": "application/json"}
            )
            if connection.getresponse().read()[:1] != b"{":
                raise RuntimeError("bad answer")

    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(client, range(in_flight)))
    return per_client * in_flight / (time.perf_counter() - started)


def in_browser(url: str, digits: np.ndarray, calls: int) -> dict:
    """onnxruntime-web (wasm, 1 thread) in headless Chromium, through the page's own model; then the screenshot."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 820})
        page.goto(url + "/")
        page.wait_for_function("document.body.dataset.state === 'idle'", timeout=60_000)
        info = page.evaluate("fetch('/api/models').then(r => r.json()).then(c => c.browser)")
        times, mean_us = page.evaluate(
            """async ([digits, calls]) => {
                const model = await window.edgemnistBrowserModel;
                for (let i = 0; i < 100; i++) await model.run(digits[i % digits.length]);
                // The page's clock ticks in 0.1 ms (no cross-origin isolation): time groups of 10 calls.
                const times = [], started = performance.now();
                for (let i = 0; i < calls; i += 10) {
                    const group = performance.now();
                    for (let j = i; j < i + 10; j++) await model.run(digits[j % digits.length]);
                    times.push((performance.now() - group) * 100);
                }
                return [times, (performance.now() - started) * 1000 / calls];
            }""",
            [digits[:100].tolist(), calls],
        )
        draw_seven(page)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        version = page.evaluate("navigator.userAgent").split("Chrome/")[1].split(" ")[0]
        browser.close()
    return {
        **percentiles(times),
        "mean": mean_us,
        "runtime": info["runtime"],
        "model": info["model"],
        "chromium": version,
    }


def draw_seven(page):
    box = page.locator("#canvas").bounding_box()
    points = [(75, 55), (205, 55), (170, 130), (125, 240)]
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()
    page.wait_for_function("document.body.dataset.state === 'idle'", timeout=30_000)


def section(model: Path, alone: dict, served: list[dict], rps: float, browser: dict, calls: int) -> list[str]:
    lines = [
        f"### `edgemnist serve`: request latency ({model.name}, 28×28 JSON digit, 1 uvicorn worker, loopback)",
        "",
        f"Server on core {SERVER_CORE}, client on core {CLIENT_CORE}, {calls:,} sequential requests after 200 of "
        "warm-up. *Round trip* is what the client waits; *in server* is the app's own "
        "`server_us` (body read to answer made: JSON parsing, the thread-pool hop, the predictor call, the answer's "
        "numbers); *inference* is the predictor call inside the server.",
        "",
    ]
    table = [
        ["predictor call alone (`predict_proba`, same process)", f"{alone['p50']:,.1f}", f"{alone['p99']:,.1f}", "–"]
    ]
    for run in served:
        table += [
            [
                f"round trip, {run['client']} client",
                f"{run['round_trip']['p50']:,.1f}",
                f"{run['round_trip']['p99']:,.1f}",
                f"{run['requests_per_s']:,.0f}",
            ],
            [
                f"— in server ({run['client']} run)",
                f"{run['in_server']['p50']:,.1f}",
                f"{run['in_server']['p99']:,.1f}",
                "",
            ],
            [
                f"— inference in server ({run['client']} run)",
                f"{run['inference']['p50']:,.1f}",
                f"{run['inference']['p99']:,.1f}",
                "",
            ],
        ]
    table += [
        ["16 clients at once (http.client threads), throughput", "", "", f"{rps:,.0f}"],
        [
            f"in the browser: {browser['model']} on {browser['runtime']} (wasm, 1 thread), Chromium "
            f"{browser['chromium']}, `session.run` with the page's encode and decode, per call over groups of 10 "
            f"(mean {browser['mean']:,.1f} µs)",
            f"{browser['p50']:,.1f}",
            f"{browser['p99']:,.1f}",
            "–",
        ],
    ]
    lines += [markdown_table(["measured", "p50 µs", "p99 µs", "requests/s"], table), ""]
    best = min(served, key=lambda run: run["round_trip"]["p50"])
    added = best["round_trip"]["p50"] - alone["p50"]
    in_app = best["in_server"]["p50"] - best["inference"]["p50"]
    lines += [
        f"The server adds **{added / 1000:.2f} ms** p50 over the predictor call, client to client ({best['client']}); "
        f"of that, **{in_app / 1000:.2f} ms** is the app's own work in the server (target: ≤ 1 ms). "
        f"Load average at the end of the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
    ]
    return lines


def models() -> list[Path]:
    """The server's default model, and the ONNX file the page runs in the browser."""
    return [default_model(), pretrained_dir() / "mcu_int8.onnx"]


def body(calls: int = 2000) -> list[str]:
    model = default_model()
    digits = load_mnist().x_test[:1000]
    bodies = [json.dumps({"digit": d.tolist()}).encode() for d in digits]
    alone = predictor_alone(model, digits, calls)
    server, url = start_server([])
    path = f"/api/predict?model={model.name}"
    try:
        served = [through_server(url, path, bodies, calls, client) for client in ("httpx", "http.client")]
        rps = concurrent_throughput(url, path, bodies, calls)
        browser = in_browser(url, digits, min(calls, 1000))
    finally:
        server.terminate()
        server.wait(10)
    if browser["model"] != models()[1].name:
        raise RuntimeError(f"the page ran {browser['model']}, not {models()[1].name}: update models()")
    return section(model, alone, served, rps, browser, calls)
