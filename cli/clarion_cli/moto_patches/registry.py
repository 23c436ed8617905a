"""The registry of moto patches: each is registered with a name, the moto version it was written
for, the attributes of moto it replaces and, where it deliberately answers otherwise than moto,
what it fixes. `install` applies patches only to the moto they were written for: any other moto
runs unpatched, said in one line on stderr."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

MOTO_PIN = "5.2.5"  # pyproject.toml's moto[server] pin, which every patch was written for

SetAttr = Callable[[Any, str, Any], None]  # setattr, or pytest's monkeypatch.setattr
_MISSING = object()


@dataclass(frozen=True)
class MotoPatch:
    name: str
    written_for: str  # the moto version whose code it replaces
    replaces: tuple[str, ...]  # dotted paths of the moto attributes it sets
    apply: Callable[[SetAttr], None]
    fixes: str | None = None  # where it answers otherwise than moto, on purpose: the bug or race

    @property
    def summary(self) -> str:
        return (self.apply.__doc__ or "").strip()


REGISTRY: dict[str, MotoPatch] = {}


def register(
    name: str, *, replaces: tuple[str, ...], written_for: str = MOTO_PIN, fixes: str | None = None
) -> Callable[[Callable[[SetAttr], None]], Callable[[SetAttr], None]]:
    def add(apply: Callable[[SetAttr], None]) -> Callable[[SetAttr], None]:
        assert name not in REGISTRY, f"two moto patches named {name}"
        REGISTRY[name] = MotoPatch(name, written_for, replaces, apply, fixes)
        return apply

    return add


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def resolve(path: str) -> Any:
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(path)


class _Recorded:
    """setattr that remembers what it replaced, to put it back."""

    def __init__(self) -> None:
        self.saved: list[tuple[Any, str, Any]] = []

    def __call__(self, target: Any, name: str, value: Any) -> None:
        self.saved.append((target, name, vars(target).get(name, _MISSING)))
        setattr(target, name, value)

    def undo(self) -> None:
        for target, name, value in reversed(self.saved):
            if value is _MISSING:
                delattr(target, name)
            else:
                setattr(target, name, value)


_installed: dict[str, _Recorded] = {}


def install(names: Iterable[str], setattr: SetAttr | None = None) -> list[str]:
    """Apply the named patches (once each in this process, or through `setattr`, which then owns
    undoing them). Returns the names applied: none for a moto they were not written for."""
    patches = [REGISTRY[name] for name in names]
    version = installed_moto_version()
    unfit = [patch.name for patch in patches if patch.written_for != version]
    if unfit:
        print(
            f"clarion: moto {version} is not the {MOTO_PIN} its patches were written for: "
            f"running moto unpatched (left off: {', '.join(unfit)})",
            file=sys.stderr,
        )
        return []
    applied = []
    for patch in patches:
        if setattr is not None:
            patch.apply(setattr)
        elif patch.name not in _installed:
            recorded = _installed[patch.name] = _Recorded()
            patch.apply(recorded)
        else:
            continue
        applied.append(patch.name)
    return applied


def uninstall(names: Iterable[str]) -> None:
    """Take off patches `install` applied without a `setattr` of the caller's."""
    for name in names:
        recorded = _installed.pop(name, None)
        if recorded is not None:
            recorded.undo()
