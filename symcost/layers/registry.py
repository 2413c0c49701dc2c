"""The registry of layer kinds: one name per class, looked up forgivingly.

Names match case-insensitively with underscores ignored, so ``Conv2d``,
``conv2d`` and ``conv_2d`` are the same kind::

    >>> layer_class("conv_2d").__name__
    'Conv2d'
"""

from __future__ import annotations

from typing import TypeVar

from ..core.errors import RegistryError, UnknownLayerError, did_you_mean

T = TypeVar("T", bound=type)
_KINDS: dict[str, type] = {}


def normalize(name: str) -> str:
    return name.replace("_", "").lower()


def register(cls: T) -> T:
    """Class decorator: register ``cls`` under its class name. Duplicates are refused."""
    key = normalize(cls.__name__)
    if key in _KINDS and _KINDS[key] is not cls:
        raise RegistryError(f"layer kind {cls.__name__!r} is already registered by {_KINDS[key].__module__}")
    _KINDS[key] = cls
    return cls


def layer_class(name: str) -> type:
    """The layer class registered under ``name``; the error lists every known kind."""
    try:
        return _KINDS[normalize(name)]
    except (KeyError, AttributeError):
        hint = did_you_mean(name, kinds()) if isinstance(name, str) else ""
        raise UnknownLayerError(f"unknown layer kind {name!r}; {hint}known kinds: {', '.join(kinds())}") from None


def kinds() -> list[str]:
    """Names of all registered layer kinds, sorted."""
    return sorted(cls.__name__ for cls in _KINDS.values())
