"""The app: routes as small functions over state made once at start-up (the served predictors).

Predictors run in Starlette's thread pool, so a slow photo never blocks the event loop; they are shared
by those threads, which the Predictor's own lock makes safe (see ``edgemnist.predict.base``).
"""

from __future__ import annotations

import contextlib
import io
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..common.errors import EdgemnistError, first_line
from ..common.render import human_bytes
from .collect import Collection, collect
from .inputs import (
    MAX_UPLOAD_BYTES,
    ApiError,
    digit_from_image,
    digit_from_json,
    digit_with_ink,
    media_type,
    read_body,
    uploaded_image,
)
from .limits import BODY_TIMEOUT_S, COLLECT_MAX_BYTES, COLLECT_PER_MINUTE, MAX_CONNECTIONS, server_config
from .models import ServedModel, choose_browser_model, load_served_models
from .openapi import OPENAPI

STATIC = Path(__file__).parent / "static"
ORT_DIR = STATIC / "ort"
ORT_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm")  # see scripts/refresh_ort_web.py
TOP = 3  # probabilities shown per model
BACKLOG = 2048  # uvicorn's default


# -- routes ---------------------------------------------------------------------------------------------
async def page(request: Request):
    return FileResponse(STATIC / "index.html")


async def models(request: Request):
    return JSONResponse({**request.app.state.catalogue, "collect": request.app.state.collection is not None})


async def openapi(request: Request):
    return JSONResponse(OPENAPI)


async def browser_model(request: Request):
    chosen = request.app.state.browser_model
    if chosen is None:
        raise ApiError(404, "no ONNX model for the browser: serve an .onnx model to run it in the page")
    return FileResponse(chosen.path, media_type="application/octet-stream")


async def predict(request: Request):
    """One image or 28×28 digit → the chosen model's answer, with the digit it saw."""
    received = time.perf_counter()
    model = chosen_model(request)
    body = await read_body(request)
    kind = media_type(request)
    if kind == "application/json":
        answer = await run_in_threadpool(prediction, model, lambda: digit_from_json(body), False)
    elif kind == "multipart/form-data":
        data, name = await uploaded_image(request, body)
        answer = await run_in_threadpool(prediction, model, lambda: digit_from_image(data, name), True)
    elif kind.startswith("image/") or kind == "application/octet-stream":
        answer = await run_in_threadpool(prediction, model, lambda: digit_from_image(body, "the upload"), True)
    else:
        raise ApiError(
            415, f"unsupported Content-Type {kind or '(none)'}: send multipart/form-data, image/* or application/json"
        )
    answer["server_us"] = round((time.perf_counter() - received) * 1e6, 1)
    return JSONResponse(answer)


# -- helpers --------------------------------------------------------------------------------------------
def chosen_model(request: Request) -> ServedModel:
    """By name from the served list only: a name is a dictionary key, never a path."""
    served = request.app.state.served
    name = request.query_params.get("model") or next(iter(served))
    if name not in served:
        raise ApiError(404, f"unknown model {name[:100]!r}; served: {', '.join(served)}")
    return served[name]


def prediction(model: ServedModel, make_digit, show_digit: bool) -> dict:
    """Runs in a worker thread: make the digit (decode and preprocess an image), then predict."""
    answer: dict[str, object] = {"model": model.name, "backend": model.predictor.backend}
    digit = digit_with_ink(make_digit)
    if digit is None:
        return {**answer, "blank": True, "label": None, "message": "nothing drawn"}
    start = time.perf_counter()
    probabilities = model.predictor.predict_proba(digit[None])[0]
    inference_us = (time.perf_counter() - start) * 1e6
    labels = model.predictor.labels
    order = np.argsort(-probabilities, kind="stable")
    answer.update(
        blank=False,
        label=str(labels[order[0]]),
        probabilities=[round(float(p), 6) for p in probabilities],
        top=[{"label": str(labels[i]), "probability": round(float(probabilities[i]), 6)} for i in order[:TOP]],
        inference_us=round(inference_us, 1),
    )
    if show_digit:
        answer["digit"] = digit.tolist()  # what the model saw, after preprocessing
    return answer


def catalogue(served: dict[str, ServedModel], browser) -> dict:
    """What GET /api/models answers; made once, since the served models never change."""
    ort_ready = all((ORT_DIR / name).is_file() for name in ORT_FILES)
    version_file = ORT_DIR / "VERSION"
    browser_part: dict[str, object] = {"available": bool(browser) and ort_ready}
    if browser:
        browser_part.update(
            model=browser.name,
            url="/browser/model.onnx",
            contract=browser.contract,
            same_file_as_server=browser.same_file_as_server,
        )
    if ort_ready:
        browser_part.update(
            runtime=version_file.read_text().split(" from ")[0] if version_file.is_file() else "onnxruntime-web",
            module="/static/ort/" + ORT_FILES[0],
            wasm="/static/ort/" + ORT_FILES[1],
        )
    elif browser:
        browser_part["reason"] = "this install has no onnxruntime-web files (scripts/refresh_ort_web.py)"
    else:
        browser_part["reason"] = "no ONNX model to run in the browser"
    return {
        "models": [model.describe() for model in served.values()],
        "default": next(iter(served)),
        "browser": browser_part,
        "max_upload_bytes": MAX_UPLOAD_BYTES,
    }


