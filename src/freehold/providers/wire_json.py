"""Reading JSON an upstream sent, failing as an upstream error when it is not an object or
nests deeper than freehold relays."""

from __future__ import annotations

from typing import Any

import orjson

from freehold.core.errors import UpstreamError

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
    # Only a body with that many brackets can nest that deep: most never need the walk.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and too_deep(data, MAX_DEPTH):
        raise UpstreamError(
            f"upstream {upstream!r} sent JSON nested deeper than {MAX_DEPTH} levels"
        )
    return data


def too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            pending.extend(
                (child, depth + 1) for child in item.values() if isinstance(child, dict | list)
            )
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item if isinstance(child, dict | list))
    return False
