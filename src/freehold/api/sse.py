"""Server-sent events in the OpenAI streaming format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson

from freehold.core.errors import FreeholdError

DONE = b"data: [DONE]\n\n"


def event(data: Any) -> bytes:
    return b"data: " + orjson.dumps(data) + b"\n\n"


async def encode(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Each chunk as one event, ``[DONE]`` at the end; a failure mid-stream becomes an
    ``{"error": …}`` event and ends the stream (as OpenAI does)."""
    try:
        async for chunk in chunks:
            yield event(chunk)
    except FreeholdError as error:
        yield event(error.to_dict())
        return
    yield DONE
