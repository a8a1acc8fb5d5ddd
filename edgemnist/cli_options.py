"""Shared pieces of the CLI: clean error handling and the options several commands use (defined once)."""
from __future__ import annotations

import json
import traceback

import click

from .errors import EdgemnistError


class CleanErrors(click.Group):
    """Turn user errors into one line and an exit code; keep tracebacks for --verbose."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EdgemnistError as exc:
            self.fail_with(ctx, f"error: {exc}", exc.exit_code, exc)
        except KeyboardInterrupt:
            self.fail_with(ctx, "interrupted", 130, None)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug, not a user error: say so, details under --verbose
            self.fail_with(ctx, f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for the traceback)", 1, exc)

    @staticmethod
    def fail_with(ctx, message: str, code: int, exc):
        if exc is not None and ctx.obj and ctx.obj.get("verbose"):
            traceback.print_exception(exc)
        click.echo(message, err=True)
        ctx.exit(code)


def data_option(func):
    return click.option(
        "--data", "data_dir", metavar="DIR", envvar="EDGEMNIST_DATA",
        help="Folder with the four MNIST IDX files (gzipped or not) or mnist.npz. Default: $EDGEMNIST_DATA, "
        "then ~/.keras/datasets/mnist.npz, then Keras' download.",
    )(func)


def threads_option(func):
    return click.option("--threads", type=click.IntRange(1), default=None, help="Runtime threads (default: the runtime's own).")(func)


def parse_normalize(ctx, param, value):
    if value is None:
        return None
    try:
        mean, std = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter("expected MEAN,STD, e.g. 0.1307,0.3081") from None
    if std <= 0:
        raise click.BadParameter("STD must be positive")
    return mean, std


def contract_options(func):
    """What cannot be read from a foreign model: shared by predict, evaluate, parity and bench."""
    func = click.option(
        "--normalize", callback=parse_normalize, metavar="MEAN,STD",
        help="The model expects (x - MEAN) / STD, applied after --input-scale.",
    )(func)
    return click.option(
        "--input-scale", type=click.Choice(["1", "255"]), default=None,
        help="The float range the model expects: [0,1] or [0,255]. Our own models carry it.",
    )(func)


def contract_kwargs(input_scale, normalize) -> dict:
    return {"input_scale": float(input_scale) if input_scale else None, "normalize": normalize}


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2))


def parse_int_list(ctx, param, value):
    if value is None:
        return None
    try:
        numbers = [int(v) for v in str(value).split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter("expected comma-separated whole numbers, e.g. 1,8,64") from None
    if not numbers or min(numbers) < (0 if param.name == "cores" else 1):
        raise click.BadParameter("expected comma-separated whole numbers, e.g. 1,8,64")
    return numbers
