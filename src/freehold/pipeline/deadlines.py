"""Deadlines of one attempt, the same for every provider (remote or in-process).

- ``timeout_s``: the whole attempt, a whole answer or a whole stream, must end within it;
- ``first_byte_timeout_s``: a stream's first chunk must arrive within it.

The silence between two reads of a remote stream (``read_timeout_s``) and the connect timeout
are the HTTP client's. So is the total of a remote call (``enforces_total_deadline``), which
saves a timer per call; in-process providers get an asyncio timeout. A stream's chunks are
checked against the total deadline as they arrive (a comparison, not a timer per chunk), so a
stream that trickles is cut there. A cut call is closed at once, which stops an in-process
generation at its next token and closes an upstream connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from freehold.config.schema import ModelSettings
from freehold.core.errors import UpstreamTimeout
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers.base import Provider

log = logging.getLogger("freehold.gateway")


async def complete(provider: Provider, request: ChatRequest, model: ModelSettings) -> ChatResult:
    """The whole answer, or 504 when it takes longer than the model's ``timeout_s``."""
    if getattr(provider, "enforces_total_deadline", False):
        return await provider.complete(request)
    try:
        async with asyncio.timeout(model.timeout_s):
            return await provider.complete(request)
    except TimeoutError:
        raise UpstreamTimeout(
            f"upstream {model.name!r} did not answer within {model.timeout_s:g} s (timeout_s)"
        ) from None


async def stream(
    provider: Provider, request: ChatRequest, model: ModelSettings
) -> AsyncIterator[Chunk]:
    """The provider's stream under the attempt's deadlines: 504 when the first chunk takes
    longer than ``first_byte_timeout_s`` or the stream longer than ``timeout_s``."""
    upstream = aiter(provider.stream(request))
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + model.timeout_s
    first = min(deadline, started + model.first_byte_timeout_s)
    try:
        try:
            async with asyncio.timeout_at(first):
                chunk = await anext(upstream, None)
        except TimeoutError:
            raise _timeout(model, first=first < deadline) from None
        while chunk is not None:
            yield chunk
            chunk = await anext(upstream, None)
            if chunk is not None and loop.time() > deadline:
                raise _timeout(model, first=False)
    finally:
        await close(upstream)


def _timeout(model: ModelSettings, *, first: bool) -> UpstreamTimeout:
    if first:
        return UpstreamTimeout(
            f"upstream {model.name!r} sent no first chunk within "
            f"{model.first_byte_timeout_s:g} s (first_byte_timeout_s)"
        )
    return UpstreamTimeout(
        f"upstream {model.name!r} did not finish the stream within {model.timeout_s:g} s "
        "(timeout_s)"
    )


async def close(upstream: AsyncIterator[Chunk]) -> None:
    """Close a provider's stream (its connection or its generation), whatever state it is in."""
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # closing a broken upstream must not mask the error
            log.debug("closing the upstream stream failed", exc_info=True)
