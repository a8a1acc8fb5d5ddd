"""``edgemnist serve``: the digit-classifier app (page + JSON API) over any exported model."""

from __future__ import annotations

import click

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
@contract_options
def serve(models, host, port, input_scale, normalize):
    """Serve the digit-classifier app: draw or photograph a digit, see what the model saw and its answer,
    on the server and in the browser (onnxruntime-web), with a JSON API at /api/predict.

    MODEL is any .tflite, .onnx or .keras file, chosen in the page by file name; without one, every
    shipped model whose runtime is installed. Stop with Ctrl-C.

    \b
    Examples:
      edgemnist serve
      edgemnist serve export/seed_int8.tflite export/seed_int8.onnx --host 0.0.0.0 --port 8080
    """
    from ..common.deps import import_optional

    for module in ("starlette", "uvicorn", "python_multipart"):
        import_optional(module, "app")
    from ..app.server import serve as serve_app

    serve_app(models or None, host, port, say=lambda line: click.echo(line), **contract_kwargs(input_scale, normalize))
    click.echo("stopped")
