"""Lazy imports by name, so optional extras load only when configured."""

from __future__ import annotations

import importlib
from typing import Any

#: Every optional extra, with the libraries it installs (by their import names). ``all`` in
#: pyproject.toml is their union; tests block these imports to prove the bare install runs.
EXTRAS: dict[str, tuple[str, ...]] = {
    "local": ("llama_cpp", "gguf", "numpy"),
    "ner": ("spacy",),
    "perimeter": ("phonenumbers", "ahocorasick"),
    "postgres": ("psycopg",),
    "redis": ("redis",),
    "routing": ("numpy", "tokenizers", "safetensors", "matplotlib"),
}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says how to install it.

    ``name`` is the missing module, ``extra`` the extra that installs it (when known)."""

    def __init__(self, message: str, *, name: str | None = None, extra: str | None = None):
        super().__init__(message, name=name)
        self.extra = extra

    def needs(self, what: str) -> str:
        """One line: ``WHAT needs the 'EXTRA' extra (LIBRARY is not installed): pip install
        'freehold[EXTRA]'`` (the message as it is when the extra is not known)."""
        if self.extra is None:
            return f"{what}: {self}"
        missing = f" ({self.name} is not installed)" if self.name else ""
        return f"{what} needs the {self.extra!r} extra{missing}: {install_hint(self.extra)}"


def install_hint(extra: str) -> str:
    """The command that installs ``extra``."""
    return f"pip install 'freehold[{extra}]'"


def import_string(target: str, extra: str | None = None) -> Any:
    """Import ``"package.module:attribute"``; a missing dependency names the extra to install.

    Without ``extra``, or when the missing module is one of freehold's own (a bug, not an
    extra), the :class:`ImportError` is raised as it is."""
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = _missing_module(exc)
        if extra is None or (missing or "").partition(".")[0] == "freehold":
            raise
        needs = f"the optional dependency {missing!r}" if missing else f"an extra ({exc})"
        raise MissingExtra(
            f"{target} needs {needs}: {install_hint(extra)}", name=missing, extra=extra
        ) from None
    return getattr(module, attribute)


def _missing_module(exc: ImportError) -> str | None:
    """The module that was not found: the error's own, else (for a module that re-raised
    with its own message) that of the error it was raised from."""
    if exc.name is not None:
        return exc.name
    cause = exc.__cause__
    return cause.name if isinstance(cause, ImportError) else None
