"""The plug-in registry: it finds its package's modules itself, and a failed discovery is not a finished one."""

import sys

import pytest

from edgemnist.common.registry import Registry

GOOD = """
from {package} import PLUGINS

@PLUGINS.register("good")
def good():
    return "good"

NAMES_WHILE_IMPORTED = PLUGINS.names()  # a module asking for the names during its own import
"""


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """A package ``plugins_<n>`` with a registry and three modules, in this order: a good one, one whose import
    fails and one that registers "later"."""
    package = f"plugins_{tmp_path.name.replace('-', '_')}"
    folder = tmp_path / package
    folder.mkdir()
    (folder / "__init__.py").write_text(
        "from edgemnist.common.registry import Registry\nPLUGINS = Registry('plug-in', package=__name__)\n"
    )
    (folder / "a_good.py").write_text(GOOD.format(package=package))
    (folder / "b_broken.py").write_text("raise ImportError('this plug-in needs a runtime that is not installed')\n")
    (folder / "c_later.py").write_text(f"from {package} import PLUGINS\nPLUGINS.register('later')(2)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package, folder
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


def test_a_failed_discovery_fails_again_on_the_next_call(plugins):
    package, _ = plugins
    registry = __import__(package).PLUGINS
    for _ in range(2):
        with pytest.raises(ImportError, match="needs a runtime"):
            registry.names()


def test_discovery_completes_once_the_broken_module_is_fixed(plugins):
    package, folder = plugins
    registry = __import__(package).PLUGINS
    with pytest.raises(ImportError):
        registry.get("good")
    (folder / "b_broken.py").write_text("")
    assert registry.names() == ["good", "later"] and registry.get("good")() == "good"
    assert sys.modules[f"{package}.a_good"].NAMES_WHILE_IMPORTED == ["good"]  # asked while imported: no recursion


def test_a_registry_without_a_package_holds_what_was_registered():
    registry: Registry = Registry("thing")
    registry.register("one")(1)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("one")(2)
    assert registry.names() == ["one"]