async def api_error(request: Request, exc: ApiError):
    return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=exc.headers)


async def http_error(request: Request, exc: HTTPException):
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def library_error(request: Request, exc: EdgemnistError):
    return JSONResponse({"error": str(exc)}, status_code=400)


async def internal_error(request: Request, exc: Exception):
    """A bug, not the client's fault: say so in JSON (the traceback goes to the server's log)."""
    return JSONResponse({"error": f"internal error: {type(exc).__name__}: {first_line(exc)}"}, status_code=500)


# -- the app and the server -----------------------------------------------------------------------------
def create_app(model_paths=None, threads: int = 1, collection: Collection | None = None, **contract) -> Starlette:
    """The app serving ``model_paths`` (default: the shipped models on the installed runtimes); ``contract``
    (``input_scale``, ``normalize``) is what a foreign model cannot tell; with a ``collection``, the page offers
    to save corrected digits into it. Models are loaded here, so a bad path fails before a server starts."""
    served = {model.name: model for model in load_served_models(model_paths, threads, **contract)}
    browser = choose_browser_model(list(served.values()))
    # Starlette types a handler as taking any Exception; each of ours takes the one type it is registered for.
    handlers: dict[Any, Any] = {
        ApiError: api_error,
        HTTPException: http_error,
        EdgemnistError: library_error,
        Exception: internal_error,
    }
    app = Starlette(
        routes=[
            Route("/", page),
            Route("/api/models", models),
            Route("/api/predict", predict, methods=["POST"]),
            Route("/api/collect", collect, methods=["POST"]),
            Route("/api/openapi.json", openapi),
            Route("/browser/model.onnx", browser_model),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=start_thread_pool,
        exception_handlers=handlers,
    )
    warm_up(served.values())
    app.state.served = served
    app.state.browser_model = browser
    app.state.catalogue = catalogue(served, browser)
    app.state.collection = collection
    return app


def warm_up(served) -> None:
    """Pay the first call's costs (Pillow's and the preprocessing's imports, each predictor's first run) now,
    not in the first user's request."""
    stroke = np.full((56, 56), 255, np.uint8)
    stroke[10:46, 26:30] = 0  # a dark "1" on white paper, as a canvas sends it
    buffer = io.BytesIO()
    Image.fromarray(stroke).save(buffer, format="PNG")
    digit = digit_from_image(buffer.getvalue(), "warm-up")
    for model in served:
        model.predictor.predict_proba(digit[None])


@contextlib.asynccontextmanager
async def start_thread_pool(app):
    """The thread pool's first use costs ≈ 0.1 s: pay it at start-up, not in the first request."""
    await run_in_threadpool(lambda: None)
    yield


def bound_socket(host: str, port: int) -> socket.socket:
    """Bind and listen before serving, so a busy port is one clear error and port 0 gets a real port to print."""
    sock = None
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
        # a response's headers and body wait out the client's 40 ms delayed ACK.
        sock = socket.socket(family, kind, protocol)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)  # listening now, so a client that reads the printed URL at once is queued, not refused
    except OSError as exc:
        if sock is not None:
            sock.close()
        raise EdgemnistError(
            f"cannot listen on {host}:{port} ({first_line(exc)}); pick another --port or --host"
        ) from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(
    model_paths=None,
    host: str = "127.0.0.1",
    port: int = 8000,
    say=print,
    body_timeout: float = BODY_TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
    collect_dir=None,
    collect_max_bytes: int = COLLECT_MAX_BYTES,
    collect_per_minute: int = COLLECT_PER_MINUTE,
    **contract,
) -> None:
    """Serve the app until Ctrl-C; ``say`` gets the URL once the models are loaded and the port bound.
    ``collect_dir``: save the page's corrections there (off by default)."""
    import uvicorn  # the CLI has checked that the app's extra is installed

    collection = Collection(collect_dir, collect_max_bytes, collect_per_minute) if collect_dir else None
    app = create_app(model_paths, collection=collection, **contract)
    sock = bound_socket(host, port)
    server = uvicorn.Server(server_config(app, body_timeout, max_connections))
    say(f"serving {', '.join(app.state.served)} at {url_of(sock)}  (Ctrl-C to stop)")
    if collection is not None:
        say(f"saving corrected digits into {collection.folder}/<label>/ (at most {human_bytes(collect_max_bytes)})")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has already shut down cleanly and re-raises the signal
        pass
    finally:
        sock.close()
