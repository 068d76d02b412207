"""The HTTP/1.1 connection as freehold runs it: uvicorn's httptools protocol with the limits
that uvicorn leaves out, and its own refusals in the OpenAI error format.

- **Header time**: a connection must deliver a request's line and headers within
  ``server.header_timeout_s`` of opening (or of the request's first byte), else 408 and close
  (a slow-headers client holds no connection for long); a new connection that sends nothing
  at all is closed silently, without a ledger row (a preconnect is not a request). Idle
  keep-alive connections are closed by uvicorn's own keep-alive timeout.
- **Body time**: the body must follow within ``server.body_timeout_s`` of the headers, else
  408: the route reading it reports the error and records the row. One timer per request,
  run by the protocol that already sees every byte (no timeout object on the request path).
- **Header size**: more than :data:`MAX_HEADER_BYTES` before the headers end gets 431.
- **Clients that leave**: a lost connection cancels the work of its request at once
  (``api.disconnect``).
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
from freehold.api.disconnect import cancel_work
from freehold.core.errors import FreeholdError, HeadersTooLarge, MalformedHttp, RequestTimeout

#: The most bytes a request line and its headers may take (nginx allows 4 × 8 KB by default).
MAX_HEADER_BYTES = 64 * 1024

_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


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
    """uvicorn's httptools protocol with header and body time limits, the header size limit,
    JSON refusals and cancellation of a lost client's work; :func:`protocol_class` binds the
    settings. Timers are armed only while a request is incomplete after a read: a request
    that arrives whole (the common case) costs none."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    on_refused: Callable[[FreeholdError], None] = staticmethod(lambda error: None)
    _header_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _in_headers = False  # between a request's first byte (or the connection) and its headers
    _in_body = False  # between a request's headers and the end of its body

    # -- the parser's events --------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._in_headers, self._header_bytes = True, 0
        # a connection that sends nothing at all is timed from here
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def on_message_begin(self) -> None:
        # the parser met a request's first byte: its headers are timed from the end of this read
        super().on_message_begin()
        self._in_headers, self._header_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_headers, self._in_body = False, True
        self._stop_header_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._stop_body_timer()
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._in_headers:
            self._header_bytes += len(data)  # all of this read was headers
            if self._header_bytes > MAX_HEADER_BYTES:
                limit = MAX_HEADER_BYTES
                self._refuse(HeadersTooLarge(f"The request line and headers exceed {limit} bytes."))
            elif self._header_timer is None:
                self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)
        elif self._in_body and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.body_timeout_s, self._body_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self._stop_body_timer()
        if self.cycle is not None and not self.cycle.response_complete:
            cancel_work(self.cycle.scope)  # type: ignore[arg-type]
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._refuse(MalformedHttp(f"Malformed HTTP request: {msg}"))

    # -- timers and refusals --------------------------------------------------------------------
    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        served: object | None = self.cycle  # None until a request's headers arrived
        if self._header_bytes == 0 and served is None:
            self.transport.close()  # a connection that never sent a byte: no request, no row
            return
        self._refuse(
            RequestTimeout(
                f"The request headers did not arrive within {self.header_timeout_s:g} s."
            )
        )

    def _body_late(self) -> None:
        self._body_timer = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()  # answered already (e.g. 415, body unread): hang up
            return
        self._refuse(
            RequestTimeout(f"The request body did not arrive within {self.body_timeout_s:g} s.")
        )

    def _refuse(self, error: FreeholdError) -> None:
        self._stop_header_timer()
        self._stop_body_timer()
        self._in_headers = self._in_body = False
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


def protocol_class(
    header_timeout_s: float, body_timeout_s: float, on_refused: Callable[[FreeholdError], None]
) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=`` with these settings."""
    return type(
        "FreeholdHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "header_timeout_s": header_timeout_s,
            "body_timeout_s": body_timeout_s,
            "on_refused": staticmethod(on_refused),
        },
    )
