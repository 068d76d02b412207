"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server, Groq, …).
Translation lives in ``openai_wire``; this module only wires it to the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from freehold.config.schema import ModelSettings
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers import openai_wire as wire
from freehold.providers.http import ClientPool, Timeouts
from freehold.providers.scrub import credentials
from freehold.providers.upstream import Upstream


class OpenAICompatProvider:
    #: aiohttp bounds each call by the model\'s timeout_s (see providers.http).
    enforces_total_deadline = True

    def __init__(self, settings: ModelSettings, pool: ClientPool) -> None:
        self._model = settings.wire_model
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        headers = {"Content-Type": "application/json", **settings.headers}
        if secret:
            headers["Authorization"] = f"Bearer {secret}"
        self._upstream = Upstream(
            name=settings.name,
            url=settings.endpoint.rstrip("/") + "/chat/completions",
            headers=headers,
            secrets=credentials(settings),
            timeouts=Timeouts(
                connect_s=settings.connect_timeout_s,
                total_s=settings.timeout_s,
                read_s=settings.read_timeout_s,
            ),
            session=lambda: pool.session(settings.endpoint, settings.max_connections),
            parse_error=wire.parse_error,
        )

    async def complete(self, request: ChatRequest) -> ChatResult:
        raw = await self._upstream.post(wire.request_body(request, self._model, stream=False))
        with self._upstream.scrubbed():
            return wire.parse_completion(raw, request, self._upstream.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        body = wire.request_body(request, self._model, stream=True)
        reader = wire.StreamReader(self._upstream.name)
        with self._upstream.scrubbed():
            async with aclosing(self._upstream.stream(body)) as payloads:
                async for payload in payloads:
                    chunk = reader.feed(payload)
                    if reader.done:
                        return
                    if chunk is not None:
                        yield chunk
            reader.end()

    async def aclose(self) -> None:
        return None
