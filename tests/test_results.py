"""A figure knows where it came from: every regenerated section of benchmarks/RESULTS.md records the model files it
measured (short sha256), the commit and the machine, and a table that the README or the manual quotes must have
measured the model files shipped now, byte for byte. A rebuilt model makes these tests fail until
``python -m benchmarks --only SECTION`` has measured it again."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from datetime import datetime, timezone

import pytest
from conftest import ROOT
from test_docs import PAGES, docs_hooks


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


sections = load("sections")
RESULTS_TEXT = (ROOT / "benchmarks" / "RESULTS.md").read_text()
QUOTES = [(page, key) for page in PAGES for key, _ in docs_hooks().included_blocks(page.read_text())]
REGENERATED = [
    "shipped",
    "speed",
    "overhead",
    "litert-paths",
    "serve-latency",
    "tflm",
    "firmware",
    "targets",
    "training-time",
    "own-digits",
]


@pytest.mark.parametrize("page, key", QUOTES, ids=[f"{p.relative_to(ROOT)}:{k}" for p, k in QUOTES])
def test_a_quoted_table_measured_the_shipped_files(page, key):
    assert sections.stale_quotes(key, RESULTS_TEXT) == [], f"{page.relative_to(ROOT)} quotes {key}"


def test_the_quotes_cover_the_readme_and_the_manual():
    pages = {page.name for page, _ in QUOTES}
    assert {"README.md", "bench.md", "inspect-mcu.md", "predict.md", "serve-app.md"} <= pages


def test_a_changed_shipped_model_makes_its_quotes_stale(tmp_path):
    """The check reads the files' bytes: one flipped byte in a copy of the shipped models is caught."""
    shutil.copytree(ROOT / "edgemnist" / "pretrained", tmp_path / "edgemnist" / "pretrained")
    key = '"### mcu, 1 thread on 1 pinned core (a small board)"'
    assert sections.stale_quotes(key, RESULTS_TEXT, root=tmp_path) == []
    model = tmp_path / "edgemnist" / "pretrained" / "mcu_int8.tflite"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    (problem,) = sections.stale_quotes(key, RESULTS_TEXT, root=tmp_path)
    assert "edgemnist/pretrained/mcu_int8.tflite" in problem and "--only speed" in problem


def test_a_changed_kernel_makes_the_firmware_quotes_stale(tmp_path):
    """The firmware's figures are a function of our C kernels too: one changed byte there is caught."""
    for folder in ("edgemnist/pretrained", "edgemnist/mcu", "edgemnist/targets/plugin"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    key = '"## Cortex-M firmware"'
    assert sections.stale_quotes(key, RESULTS_TEXT, root=tmp_path) == []
    kernel = tmp_path / "edgemnist" / "mcu" / "kernels" / "dsp.h"
    kernel.write_text(kernel.read_text() + "\n")
    (problem,) = sections.stale_quotes(key, RESULTS_TEXT, root=tmp_path)
    assert "the code in edgemnist/mcu" in problem and "--only firmware" in problem


def test_a_code_folder_hash_leaves_pythons_caches_out(tmp_path):
    (tmp_path / "kernel.c").write_text("int x;\n")
    before = sections.folder_sha256(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    assert sections.folder_sha256(tmp_path) == before
    (tmp_path / "kernel.h").write_text("")  # a new file, even empty, is new code
    assert sections.folder_sha256(tmp_path) != before


def test_a_section_of_other_files_is_not_quotable():
    text = RESULTS_TEXT.replace("`edgemnist/pretrained/seed_int8.onnx`", "`runs/seed/export/seed_int8.onnx`")
    assert "not a shipped model" in " ".join(sections.stale_quotes("overhead", text))
    (problem,) = sections.stale_quotes("onnx-avx2", RESULTS_TEXT)  # a history section: it kept no files
    assert "records no model files" in problem


@pytest.mark.parametrize("name", REGENERATED)
def test_a_regenerated_section_records_its_provenance(name):
    """Or it says, in bold under its heading, that its last regeneration failed: then it is visibly old (and the
    test above keeps anything from quoting it)."""
    section = sections.section_text(name, RESULTS_TEXT)
    if sections.FAILED.search(section) and "- **made by**" not in section:
        return
    for field in (
        "- **made by** `python -m benchmarks --only",
        "- **models measured**",
        "- **commit** `",
        "- **machine**",
    ):
        assert field in section, f"section {name!r} lacks {field!r}"
    assert "load average" in section
    if name in ("firmware", "targets"):  # compiled by our own compiler, with our own kernels
        assert "- **code measured**: `edgemnist/mcu` sha256" in section


def test_every_section_is_regenerated_history_or_derived():
    for name in sections.section_names(RESULTS_TEXT):
        section = sections.section_text(name, RESULTS_TEXT)
        history = "\n\nHistory: " in section
        assert (name in REGENERATED) + history + (name in sections.DERIVED) == 1, name


def test_a_failed_regeneration_keeps_the_old_figures_marked(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n")
    sections.replace_section("speed", "how", ["## Speed", "", "| a | 1 |"], results)
    when = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    sections.mark_failed("speed", "RuntimeError: no\nruntime", when, results)
    sections.mark_failed("speed", "RuntimeError: again", when, results)  # one note, the latest
    text = results.read_text()
    assert "| a | 1 |" in text
    assert text.count("Last regeneration failed") == 1
    assert "**Last regeneration failed on 2026-01-02 03:04 UTC: RuntimeError: again**" in text
    sections.replace_section("speed", "how", ["## Speed", "", "| a | 2 |"], results)
    assert "failed" not in results.read_text() and "| a | 1 |" not in results.read_text()


def test_a_resumed_section_makes_the_timings_total_a_lower_bound(tmp_path, monkeypatch):
    """A section that kept figures from earlier runs timed only what it measured again: the sum says so."""
    from benchmarks import regenerate

    def timings(text: str) -> str:
        results = tmp_path / "RESULTS.md"
        results.write_text(text)
        monkeypatch.setattr(regenerate, "RESULTS", results)
        monkeypatch.setattr(regenerate, "replace_section", lambda *args: sections.replace_section(*args, results))
        regenerate.write_timings()
        return sections.section_text("timings", results.read_text())

    targets = sections.section_text("targets", RESULTS_TEXT)
    assert sections.RESUMED in targets  # its Cortex-M cells were measured again on the new kernels, the rest kept
    marked = timings(RESULTS_TEXT)
    assert re.search(r"\| `targets` \|[^\n]*\(resumed\) \|", marked) and "**at least " in marked
    whole = timings(RESULTS_TEXT.replace(targets, targets.replace(sections.RESUMED, "measured again")))
    assert "(resumed)" not in whole and "**at least " not in whole
