"""A tiny named registry: the plug-in point for architectures, export formats and runtime backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from .errors import EdgemnistError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

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
            return self._items[name]
        except KeyError:
            raise EdgemnistError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return list(self._items)

    def items(self):
        return self._items.items()
