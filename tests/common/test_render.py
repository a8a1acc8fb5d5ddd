"""One table renderer: the text and Markdown tables, checked against tables written out by hand, and no
Markdown table written by hand anywhere else in the package or the benchmark scripts."""

import re
from pathlib import Path

from edgemnist.common.render import markdown_table, text_table

ROOT = Path(__file__).resolve().parents[2]


def test_markdown_table_left_aligns_the_first_column_and_right_aligns_the_rest():
    table = markdown_table(["model", "p50 µs", "agree"], [["a.tflite", 12.5, None], ["b.onnx", 3, "99.00%"]])
    assert table == ("| model | p50 µs | agree |\n|---|---:|---:|\n| a.tflite | 12.5 | - |\n| b.onnx | 3 | 99.00% |")


def test_text_table_pads_each_column_to_its_widest_cell():
    assert text_table(["model", "n"], [["a", 1000], ["long name", 2]]).splitlines() == [
        "model         n",
        "---------  ----",
        "a          1000",
        "long name     2",
    ]


def test_no_markdown_table_is_written_by_hand_outside_render():
    separator = re.compile(r"""["']\|-{3}""")  # the start of a |---|---:| line inside a string
    hand_written = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("edgemnist/**/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")]
        if path.name != "render.py" and separator.search(path.read_text())
    ]
    assert hand_written == []
