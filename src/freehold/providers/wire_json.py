"""Reading JSON an upstream sent, failing as an upstream error when it is not an object or
nests deeper than freehold relays."""

from __future__ import annotations

from typing import Any

import orjson

from freehold.core.errors import UpstreamError
from freehold.core.nesting import nests_deeper

#: The deepest nesting accepted from an upstream. Answers nest a few levels; the serializer
#: that relays them to the client gives up a little past 250.
MAX_DEPTH = 64


def load_object(raw: bytes, upstream: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"upstream {upstream!r} sent a body that is not JSON") from None
    if not isinstance(data, dict):
        raise UpstreamError(f"upstream {upstream!r} sent JSON that is not an object")
    if nests_deeper(raw, data, MAX_DEPTH):
        raise UpstreamError(
            f"upstream {upstream!r} sent JSON nested deeper than {MAX_DEPTH} levels"
        )
    return data
