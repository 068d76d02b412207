"""One upstream endpoint as the providers use it: POST a body, get the whole answer or its SSE
payloads. Refusals are parsed by the wire format's own parser, keep the upstream's
``Retry-After``, and every error is scrubbed of the upstream's credentials. A stream request
answered with anything but ``text/event-stream`` fails before its first payload."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

import aiohttp

from freehold.core.errors import FreeholdError, UpstreamError, UpstreamRejected
from freehold.providers.http import Timeouts, post, read_body, sse_data
from freehold.providers.scrub import Scrubber

ErrorParser = Callable[[int, bytes, str], FreeholdError]

#: Response headers relayed to the client with a refusal (when to try again).
RELAYED_HEADERS = ("retry-after",)
#: The most of a refusal's body that is read (its message is all that is used).
MAX_REFUSAL_BYTES = 2**20


class Upstream:
    def __init__(
        self,
        *,
        name: str,
        url: str,
        headers: Mapping[str, str],
        secrets: Iterable[str],
        timeouts: Timeouts,
        session: Callable[[], aiohttp.ClientSession],
        parse_error: ErrorParser,
    ) -> None:
        self.name = name
        self._url = url
        self._headers = dict(headers)
        self._timeouts = timeouts
        self._session = session
        self._parse_error = parse_error
        self._scrub = Scrubber(secrets)

    @contextmanager
    def scrubbed(self) -> Iterator[None]:
        """Errors raised inside leave with the upstream's credentials masked (for the
        provider's own parsing of what the upstream sent)."""
        try:
            yield
        except FreeholdError as error:
            raise self._scrub.error(error) from None

    async def _refusal(self, response: aiohttp.ClientResponse) -> FreeholdError:
        raw = await read_body(response, self.name, MAX_REFUSAL_BYTES)
        error = self._parse_error(response.status, raw, self.name)
        if isinstance(error, UpstreamRejected):
            for header in RELAYED_HEADERS:
                if header in response.headers:
                    error.headers[header] = response.headers[header][:64]
        return error

    async def post(self, body: bytes) -> bytes:
        """The whole answer's body; a status ≥ 300 raises the parsed refusal (4xx) or failure."""
        with self.scrubbed():
            async with post(
                self._session(), self._url, body, self._headers, self._timeouts,
                streaming=False, upstream=self.name,
            ) as response:  # fmt: skip
                if response.status >= 300:
                    raise await self._refusal(response)
                return await read_body(response, self.name)

    async def stream(self, body: bytes) -> AsyncGenerator[bytes, None]:
        """The SSE data payloads as they arrive; a refusal raises before the first one."""
        with self.scrubbed():
            async with post(
                self._session(), self._url, body, self._headers, self._timeouts,
                streaming=True, upstream=self.name,
            ) as response:  # fmt: skip
                if response.status >= 300:
                    raise await self._refusal(response)
                if response.content_type != "text/event-stream":
                    kind = response.headers.get("content-type", "no content type")[:100]
                    raise UpstreamError(
                        f"upstream {self.name!r} answered a stream request with {kind!r}, "
                        "not text/event-stream"
                    )
                async for payload in sse_data(response, self.name):
                    yield payload
