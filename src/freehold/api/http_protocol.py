"""The HTTP/1.1 connection as freehold runs it: uvicorn's httptools protocol with the limits
that uvicorn leaves out, and its own refusals in the OpenAI error format.

- **Header time**: a connection must deliver a request's line and headers within
  ``server.header_timeout_s`` of opening (or of the request's first byte), else 408 and close
  (a slow-headers client holds no connection for long). Idle keep-alive connections are
  closed by uvicorn's own keep-alive timeout.
- **Header size**: more than :data:`MAX_HEADER_BYTES` before the headers end gets 431.
- **Malformed HTTP** (bad header bytes, a bad chunk size, ``Content-Length`` with
  ``Transfer-Encoding``): uvicorn answers 400 from the parser; here the body is OpenAI error
  JSON instead of plain text.
Each refusal is reported through ``on_refused`` (the gateway records a ledger row and logs
one line). The request body's own time limit is the route's (``server.body_timeout_s``).

uvicorn's httptools parser (``uvicorn[standard]``) is required; its h11 protocol is not used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from freehold.api.body import REFUSAL_SCOPE_KEY
from freehold.core.errors import FreeholdError, InvalidRequest, RequestTimeout

#: The most bytes a request line and its headers may take (nginx allows 4 × 8 KB by default).
MAX_HEADER_BYTES = 64 * 1024

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class HeadersTooLarge(InvalidRequest):
    kind = "request_headers_too_large"
    status = 431
    code = "request_headers_too_large"


class MalformedHttp(InvalidRequest):
    kind = "bad_http_request"
    code = "bad_http_request"


def refusal_bytes(error: FreeholdError) -> bytes:
    """A whole HTTP/1.1 response carrying ``error`` as OpenAI error JSON; the connection
    closes after it."""
    body = orjson.dumps(error.to_dict())
    head = b"HTTP/1.1 %d %s\r\n" % (error.status, _REASONS.get(error.status, b"Error"))
    return (
        head
        + (
            b"content-type: application/json\r\n"
            b"content-length: %d\r\n"
            b"connection: close\r\n\r\n" % len(body)
        )
        + body
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the header time and size limits and JSON refusals;
    :func:`protocol_class` binds the settings."""

    header_timeout_s: float = 10.0
    on_refused: Callable[[FreeholdError], None] = staticmethod(lambda error: None)
    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _in_headers = False

    def _await_headers(self) -> None:
        self._in_headers = True
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _headers_done(self) -> None:
        self._in_headers = False
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, error: FreeholdError) -> None:
        self._headers_done()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:  # never interleave with a response being sent
                self.transport.close()
                return
            # The route is reading this request's body: it reports the error (and records
            # the row) when it sees the connection end.
            cycle.scope[REFUSAL_SCOPE_KEY] = error  # type: ignore[literal-required]
            cycle.disconnected = True
            cycle.message_event.set()
        else:
            self.on_refused(error)
        self.transport.write(refusal_bytes(error))
        self.transport.close()

    def _headers_late(self) -> None:
        self._header_timer = None
        self._refuse(
            RequestTimeout(
                f"The request headers did not arrive within {self.header_timeout_s:g} s."
            )
        )

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._header_bytes = 0
        self._await_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's bytes count from here; its timer starts with its first byte.
        self._in_headers, self._header_bytes = True, 0

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_headers and not self.transport.is_closing():
            # still short of a request's headers' end: all of this chunk was headers
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                limit = MAX_HEADER_BYTES
                self._refuse(HeadersTooLarge(f"The request line and headers exceed {limit} bytes."))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()

    def on_headers_complete(self) -> None:
        self._headers_done()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        self._refuse(MalformedHttp(f"Malformed HTTP request: {msg}"))


def protocol_class(
    header_timeout_s: float, on_refused: Callable[[FreeholdError], None]
) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=`` with these settings."""
    return type(
        "FreeholdHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {"header_timeout_s": header_timeout_s, "on_refused": staticmethod(on_refused)},
    )
