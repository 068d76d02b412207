"""Reading JSON an upstream sent, failing as an upstream error when it is not an object."""

from __future__ import annotations

from typing import Any

import orjson

from freehold.core.errors import UpstreamError


def load_object(raw: bytes, upstream: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"upstream {upstream!r} sent a body that is not JSON") from None
    if not isinstance(data, dict):
        raise UpstreamError(f"upstream {upstream!r} sent JSON that is not an object")
    return data
