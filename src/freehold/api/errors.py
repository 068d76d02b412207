"""Rendering every error, once, as OpenAI-format JSON with its status."""

from __future__ import annotations

import logging

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from freehold.core.errors import FreeholdError, MethodNotAllowed, NotFound

log = logging.getLogger("freehold.api")


def error_response(error: FreeholdError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(error.to_dict()),
        status_code=error.status,
        media_type="application/json",
        headers={**error.headers, **(headers or {})},
    )


async def on_freehold_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FreeholdError)
    return error_response(exc)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(
            MethodNotAllowed(f"Method {request.method} is not allowed on {request.url.path}")
        )
    if exc.status_code == 404:
        return error_response(NotFound(f"No such endpoint: {request.method} {request.url.path}"))
    error = FreeholdError(str(exc.detail), code=None)
    error.status = exc.status_code
    return error_response(error)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(FreeholdError("freehold failed to handle the request"))
