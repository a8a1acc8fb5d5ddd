"""``edgemnist serve``: the digit-classifier app (page + JSON API) over any exported model."""

from __future__ import annotations

import click

from ..app.limits import BODY_TIMEOUT_S, COLLECT_MAX_BYTES, COLLECT_PER_MINUTE, MAX_CONNECTIONS
from .group import cli
from .options import contract_kwargs, contract_options


@cli.command()
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets a phone on your network in.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(0, min_open=True),
    default=BODY_TIMEOUT_S,
    show_default=True,
    metavar="SECONDS",
    help="A request must arrive whole (head and body) within this many seconds of its first byte; "
    "a stalled one is answered 408 and its connection closed.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=MAX_CONNECTIONS,
    show_default=True,
    metavar="N",
    help="Open connections served at once; a request on one more is answered 503.",
)
@click.option(
    "--collect",
    "collect_dir",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help='Let the page save corrected digits ("wrong? it was a …") into DIR/<label>/, '
    "with the uploads in DIR/.originals/<label>/. Off by default.",
)
@click.option(
    "--collect-max-bytes",
    type=click.IntRange(1),
    default=COLLECT_MAX_BYTES,
    metavar="BYTES",
    help=f"Stop saving (507) once DIR holds this many bytes (default: {COLLECT_MAX_BYTES}, 1 GiB).",
)
@click.option(
    "--collect-per-minute",
    type=click.IntRange(1),
    default=COLLECT_PER_MINUTE,
    show_default=True,
    metavar="N",
    help="Saves allowed per client address per minute (429 past it).",
)
@contract_options
def serve(models, host, port, input_scale, normalize, **limits):
    """Serve the digit-classifier app: draw or photograph a digit, see what the model saw and its answer,
    on the server and in the browser (onnxruntime-web), with a JSON API at /api/predict.

    MODEL is any .tflite, .onnx or .keras file, chosen in the page by file name; without one, every
    shipped model whose runtime is installed. Stop with Ctrl-C.

    \b
    Examples:
      edgemnist serve
      edgemnist serve export/seed_int8.tflite export/seed_int8.onnx --host 0.0.0.0 --port 8080
      edgemnist serve --host 0.0.0.0 --collect my_digits
    """
    from ..common.deps import import_optional

    for module in ("starlette", "uvicorn", "python_multipart"):
        import_optional(module, "app")
    from ..app.server import serve as serve_app

    serve_app(
        models or None,
        host,
        port,
        say=lambda line: click.echo(line),
        **limits,
        **contract_kwargs(input_scale, normalize),
    )
    click.echo("stopped")
