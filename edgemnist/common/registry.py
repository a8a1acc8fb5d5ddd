"""A tiny named registry: the plug-in point for architectures, export formats, inspectors and runtime backends.

A registry given its ``package`` finds the plug-ins itself: the first time it is asked what it holds, it
imports every module of that package (``pkgutil``), and each module registers what it defines. Adding a
backend, format or inspector is adding one module; no list of imports names them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import EdgemnistError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, package: str | None = None):
        self.kind = kind
        self.package = package  # the package whose modules register into this registry
        self._items: dict[str, T] = {}
        self._discovered = False  # every module of the package imported without error
        self._discovering = False  # importing them now: a module asking for the names gets those so far

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@REGISTRY.register("onnx")``; a duplicate name is a programming error."""

        def add(item: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = item
            return item

        return add

    def get(self, name: str) -> T:
        try:
            return self._all()[name]
        except KeyError:
            raise EdgemnistError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return list(self._all())

    def items(self):
        return self._all().items()

    def _all(self) -> dict[str, T]:
        """Everything registered, after importing the package's modules; a module that failed to import is
        imported again on the next call (and fails again) rather than leaving the registry silently partial."""
        if self.package and not self._discovered and not self._discovering:
            self._discovering = True
            try:
                import_submodules(self.package)
                self._discovered = True
            finally:
                self._discovering = False
        return self._items


def import_submodules(package: str) -> None:
    """Import every module of ``package`` (not its sub-packages' modules): each registers what it defines.
    Module top levels stay light (heavy runtimes are imported inside functions), so this is cheap."""
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")
