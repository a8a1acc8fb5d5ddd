"""The docs run: every ```console example in README.md and docs/ is executed and its output compared with what the
page shows, and the tables README.md quotes are benchmarks/RESULTS.md's, verbatim.

An example runs in a fresh folder holding ``digit.png`` (test digit 7777, a 5), ``nine.png`` (test digit 4444, a 9),
``my-digits/`` (scikit-learn's 1,797 digits as an image folder, as benchmarks/own_digits.py writes them) and the
shipped models as ``edgemnist/pretrained/``. ``$ edgemnist …`` runs in-process through click's CliRunner;
``$ curl …`` runs against a real ``edgemnist serve`` app on a free loopback port. In the shown output a ``…`` stands
for anything within its line, and a line that is only ``…`` for any number of lines (timings, paths, cut tables).
A block right after a ``<!-- slow -->`` line is marked slow.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SERVED_URL = "http://127.0.0.1:8000"  # the address the examples show; the test's server has its own port


def docs_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Example:
    page: Path
    line: int  # of the command, 1-based
    command: str
    shown: list[str]
    slow: bool

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def console_examples(page: Path) -> list[Example]:
    """Each ``$ command`` of the page's console blocks, with the output lines shown under it."""
    examples: list[Example] = []
    lines = page.read_text().splitlines()
    inside, slow = False, False
    for number, line in enumerate(lines, 1):
        if not inside and line.strip() == "```console":
            inside, slow = True, number > 1 and lines[number - 2].strip() == "<!-- slow -->"
        elif inside and line.strip() == "```":
            inside = False
        elif inside and line.startswith("$ "):
            examples.append(Example(page, number, line[2:].strip(), [], slow))
        elif inside and examples:
            examples[-1].shown.append(line)
    return examples


EXAMPLES = [example for page in PAGES for example in console_examples(page)]


def shown_pattern(shown: list[str]) -> re.Pattern:
    parts = []
    for line in shown:
        if line.strip() == "…":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in line.rstrip().split("…")) + r"\n")
    return re.compile("".join(parts))


def output_matches(shown: list[str], output: str) -> bool:
    actual = "".join(line.rstrip() + "\n" for line in output.splitlines())
    return shown_pattern(shown).fullmatch(actual) is not None


@pytest.fixture(scope="session")
def example_files(tmp_path_factory, data_dir) -> Path:
    from benchmarks.own_digits import write_sklearn_digits
    from edgemnist.data import save_sample_png

    folder = tmp_path_factory.mktemp("example-files")
    save_sample_png(7777, folder / "digit.png", "test", data_dir)
    save_sample_png(4444, folder / "nine.png", "test", data_dir)
    write_sklearn_digits(folder / "my-digits")
    return folder


@pytest.fixture
def example_dir(tmp_path, example_files, monkeypatch, data_dir) -> Path:
    from edgemnist.pretrained import pretrained_dir

    for file in example_files.iterdir():
        (shutil.copytree if file.is_dir() else shutil.copy)(file, tmp_path / file.name)
    (tmp_path / "edgemnist").mkdir()
    (tmp_path / "edgemnist" / "pretrained").symlink_to(pretrained_dir(), target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDGEMNIST_DATA", data_dir)
    return tmp_path


def run_example(command: str) -> tuple[int, str]:
    """(exit code, what a terminal shows: stdout and stderr)."""
    args = shlex.split(command)
    if args[0] == "edgemnist":
        result = run_cli(*args[1:])
        return result.exit_code, result.output
    if args[0] == "curl":
        from app.conftest import running  # tests/app's real uvicorn server on a free loopback port

        from edgemnist.app.server import create_app

        with running(create_app()) as url:
            done = subprocess.run([arg.replace(SERVED_URL, url) for arg in args], capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr
    raise AssertionError(f"a console example runs edgemnist or curl, not {args[0]!r}")


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, id=e.id, marks=[pytest.mark.slow] if e.slow else []) for e in EXAMPLES],
)
def test_console_example(example, example_dir):
    code, output = run_example(example.command)
    failed = any(line.startswith("error:") for line in example.shown)
    assert (code != 0) == failed, f"{example.id}: `{example.command}` exited {code}\n{output}"
    assert output_matches(example.shown, output), (
        f"{example.id}: `{example.command}` printed\n{output}\nwhere the page shows\n" + "\n".join(example.shown)
    )


def test_the_docs_have_console_examples():
    assert len(EXAMPLES) >= 10, [e.id for e in EXAMPLES]
    assert any(e.page.name == "README.md" for e in EXAMPLES)


def test_the_matcher_can_fail():
    assert output_matches(["a …", "…", "z"], "a 12 µs\nb\nc\nz\n")
    assert not output_matches(["a …", "z"], "a 12 µs\nb\nz\n")
    assert not output_matches(["nine.png: 9 (99.6%)"], "nine.png: 4 (99.6%)\n")


def test_readme_tables_are_results_md_verbatim():
    hooks = docs_hooks()
    blocks = hooks.included_blocks((ROOT / "README.md").read_text())
    assert len(blocks) == 4
    for key, shown in blocks:
        assert shown == hooks.results_block(key), f"README.md's table {key} differs from benchmarks/RESULTS.md"


def test_every_included_section_exists_in_results_md():
    hooks = docs_hooks()
    for page in PAGES:
        for key, _ in hooks.included_blocks(page.read_text()):
            assert hooks.results_block(key).strip(), f"{page.name}: {key}"


def test_readme_is_a_front_page():
    assert len((ROOT / "README.md").read_bytes()) <= 12 * 1024
