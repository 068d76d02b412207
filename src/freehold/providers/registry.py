"""Configured model name → Provider, built once at start from the settings."""

from __future__ import annotations

from collections.abc import Iterable

from freehold.config.schema import ModelSettings
from freehold.core.importer import import_string
from freehold.providers.base import Provider
from freehold.providers.http import ClientPool

#: backend name → (import string of its Provider class, extra that provides its dependencies)
BACKENDS: dict[str, tuple[str, str | None]] = {
    "openai": ("freehold.providers.openai_compat:OpenAICompatProvider", None),
    "anthropic": ("freehold.providers.anthropic:AnthropicProvider", None),
    "llamacpp": ("freehold.providers.llamacpp:LlamaCppProvider", "local"),
}


def by_folded_case(names: Iterable[str]) -> dict[str, list[str]]:
    """``names`` grouped by their case-folded form, for :func:`canonical_name`."""
    index: dict[str, list[str]] = {}
    for name in names:
        index.setdefault(name.casefold(), []).append(name)
    return index


def canonical_name(name: str, index: dict[str, list[str]]) -> str | None:
    """The name ``name`` refers to among those indexed by :func:`by_folded_case`: itself
    when it is one of them exactly, else the only one equal to it ignoring case, else None
    (unknown, or ambiguous: two names differing only in case match exactly or not at all)."""
    candidates = index.get(name.casefold(), [])
    if name in candidates:
        return name
    return candidates[0] if len(candidates) == 1 else None


class ProviderRegistry:
    def __init__(self, models: Iterable[ModelSettings], pool: ClientPool | None = None) -> None:
        self._pool = pool or ClientPool()
        self._providers: dict[str, Provider] = {}
        self._settings: dict[str, ModelSettings] = {}
        for settings in models:
            target, extra = BACKENDS[settings.backend]
            factory = import_string(target, extra)
            self._providers[settings.name] = factory(settings, self._pool)
            self._settings[settings.name] = settings
        self._folded = by_folded_case(self._providers)

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def canonical(self, name: str) -> str | None:
        """The configured model a client's ``model`` means: the exact name, else the only
        configured name equal to it ignoring case, else None (see :func:`canonical_name`)."""
        return canonical_name(name, self._folded)

    def settings(self, name: str) -> ModelSettings:
        return self._settings[name]

    @property
    def names(self) -> list[str]:
        return list(self._providers)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        await self._pool.aclose()
