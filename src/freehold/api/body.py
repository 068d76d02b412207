"""Reading a request body: size limit, UTF-8, JSON, then the chat request schema."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import Request

from freehold.core.errors import InvalidRequest, PayloadTooLarge
from freehold.core.types import ChatRequest


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything larger than ``limit`` bytes without reading it
    all into memory first."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is {declared} bytes; the limit is {limit} bytes.")
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        parts.append(part)
    return b"".join(parts)


def parse_json(raw: bytes) -> Any:
    if not raw:
        raise InvalidRequest("Request body is empty; expected a JSON object.")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"Request body is not valid UTF-8 (invalid byte at offset {exc.start})."
        ) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(
            f"Request body is not valid JSON: {exc.msg} (at char {exc.pos})."
        ) from None


def _param(loc: tuple[int | str, ...], data: Any) -> str:
    """The parameter's path as the client wrote it: ``messages[0].content``. Parts of the
    location that are not in the data (pydantic's names of union members) are left out."""
    out, node = "", data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            out, node = out + f"[{part}]", node[part]
        elif isinstance(part, str) and isinstance(node, dict):
            out, node = (f"{out}.{part}" if out else part), node.get(part)
    return out


def validation_error(exc: ValidationError, data: Any) -> InvalidRequest:
    first = exc.errors()[0]
    param = _param(tuple(first["loc"]), data)
    if first["type"] == "missing":
        message = f"Missing required parameter: '{param}'."
    else:
        message = f"Invalid value for '{param}': {first['msg']}."
    more = len(exc.errors()) - 1
    if more:
        message += f" ({more} more problem{'s' if more > 1 else ''} in the request.)"
    return InvalidRequest(message, param=param or None)


def parse_chat_request(data: Any) -> ChatRequest:
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.")
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from None
