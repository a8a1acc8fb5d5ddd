"""Fixtures of the app's tests: the app over the shipped models, a real uvicorn server on a free loopback
port, and headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def app():
    from edgemnist.app.server import create_app

    return create_app()  # the shipped models on every installed runtime, as `edgemnist serve` does


@pytest.fixture(scope="session")
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@contextlib.contextmanager
def running(app, **limits):
    """``app`` on a real uvicorn server (loopback, a free port) in a background thread, configured as
    `edgemnist serve` configures it (``limits``: ``body_timeout``, ``max_connections``); yields its URL."""
    import uvicorn

    from edgemnist.app.limits import server_config
    from edgemnist.app.server import bound_socket, url_of

    sock = bound_socket("127.0.0.1", 0)
    server = uvicorn.Server(server_config(app, **limits))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield url_of(sock).rstrip("/")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def server_url(app):
    with running(app) as url:
        yield url


@pytest.fixture(scope="module")  # not session: Playwright's sync API holds an event loop in this thread while open
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def direct_predictors():
    """Each shipped model opened on its own, apart from the server: the reference answers."""
    from edgemnist.app.models import shipped_model_paths
    from edgemnist.predict import load

    return {path.name: load(path, threads=1) for path in shipped_model_paths()}
