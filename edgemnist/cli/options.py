"""Shared pieces of the CLI: clean error handling and the options several commands use (defined once)."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import traceback

import click

from ..common.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EdgemnistError, first_line
from ..common.progress import TerminalProgress
from ..datasets import PARTS

GLOBAL_FLAGS = ("--verbose",)
MAX_BATCH = 10_000  # the whole MNIST test set


class CleanErrors(click.Group):
    """Turn user errors into one line and an exit code; keep tracebacks for --verbose."""

    def parse_args(self, ctx, args):
        """``--verbose`` may stand before or after the command name: move it in front of the command."""
        end = args.index("--") if "--" in args else len(args)
        flags = [a for a in args[:end] if a in GLOBAL_FLAGS]
        rest = [a for a in args[:end] if a not in GLOBAL_FLAGS] + args[end:]
        return super().parse_args(ctx, flags + rest)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """Click's usage errors (a bad option value, a missing argument) as one line and exit 2, like ours."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
            click.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)

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
            message = (
                f"internal error: {type(exc).__name__}: {first_line(exc)} "
                "(a bug in edgemnist; run again with --verbose for the traceback)"
            )
            self.fail_with(ctx, message, EXIT_INTERNAL, exc)

    @staticmethod
    def fail_with(ctx, message: str, code: int, exc):
        if exc is not None and ctx.obj and ctx.obj.get("verbose"):
            traceback.print_exception(exc)
        click.echo(message, err=True)
        ctx.exit(code)


MNIST_HELP = "Default: $EDGEMNIST_DATA, then ~/.keras/datasets/mnist.npz, then Keras' download."


def data_option(func):
    """MNIST only: what ``train`` and ``pipeline`` learn from."""
    return click.option(
        "--data",
        "data_dir",
        metavar="DIR",
        envvar="EDGEMNIST_DATA",
        help=f"Folder with the four MNIST IDX files (gzipped or not) or mnist.npz. {MNIST_HELP}",
    )(func)


def data_options(func=None, *, part: bool = True):
    """``--data``, ``--split-ratio``, ``--split-seed`` (and ``--split`` when the command scores one part) given
    to the command as one ``data`` (a ``DataSelection``): MNIST or the user's own digits."""
    if func is None:
        return functools.partial(data_options, part=part)

    @functools.wraps(func)
    def with_selection(*args, data_dir, split_ratio, split_seed, split=None, **kwargs):
        from ..datasets import DataSelection, Split

        return func(*args, data=DataSelection(data_dir, split, Split.parse(split_ratio, split_seed)), **kwargs)

    decorated = with_selection
    if part:
        decorated = click.option(
            "--split",
            type=click.Choice(PARTS),
            help="Which part of --data to score: MNIST's train or test set (default test); a part of your own "
            "digits, dealt by --split-ratio (default all of them).",
        )(decorated)
    decorated = click.option(
        "--split-seed",
        type=int,
        default=0,
        show_default=True,
        help="Seed dealing your own digits into train, val and test (each digit class on its own).",
    )(decorated)
    decorated = click.option(
        "--split-ratio",
        default="70:15:15",
        show_default=True,
        metavar="TRAIN:VAL:TEST",
        help="Shares of your own digits in the train, val and test parts (MNIST keeps its official sets).",
    )(decorated)
    return click.option(
        "--data",
        "data_dir",
        metavar="PATH",
        envvar="EDGEMNIST_DATA",
        help="MNIST (a folder of its IDX files, or mnist.npz), or your own digits: a folder of images in DIR/0 … "
        f"DIR/9, or an .npz with x (images) and y (labels). {MNIST_HELP}",
    )(decorated)


def quiet_option(func):
    return click.option("--quiet", is_flag=True, help="No progress messages or bars on stderr.")(func)


def progress_for(quiet: bool) -> TerminalProgress:
    """Live bars on stderr when it is a terminal; messages otherwise; nothing with --quiet."""
    return TerminalProgress(quiet)


TEST_IMAGES = 10_000
TRAINING_IMAGES = 60_000

limit_option = click.option(
    "--limit", type=click.IntRange(1, TEST_IMAGES), default=None, help="Use the first N test images."
)
runs_option = click.option(
    "--runs", type=click.IntRange(10, 1_000_000), default=200, show_default=True, help="Timed calls per batch size."
)


def calibration_option(func):
    """--calibration: the default is the exporters' own (``DEFAULT_CALIBRATION``), written once."""
    from ..export.calibration import DEFAULT_CALIBRATION

    return click.option(
        "--calibration",
        type=click.IntRange(10, TRAINING_IMAGES),
        default=DEFAULT_CALIBRATION,
        show_default=True,
        help="Training digits (class-balanced, fixed) that calibrate int8.",
    )(func)


