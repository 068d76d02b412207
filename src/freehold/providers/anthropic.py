"""Anthropic's Messages API (``POST {base_url}/v1/messages``), spoken as OpenAI chat completions.

``base_url`` is the API root (``https://api.anthropic.com``); a root given with a trailing
``/v1`` works too. Translation lives in ``anthropic_request`` and ``anthropic_response``;
this module only wires it to the HTTP client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from freehold.config.schema import ModelSettings
from freehold.core.errors import UpstreamError
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers import anthropic_request, anthropic_response
from freehold.providers.http import ClientPool, Timeouts
from freehold.providers.scrub import credentials
from freehold.providers.upstream import Upstream


class AnthropicProvider:
    #: aiohttp bounds each call by the model\'s timeout_s (see providers.http).
    enforces_total_deadline = True

    def __init__(self, settings: ModelSettings, pool: ClientPool) -> None:
        self._model = settings.wire_model
        self._default_max_tokens = settings.default_max_tokens
        secret = settings.api_key.get_secret_value() if settings.api_key else None
        headers = {
            "Content-Type": "application/json",
            "anthropic-version": anthropic_request.ANTHROPIC_VERSION,
            **settings.headers,
        }
        if secret:
            headers["x-api-key"] = secret
        root = settings.endpoint.rstrip("/").removesuffix("/v1")
        self._upstream = Upstream(
            name=settings.name,
            url=root + "/v1/messages",
            headers=headers,
            secrets=credentials(settings),
            timeouts=Timeouts(
                connect_s=settings.connect_timeout_s,
                total_s=settings.timeout_s,
                read_s=settings.read_timeout_s,
            ),
            session=lambda: pool.session(settings.endpoint, settings.max_connections),
            parse_error=anthropic_response.parse_error,
        )

    def _body(self, request: ChatRequest, *, stream: bool) -> bytes:
        return anthropic_request.request_body(
            request, self._model, self._default_max_tokens, stream=stream
        )

    async def complete(self, request: ChatRequest) -> ChatResult:
        raw = await self._upstream.post(self._body(request, stream=False))
        with self._upstream.scrubbed():
            return anthropic_response.parse_message(raw, request, self._upstream.name)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        translator = anthropic_response.StreamTranslator(request, self._upstream.name)
        body = self._body(request, stream=True)
        with self._upstream.scrubbed():
            async with aclosing(self._upstream.stream(body)) as payloads:
                async for payload in payloads:
                    for chunk in translator.feed(payload):
                        yield chunk
                    if translator.finished:
                        return
            raise UpstreamError(
                f"upstream {self._upstream.name!r} ended the stream before it was complete "
                "(no message_stop)"
            )

    async def aclose(self) -> None:
        return None
