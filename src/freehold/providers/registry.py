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

    def get(self, name: str) -> Provider | None:
        return self._providers.get(name)

    def settings(self, name: str) -> ModelSettings:
        return self._settings[name]

    @property
    def names(self) -> list[str]:
        return list(self._providers)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        await self._pool.aclose()
