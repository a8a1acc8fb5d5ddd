"""mkdocs hooks: the pages that come from code, made at build time so they cannot drift from it.

- ``reference/http-api.md`` from the OpenAPI document the app serves (``edgemnist.app.openapi``);
- ``reference/bench-json.md`` from the dataclasses of ``edgemnist.bench.schema``;
- ``benchmarks/RESULTS.md`` (and its plots) published as they are;
- on the CLI reference, the lines click prints verbatim (its ``\\b`` blocks: examples, flows) stay verbatim;
- ``<!-- results: KEY -->`` … ``<!-- results: end -->`` in any page is filled from benchmarks/RESULTS.md: KEY is a
  section's marker name (``serve-latency``: what its script wrote between ``<!-- serve-latency: begin …-->`` and
  ``<!-- serve-latency: end -->``) or a quoted heading (``"## TFLite Micro"``: the first table or fenced block
  under it).
  README.md holds the same markers with the tables written out; tests/test_docs.py checks them against RESULTS.md.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
INCLUDE = re.compile(r"^<!-- results: (?!end -->)([^\n]+?) -->\n(.*?)^<!-- results: end -->$", re.M | re.S)


# -- figures from benchmarks/RESULTS.md ---------------------------------------------------------------------------


def results_block(key: str, text: str | None = None) -> str:
    """The part of RESULTS.md that ``key`` names (a marker name, or a quoted heading: its first table)."""
    text = RESULTS.read_text() if text is None else text
    if key.startswith('"'):
        return first_table_under(key.strip('"'), text)
    begin = re.search(rf"^<!-- {re.escape(key)}: begin .*?-->\n", text, re.M)
    end = text.find(f"<!-- {key}: end -->")
    if not begin or end < begin.end():
        raise ValueError(f"benchmarks/RESULTS.md has no section marked {key!r}")
    return text[begin.end() : end].strip("\n")


def first_table_under(heading: str, text: str) -> str:
    """The first Markdown table or fenced block after ``heading``, before the next heading."""
    lines = text.splitlines()
    found = [i for i, line in enumerate(lines) if line.strip() == heading]
    if len(found) != 1:
        raise ValueError(f"benchmarks/RESULTS.md has {len(found)} headings {heading!r}; expected one")
    block: list[str] = []
    for line in lines[found[0] + 1 :]:
        fenced = bool(block) and block[0].startswith("```")
        if fenced:
            block.append(line)
            if line.startswith("```"):
                break
        elif line.startswith("|") or (not block and line.startswith("```")):
            block.append(line)
        elif block or line.startswith("#"):
            break
    if not block:
        raise ValueError(f"benchmarks/RESULTS.md has no table under {heading!r}")
    return "\n".join(block)


def included_blocks(markdown: str) -> list[tuple[str, str]]:
    """Each ``(key, text between the markers)`` in a page."""
    return [(match.group(1), match.group(2).strip("\n")) for match in INCLUDE.finditer(markdown)]


def fill_includes(markdown: str) -> str:
    results = RESULTS.read_text()

    def fill(match):
        key = match.group(1)
        return f"<!-- results: {key} -->\n\n{results_block(key, results)}\n\n<!-- results: end -->"

    return INCLUDE.sub(fill, markdown)


# -- the HTTP API from the OpenAPI document -----------------------------------------------------------------------


def http_api_page() -> str:
    from edgemnist.app.openapi import OPENAPI

    info = OPENAPI["info"]
    out = [
        "# HTTP API",
        "",
        f"{info['description']} Made from the OpenAPI {OPENAPI['openapi']} document that `edgemnist serve` serves at "
        "`/api/openapi.json` (`edgemnist/app/openapi.py`), when the site is built.",
        "",
    ]
    for path, methods in OPENAPI["paths"].items():
        for method, op in methods.items():
            out += [f"## `{method.upper()} {path}`", "", op["summary"] + ".", ""]
            if "description" in op:
                out += [op["description"], ""]
            if op.get("parameters"):
                out += ["| parameter | in | required | type | meaning |", "|---|---|---|---|---|"]
                for p in op["parameters"]:
                    kind = p["schema"].get("type", "")
                    out.append(
                        f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | {kind} | "
                        f"{p.get('description', '')} |"
                    )
                out.append("")
            if "requestBody" in op:
                out += ["Request body, one of:", ""]
                for media, body in op["requestBody"]["content"].items():
                    out.append(f"- `{media}`: {schema_text(body.get('schema', {}))}")
                out.append("")
            out += ["| status | meaning | body |", "|---|---|---|"]
            for status, response in op["responses"].items():
                body = ", ".join(
                    f"`{media}` {schema_text(c.get('schema', {}))}".rstrip()
                    for media, c in response.get("content", {}).items()
                )
                out.append(f"| {status} | {response['description']} | {body} |")
            out.append("")
    out += ["## Schemas", ""]
    for name, schema in OPENAPI["components"]["schemas"].items():
        out += [f"### {name}", "", "```json", json.dumps(schema, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(out)


def schema_text(schema: dict) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if schema.get("type") == "object":
        return "an object with " + ", ".join(f"`{k}`" for k in schema.get("properties", {}))
    return " ".join(str(schema.get(k, "")) for k in ("type", "format")).strip()


# -- the bench JSON from its dataclasses --------------------------------------------------------------------------

FIELD = re.compile(r"^\s+(\w+)\s*:\s*([^=#]+?)\s*(?:=\s*([^#]+?))?\s*(?:#\s*(.*))?$")


def dataclass_table(cls) -> list[str]:
    """One row per field, with its type, default and the comment beside it in the source."""
    notes = {}
    for line in inspect.getsource(cls).splitlines():
        match = FIELD.match(line)
        if match:
            notes[match.group(1)] = (match.group(2), match.group(3) or "", match.group(4) or "")
    rows = ["| field | type | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        kind, default, note = notes.get(f.name, (str(f.type), "", ""))
        default = "" if not default else f"`{default.strip()}`"
        rows.append(f"| `{f.name}` | `{kind.strip()}` | {default} | {note.replace('|', '/')} |")
    return rows


def bench_json_page() -> str:
    module = importlib.import_module("edgemnist.bench.schema")
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and dataclasses.is_dataclass(obj) and obj.__module__ == module.__name__
    ]
    out = [
        "# Bench JSON",
        "",
        f"What `edgemnist bench --json-file F` writes: a report whose `rows` are one per model (and board). Made "
        f"from the dataclasses of `{module.__name__}` when the site is built, so it lists what the code writes. "
        f"`schema_version` is {module.SCHEMA_VERSION}.",
        "",
        "Sizes are bytes, times seconds (`_s`) or microseconds (`_us`). `latency` maps each batch size (a string) "
        'to `{"predictor": stats, "<bare runtime call>": stats, …}`, where stats is `{runs, p50_us, p90_us, '
        "p99_us, mean_us, std_us, images_per_s}`; `machine` is the identity of the machine that ran the workers "
        "(cpu, arch, cores, isa, memory_bytes, os, python, versions), and `state` the board's clocks, "
        "temperatures, throttling flags and load average before and after the timed runs.",
        "",
    ]
    for cls in classes:
        doc = inspect.getdoc(cls) or ""
        if doc.startswith(f"{cls.__name__}("):  # the docstring dataclasses writes when a class has none
            doc = ""
        out += [f"## {cls.__name__}", "", doc, "", *dataclass_table(cls), ""]
    return "\n".join(out)


# -- the CLI reference: click's verbatim blocks --------------------------------------------------------------------

HELP_BLOCKS = "<!-- click help: indented lines are verbatim -->"


def verbatim_help_blocks(lines: list[str]) -> list[str]:
    """mkdocs-click drops click's ``\\b`` markers and leaves their indented lines to run together as one paragraph;
    on a page that asks for it, each run of indented lines outside a fence becomes a text block, as in --help."""
    if HELP_BLOCKS not in lines:
        return lines
    out: list[str] = []
    block: list[str] = []
    fenced = False
    for line in lines + [""]:
        if not fenced and line.startswith("  ") and line.strip():
            block.append(line)
            continue
        if block:
            out += ["", "```text", *block, "```", ""]
            block = []
        if line.startswith("```"):
            fenced = not fenced
        out.append(line)
    return out[:-1]


def help_blocks_extension():
    from markdown.extensions import Extension
    from markdown.preprocessors import Preprocessor

    class HelpBlocks(Preprocessor):
        def run(self, lines):
            return verbatim_help_blocks(lines)

    class HelpBlocksExtension(Extension):
        def extendMarkdown(self, md):
            md.preprocessors.register(HelpBlocks(md), "edgemnist_help_blocks", 140)  # right after mkdocs-click (141)

    return HelpBlocksExtension()


# -- mkdocs events ------------------------------------------------------------------------------------------------


def on_config(config):
    config.markdown_extensions.append(help_blocks_extension())
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    generated = {"reference/http-api.md": http_api_page(), "reference/bench-json.md": bench_json_page()}
    generated["benchmarks/RESULTS.md"] = RESULTS.read_text()
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    for plot in sorted(RESULTS.parent.glob("*.png")):
        files.append(File.generated(config, f"benchmarks/{plot.name}", abs_src_path=str(plot)))
    return files


def on_page_markdown(markdown, page, config, files):
    return fill_includes(markdown)
