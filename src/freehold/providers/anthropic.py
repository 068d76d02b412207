"""Anthropic's Messages API (``POST {base_url}/v1/messages``), spoken as OpenAI chat completions.

``base_url`` is the API root (``https://api.anthropic.com``); a root given with a trailing
``/v1`` works too. The translation lives in ``anthropic_wire``; this module does the I/O.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import aiohttp

from freehold.config.schema import ModelSettings
from freehold.core.errors import FreeholdError, UpstreamError, UpstreamRejected
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers import anthropic_wire as wire
from freehold.providers.http import ClientPool, Timeouts, post, read_body, sse_data
from freehold.providers.scrub import Scrubber

# Response headers worth relaying to the client with a refusal (when to try again).
_RELAYED_HEADERS = ("retry-after",)


class AnthropicProvider:
    def __init__(self, settings: ModelSettings, pool: ClientPool) -> None:
        self._settings = settings
        self._pool = pool
        root = settings.base_url.rstrip("/").removesuffix("/v1")
        self._url = root + "/v1/messages"
        self._upstream = settings.name
        self._timeouts = Timeouts(settings.connect_timeout_s, settings.timeout_s)
        self._headers = {
            "Content-Type": "application/json",
            "anthropic-version": wire.ANTHROPIC_VERSION,
            **settings.headers,
        }
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        if secret:
            self._headers["x-api-key"] = secret
        self._scrub = Scrubber([secret] if secret else [])

    def _session(self) -> aiohttp.ClientSession:
        return self._pool.session(self._settings.base_url, self._settings.max_connections)

    def _body(self, request: ChatRequest, *, stream: bool) -> bytes:
        model, default_max = self._settings.wire_model, self._settings.default_max_tokens
        return wire.request_body(request, model, default_max, stream=stream)

    @contextmanager
    def _scrubbed(self) -> Iterator[None]:
        """Whatever goes wrong, the API key never reaches an error message."""
        try:
            yield
        except FreeholdError as error:
            raise self._scrub.error(error) from None

    async def _refusal(self, response: aiohttp.ClientResponse) -> FreeholdError:
        raw = await read_body(response, self._upstream)
        error = wire.parse_error(response.status, raw, self._upstream)
        if isinstance(error, UpstreamRejected):
            for name in _RELAYED_HEADERS:
                if name in response.headers:
                    error.headers[name] = response.headers[name]
        return error

    async def complete(self, request: ChatRequest) -> ChatResult:
        body = self._body(request, stream=False)
        with self._scrubbed():
            async with post(
                self._session(),
                self._url,
                body,
                self._headers,
                self._timeouts,
                streaming=False,
                upstream=self._upstream,
            ) as response:
                if response.status >= 400:
                    raise await self._refusal(response)
                raw = await read_body(response, self._upstream)
            return wire.parse_message(raw, request, self._upstream)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        body = self._body(request, stream=True)
        translator = wire.StreamTranslator(request, self._upstream)
        with self._scrubbed():
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
                    raise await self._refusal(response)
                async for payload in sse_data(response, self._upstream):
                    for chunk in translator.feed(payload):
                        yield chunk
                    if translator.finished:
                        return
            raise UpstreamError(f"upstream {self._upstream!r} ended the stream before message_stop")

    async def aclose(self) -> None:
        return None
