"""The provider interface: one chat completion, whole or streamed.

A provider wraps one configured model. ``complete`` returns the OpenAI-format answer;
``stream`` yields OpenAI-format chunks as they arrive and must raise (a
``freehold.core.errors.FreeholdError``) *before its first chunk* when the upstream refuses
the request, so the gateway can still answer with the right HTTP status. Errors after the
first chunk end the stream. A provider whose own client already bounds a whole call by
the model's ``timeout_s`` says so with ``enforces_total_deadline = True`` (the HTTP providers:
aiohttp's total timeout); for the others (in-process models) the pipeline enforces it. Example::

    provider = registry.get("cloud-big")
    result = await provider.complete(request)      # ChatResult(body, usage)
    async for chunk in provider.stream(request):   # Chunk(data, usage)
        ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from freehold.core.types import ChatRequest, ChatResult, Chunk


class Provider(Protocol):
    async def complete(self, request: ChatRequest) -> ChatResult:
        """The whole answer."""

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """The answer chunk by chunk; the chunk carrying usage has ``usage`` set."""

    async def aclose(self) -> None:
        """Release what the provider holds (its HTTP client is shared and closed by the pool)."""