json_file_option = click.option(
    "--json-file",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the result as JSON to this file.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of text.")


def json_options(func):
    """--json prints the result as JSON, --json-file F writes it: the same two words in every command."""
    return json_option(json_file_option(func))


def result_json(result):
    """A result dataclass (or a list of them) as JSON-ready data, by ``dataclasses.asdict``."""
    if isinstance(result, list):
        return [result_json(item) for item in result]
    return dataclasses.asdict(result) if dataclasses.is_dataclass(result) else result


def emit_result(result, as_json: bool, json_path, text) -> None:
    """Write the JSON file if asked, then print JSON (--json) or the text view ``text(result)``."""
    from ..common.files import write_json

    data = result_json(result)
    if json_path:
        write_json(json_path, data)
    if as_json:
        echo_json(data)
    elif shown := text(result):
        click.echo(shown)


def on_option(func):
    """--on: where the models run instead of here. bench measures on several targets at once; evaluate and
    parity take one (``one_target``)."""
    return click.option(
        "--on",
        "targets",
        multiple=True,
        is_eager=True,  # parsed first: --cores is checked against this machine only when nothing runs elsewhere
        metavar="TARGET",
        help="Run there instead of here: a board [USER@]HOST[:PORT] over SSH, a place of a team's labgrid lab "
        "labgrid:PLACE or labgrid:TAG=VALUE (held for the run), or an emulated CPU qemu:CPU "
        "(cortex-a53/a72/a76, haswell, …; counted in guest instructions, not timed).",
    )(func)


def lab_options(func):
    """--coordinator and --lab-timeout: how --on labgrid:… reaches a team's lab, the same in bench, evaluate and
    parity."""
    from ..targets.labgrid import LAB_TIMEOUT_S

    func = click.option(
        "--lab-timeout",
        type=click.FloatRange(0, 86_400),
        default=LAB_TIMEOUT_S,
        show_default=True,
        metavar="SECONDS",
        help="With --on labgrid:…, how long to wait, counting down, for a place others hold; then exit 1 naming "
        "the holder.",
    )(func)
    return click.option(
        "--coordinator",
        envvar="LG_COORDINATOR",
        metavar="HOST[:PORT]",
        default=None,
        help="With --on labgrid:…, the labgrid coordinator. Default: $LG_COORDINATOR, then labgrid's own "
        "127.0.0.1:20408.",
    )(func)


def one_target(ctx: click.Context, targets: tuple) -> str | None:
    """The single target of a command that runs on one (evaluate, parity); several are a usage error."""
    if len(targets) > 1:
        raise click.UsageError(f"{ctx.command.name} runs on one target; bench measures on several", ctx)
    return targets[0] if targets else None


def threads_option(default=None):
    """--threads everywhere; timing commands default to 1 thread so that their figures are reproducible."""
    help_text = "Runtime threads" + (" (default: the runtime's own)." if default is None else ".")
    return click.option(
        "--threads", type=click.IntRange(1, 256), default=default, show_default=default is not None, help=help_text
    )


def backend_option(func):
    """--backend: a runtime by name instead of the one the file's content picks (e.g. tflm for a .tflite)."""
    return backend_choice(
        "--backend",
        "Run with this runtime instead of the one the file's format picks, e.g. tflm: TFLite Micro's "
        "reference kernels, the arithmetic of a micro-controller (needs edgemnist[tflm]).",
    )(func)


def reference_backend_option(func):
    """parity's --reference-backend: the reference's runtime, as --backend is the candidates'."""
    return backend_choice(
        "--reference-backend",
        "Run REFERENCE with this runtime instead of the one its format picks: tflm compares firmware "
        "(--on qemu:cortex-m4) or --backend mcu-c with TFLite Micro itself rather than LiteRT.",
    )(func)


def backend_choice(flag: str, help_text: str):
    from ..predict import BACKENDS

    return click.option(flag, type=click.Choice(BACKENDS.names()), default=None, help=help_text)


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
    """What cannot be read from a foreign model: shared by predict, evaluate, parity, bench and serve."""
    func = click.option(
        "--normalize",
        callback=parse_normalize,
        metavar="MEAN,STD",
        help="The model expects (x - MEAN) / STD, applied after --input-scale.",
    )(func)
    return click.option(
        "--input-scale",
        type=click.Choice(["1", "255"]),
        default=None,
        help="The float range the model expects: [0,1] or [0,255]. Our own models carry it.",
    )(func)


def contract_kwargs(input_scale, normalize) -> dict:
    return {"input_scale": float(input_scale) if input_scale else None, "normalize": normalize}


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2))


def parse_int_list(ctx, param, value):
    """--batch (positive sizes) and --cores (core numbers from 0), comma-separated."""
    if value is None:
        return None
    lowest, kind = (0, "core numbers from 0") if param.name == "cores" else (1, "positive whole numbers")
    try:
        numbers = [int(v) for v in str(value).split(",") if v.strip()]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < lowest:
        example = "0,1" if param.name == "cores" else "1,8,64"
        raise click.BadParameter(f"expected comma-separated {kind}, e.g. {example}")
    if param.name == "cores":
        available = sorted(os.sched_getaffinity(0))
        local = not ctx.params.get("targets")  # with bench --on, the board's worker checks its own cores
        if local and not set(numbers) <= set(available):
            raise click.BadParameter(f"this machine offers cores {','.join(map(str, available))}")
    elif max(numbers) > MAX_BATCH:
        raise click.BadParameter(f"a batch size is at most {MAX_BATCH}")
    return numbers
