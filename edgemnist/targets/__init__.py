"""Where a worker can run: ``here``, a board over SSH (``user@host``), an emulated CPU (``qemu:cortex-a72``).

Each module registers one kind of target; ``resolve`` turns what the user gave to ``--on`` into a Target.
A new kind of target is one module in this package: it is found and imported here, no list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from ..common.registry import Registry

TARGETS: Registry = Registry("target")
# modules of this package that are not kinds of target
NOT_TARGETS = {"base", "cache", "counter", "machine", "rootfs", "worker"}


def load_kinds() -> None:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in NOT_TARGETS:
            importlib.import_module(f"{__name__}.{module.name}")


def resolve(spec: str, **options):
    """``here``, ``qemu:CPU`` or a board ``[user@]host[:port]``; ``options`` (remote_python, ssh_options) are for
    the kinds that take them. A bad name raises EdgemnistError (exit 2)."""
    load_kinds()
    kind = spec.split(":", 1)[0] if spec.split(":", 1)[0] in TARGETS.names() else "ssh"
    return TARGETS.get(kind).parse(spec, **options)
