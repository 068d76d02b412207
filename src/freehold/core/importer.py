"""Lazy imports by name, so optional extras load only when configured."""

from __future__ import annotations

import importlib
from typing import Any


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says how to install it."""


def import_string(target: str, extra: str | None = None) -> Any:
    """Import ``"package.module:attribute"``; a missing dependency names the extra to install."""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if extra is None or exc.name == module_name:
            raise
        raise MissingExtra(
            f"{target} needs the optional dependency {exc.name!r}: pip install 'freehold[{extra}]'"
        ) from None
    return getattr(module, attribute)
