import json
import subprocess
import sys

import click
import pytest
from conftest import run_cli

from edgemnist.cli import cli

COMMANDS = [  # what a user of edgemnist relies on; more may be registered
    "train",
    "export",
    "predict",
    "evaluate",
    "parity",
    "explain",
    "robustness",
    "bench",
    "inspect",
    "pipeline",
    "sample",
    "models",
    "serve",
    "compile",
    "finetune",
]
# Commands whose result is data: --json prints it, --json-file writes it.
RESULT_COMMANDS = [
    "train",
    "export",
    "pipeline",
    "models",
    "predict",
    "inspect",
    "explain",
    "robustness",
    "bench",
    "evaluate",
    "parity",
    "compile",
    "finetune",
]


def listed_commands(help_text: str) -> list[str]:
    """The names in the "Commands:" section of a group's --help, in order."""
    section = help_text.split("\nCommands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.strip()]


def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.exit_code == 0
    assert set(COMMANDS) <= set(cli.commands)  # registered
    assert listed_commands(result.output) == sorted(cli.commands)  # and each listed under Commands, none hidden


def command_paths(group, prefix=()) -> list[tuple[str, ...]]:
    """Every registered command, a group's subcommands in its place (their help carries the examples)."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths += command_paths(command, (*prefix, name)) if isinstance(command, click.Group) else [(*prefix, name)]
    return paths


@pytest.mark.parametrize("path", command_paths(cli), ids=" ".join)
def test_each_command_has_help_with_an_example(path):
    result = run_cli(*path, "--help")
    assert result.exit_code == 0 and "edgemnist " + " ".join(path) in result.output


@pytest.mark.parametrize("command", RESULT_COMMANDS)
def test_each_result_command_has_json_and_json_file(command):
    options = {opt: param for param in cli.commands[command].params for opt in param.opts}
    assert options["--json"].is_flag and options["--json-file"].type.dir_okay is False


def test_json_prints_what_json_file_writes(tmp_path):
    from edgemnist.pretrained import pretrained_dir, shipped_manifest

    written = tmp_path / "models.json"
    printed = run_cli("models", "--json", "--json-file", written)
    assert printed.exit_code == 0 and json.loads(printed.output) == json.loads(written.read_text())
    assert [m["file"] for m in json.loads(written.read_text())["models"]] == [
        m["file"] for m in shipped_manifest()["models"]
    ]
    model = pretrained_dir() / shipped_manifest()["models"][0]["file"]
    text = run_cli("inspect", model, "--json-file", tmp_path / "inspect.json")
    assert text.exit_code == 0 and "total:" in text.output  # the text view still prints
    inspection = json.loads((tmp_path / "inspect.json").read_text())
    assert inspection["parameters"] == shipped_manifest()["models"][0]["parameters"]


def test_import_and_help_load_no_heavy_runtime():
    code = (
        "import sys, edgemnist, edgemnist.cli\n"
        "from click.testing import CliRunner\n"
        "CliRunner().invoke(edgemnist.cli.cli, ['--help'])\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'onnxruntime', 'ai_edge_litert', 'onnx', 'matplotlib') if m in "
        "sys.modules]\n"
        "print(heavy)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate", "missing.keras"], "model not found"),
        (["train", "--arch", "resnet"], "Invalid value"),
        (["export", "--format", "tflite", "--quantize", "int4"], "Invalid value"),
    ],
)
def test_user_errors_are_one_line_without_traceback(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run_cli(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_export_without_a_trained_model_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("export")
    assert result.exit_code == 2 and "no trained .keras model found" in result.stderr


def test_the_cli_keeps_tensorflows_start_up_noise_hidden(trained, data_dir):
    result = subprocess.run(
        [sys.executable, "-m", "edgemnist.cli", "evaluate", trained.model_path, "--limit", "100", "--data", data_dir],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert result.stderr == "", result.stderr


def test_a_bad_option_value_is_one_line_with_exit_2():
    result = run_cli("export", "--calibration", 100000)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--calibration" in result.stderr and "60000" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_works_before_or_after_the_command(tmp_path, where):
    args = ["evaluate", tmp_path / "missing.keras"]
    result = run_cli(*(["--verbose", *args] if where == "before" else [*args, "--verbose"]))
    assert result.exit_code == 2 and "model not found" in result.stderr
    assert "Traceback" in result.stderr  # --verbose shows it


def test_an_internal_error_has_its_own_exit_code_and_says_how_to_see_the_traceback(monkeypatch, tmp_path):
    import edgemnist.evaluate

    def bug(*args, **kwargs):
        return {}["a bug"]

    monkeypatch.setattr(edgemnist.evaluate, "evaluate_model", bug)
    result = run_cli("evaluate", tmp_path / "any.keras")
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "KeyError" in result.stderr and "--verbose" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_calibration_larger_than_the_balanced_training_set_is_one_line(tmp_path, trained, data_dir):
    result = run_cli(
        "export", trained.model_path, "--calibration", 60000, "--out", tmp_path, "--data", data_dir, "--quiet"
    )
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "--calibration can be at most 54,210" in result.stderr


def test_train_json_is_the_result_and_json_file_the_same(tmp_path, data_dir):
    written = tmp_path / "train.json"
    result = run_cli(
        "train", "--epochs", 1, "--train-limit", 256, "--out", tmp_path, "--data", data_dir, "--quiet", "--json",
        "--json-file", written,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.output)
    assert printed == json.loads(written.read_text())
    assert printed["train_images"] == 256 and len(printed["history"]) == 1 and printed["model_path"].endswith(".keras")
