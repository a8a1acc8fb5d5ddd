"""The package's arrows point down: no import circles, and no module imports from a stage above its own.

Imports are read with ``ast`` from the source (including those inside functions, which run later but still
tie two modules together), so the check needs no runtime and cannot be fooled by lazy imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "edgemnist"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
# Lowest first. A module belongs to the layer of its longest listed prefix; an unlisted one is a stage.
LAYERS = {
    "edgemnist.common": 0,  # errors, files, deps, registry, progress, render: import no other part
    "edgemnist.contract": 1,  # the arithmetic and readers every stage shares
    "edgemnist.metadata": 1,
    "edgemnist.data": 1,
    "edgemnist.tflite_graph": 1,
    "edgemnist.pretrained": 1,  # where the shipped models are: predict's default model
    "edgemnist.predict": 2,  # runtimes behind one Predictor
    "edgemnist.mcu": 2,  # the int8 → C compiler; predict's mcu-c backend builds with it
    # 3: the stages (models, train, export, inspect, bench, app, explain, ...)
    "edgemnist.cli": 4,  # the user's side: it may import anything, nothing imports it
}
STAGE = 3
TOP = 4  # the package's own __init__ (load, __version__) reaches into predict: a stage must not import it


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> int:
    if module == PACKAGE:
        return TOP
    for prefix in sorted(LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return LAYERS[prefix]
    return STAGE


def imported_modules(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, anywhere in its source."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import keras`: a submodule
    return {name for name in found if name in MODULES and name != module}


def import_graph() -> dict[str, set[str]]:
    """Edges of the package's import graph; importing a.b.c also runs a.b's __init__ (unless the importer
    lives in a.b already, where that has run before it)."""
    graph = {}
    for module in MODULES:
        targets = set()
        for target in imported_modules(module):
            parts = target.split(".")
            targets.add(target)
            for depth in range(2, len(parts)):
                ancestor = ".".join(parts[:depth])
                if ancestor in MODULES and not module.startswith(ancestor + "."):
                    targets.add(ancestor)
        graph[module] = targets - {module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a circle of imports."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )


def test_the_package_has_no_import_circle():
    assert circles(import_graph()) == []


def test_no_module_imports_from_a_layer_above_its_own():
    assert upward_imports(import_graph()) == []


# -- the checker itself can fail ----------------------------------------------------------------------
def test_a_circle_is_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .base import Predictor", {"edgemnist.predict.base"}),
        ("from . import litert", {"edgemnist.predict", "edgemnist.predict.litert"}),
        ("def f():\n    from ..inspect.micro import align", {"edgemnist.inspect.micro"}),
        ("import edgemnist.contract", {"edgemnist.contract"}),
        ("from .. import contract", {"edgemnist", "edgemnist.contract"}),
    ],
)
def test_imports_are_resolved_inside_functions_and_relative_to_the_package(tmp_path, monkeypatch, source, expected):
    monkeypatch.setitem(MODULES, "edgemnist.predict._layering_probe", tmp_path / "probe.py")
    (tmp_path / "probe.py").write_text(source)
    assert imported_modules("edgemnist.predict._layering_probe") == expected


def test_an_upward_import_is_reported():
    graph = {"edgemnist.contract": {"edgemnist.predict.base"}, "edgemnist.predict.base": set()}
    assert upward_imports(graph) == ["edgemnist.contract (layer 1) imports edgemnist.predict.base (layer 2)"]
