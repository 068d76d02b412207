"""Reading a request body: media type, size and time limits, UTF-8, JSON and its nesting, then
the chat request schema."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request

from freehold.config.schema import ServerSettings
from freehold.core.errors import (
    ClientClosedRequest,
    FreeholdError,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from freehold.core.nesting import nests_deeper
from freehold.core.types import ChatRequest

#: The most problems one validation error lists (the rest are counted).
MAX_LISTED_PROBLEMS = 10
_SHOULD = "Input should be "
#: Where the HTTP layer leaves its refusal of a request whose body a route is reading.
REFUSAL_SCOPE_KEY = "freehold.refusal"


def require_json(request: Request) -> None:
    """A JSON body must say so: a form or plain-text POST is what a web page can make a
    browser send to a gateway on localhost without a CORS preflight (415)."""
    declared = request.headers.get("content-type", "")
    media = declared.partition(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        shown = media[:100] or "none"
        raise UnsupportedMediaType(f"Content-Type must be application/json (got {shown}).")


async def read_limited(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) anything larger than ``limit`` bytes without reading it
    all into memory first. A body that does not arrive in time is refused by freehold's HTTP
    protocol (``api.http_protocol``), which ends the body here with its refusal."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body is {declared} bytes; the limit is {limit} bytes.")
    parts: list[bytes] = []
    size = 0
    try:
        async for part in request.stream():
            size += len(part)
            if size > limit:
                raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
            parts.append(part)
    except ClientDisconnect:
        refusal = request.scope.get(REFUSAL_SCOPE_KEY)
        if isinstance(refusal, FreeholdError):  # the HTTP layer refused the rest of the body
            raise refusal from None
        raise ClientClosedRequest(
            f"The client went away while sending the request body ({size} bytes received)."
        ) from None
    return b"".join(parts)


async def read_body(request: Request, server: ServerSettings, limit: int | None = None) -> bytes:
    """The body of a JSON endpoint: declared as JSON, within the server's size (or ``limit``)
    and time bounds."""
    require_json(request)
    return await read_limited(request, limit or server.max_body_bytes)


async def read_json(request: Request, server: ServerSettings, limit: int | None = None) -> Any:
    """:func:`read_body`, parsed and checked by :func:`parse_json` and :func:`check_nesting`."""
    raw = await read_body(request, server, limit)
    data = parse_json(raw)
    check_nesting(raw, data, server.max_json_depth)
    return data


def parse_json(raw: bytes) -> Any:
    """The body as JSON; 400 for anything else."""
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


def check_nesting(raw: bytes, data: Any, max_depth: int) -> None:
    """400 for a body nesting objects and arrays deeper than ``max_depth``: no request needs
    it, and freehold could not write it back out (``core.nesting``)."""
    if nests_deeper(raw, data, max_depth):
        raise InvalidRequest(
            f"Request body nests objects and arrays more than {max_depth} levels deep."
        )


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
    """Every problem of the request, one sentence per parameter (the first
    :data:`MAX_LISTED_PROBLEMS`, then how many more); ``param`` names the first. A value
    that fits no member of a union gets one sentence naming what each member wanted."""
    found: dict[str, list[str]] = {}
    missing: set[str] = set()
    for error in exc.errors(include_url=False, include_input=False):
        param = _param(tuple(error["loc"]), data)
        if error["type"] == "missing":
            missing.add(param)
        reasons = found.setdefault(param, [])
        reason = error["msg"]
        if reasons and reason.startswith(_SHOULD) and reasons[0].startswith(_SHOULD):
            reason = reason.removeprefix(_SHOULD)  # "… a valid string or a valid list"
        if reason not in reasons:
            reasons.append(reason)
    sentences = [
        f"Missing required parameter: '{param}'."
        if param in missing
        else f"Invalid value for '{param}': {' or '.join(reasons)}."
        for param, reasons in list(found.items())[:MAX_LISTED_PROBLEMS]
    ]
    message = " ".join(sentences)
    more = len(found) - len(sentences)
    if more:
        message += f" ({more} more problem{'s' if more > 1 else ''} not listed.)"
    return InvalidRequest(message, param=next(iter(found)) or None)


def parse_chat_request(data: Any) -> ChatRequest:
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.")
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from None
