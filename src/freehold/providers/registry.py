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
        self._deployments: dict[str, list[tuple[str, ModelSettings, Provider]]] = {}
        self._settings: dict[str, ModelSettings] = {}
        for settings in models:
            target, extra = BACKENDS[settings.backend]
            factory = import_string(target, extra)
            self._deployments[settings.name] = [
                (name, deployed, factory(deployed, self._pool))
                for name, deployed in settings.deployment_settings()
            ]
            self._settings[settings.name] = settings

    def get(self, name: str) -> Provider | None:
        """The provider of a model's first deployment."""
        deployments = self._deployments.get(name)
        return deployments[0][2] if deployments else None

    def deployments(self, name: str) -> list[tuple[str, ModelSettings, Provider]]:
        """``(name, settings, provider)`` of each deployment of a model, in config order."""
        return list(self._deployments[name])

    def settings(self, name: str) -> ModelSettings:
        return self._settings[name]

    @property
    def names(self) -> list[str]:
        return list(self._deployments)

    async def aclose(self) -> None:
        for deployments in self._deployments.values():
            for _, _, provider in deployments:
                await provider.aclose()
        await self._pool.aclose()
