"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server, Groq, …)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from freehold.config.schema import ModelSettings
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers import openai_wire as wire
from freehold.providers.http import ClientPool, Timeouts, post, read_body, sse_data
from freehold.providers.scrub import Scrubber


class OpenAICompatProvider:
    def __init__(self, settings: ModelSettings, pool: ClientPool) -> None:
        self._settings = settings
        self._pool = pool
        self._url = settings.base_url.rstrip("/") + "/chat/completions"
        self._upstream = settings.name
        self._timeouts = Timeouts(settings.connect_timeout_s, settings.timeout_s)
        self._headers = {"Content-Type": "application/json", **settings.headers}
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        if secret:
            self._headers["Authorization"] = f"Bearer {secret}"
        self._scrub = Scrubber([secret] if secret else [])

    def _session(self) -> aiohttp.ClientSession:
        return self._pool.session(self._settings.base_url, self._settings.max_connections)

    async def complete(self, request: ChatRequest) -> ChatResult:
        body = wire.request_body(request, self._settings.wire_model, stream=False)
        async with post(
            self._session(),
            self._url,
            body,
            self._headers,
            self._timeouts,
            streaming=False,
            upstream=self._upstream,
        ) as response:
            raw = await read_body(response, self._upstream)
            if response.status >= 400:
                raise self._scrub.error(wire.parse_error(response.status, raw, self._upstream))
        return wire.parse_completion(raw, request, self._upstream)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        body = wire.request_body(request, self._settings.wire_model, stream=True)
        async with post(
            self._session(),
            self._url,
            body,
            self._headers,
            self._timeouts,
            streaming=True,
            upstream=self._upstream,
        ) as response:
            if response.status >= 400:
                raw = await read_body(response, self._upstream)
                raise self._scrub.error(wire.parse_error(response.status, raw, self._upstream))
            async for payload in sse_data(response, self._upstream):
                chunk = wire.parse_chunk(payload, self._upstream)
                if chunk is None:
                    return
                yield chunk

    async def aclose(self) -> None:
        return None
