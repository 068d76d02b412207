"""HTTP plumbing shared by the remote providers: one pooled client per upstream, timeouts,
bounded body and SSE reading, and conversion of the HTTP library's errors into freehold's,
once, here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError

from freehold.core.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable

#: The largest whole answer read from an upstream.
MAX_BODY_BYTES = 32 * 2**20
#: The longest line of an SSE stream (one event's data line).
MAX_LINE_BYTES = 8 * 2**20


@dataclass(frozen=True, slots=True)
class Timeouts:
    """``connect_s``: getting a connection; ``total_s``: the whole call, answer or stream,
    read to its end; ``read_s``: streams only, the longest silence between two reads (a whole
    answer sends nothing until it is generated, so only ``total_s`` bounds it)."""

    connect_s: float
    total_s: float
    read_s: float


class ClientPool:
    """One ``aiohttp.ClientSession`` per upstream origin, created on first use (inside the
    running loop) and shared by every model on that origin."""

    def __init__(self) -> None:
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def session(self, base_url: str, max_connections: int) -> aiohttp.ClientSession:
        parts = urlsplit(base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        session = self._sessions.get(origin)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=max_connections, limit_per_host=max_connections, keepalive_timeout=30
            )
            session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, skip_auto_headers=("User-Agent",)
            )
            self._sessions[origin] = session
        return session

    async def aclose(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()


@contextmanager
def upstream_errors(upstream: str, total_s: float) -> Iterator[None]:
    """Convert the HTTP library's exceptions into freehold's taxonomy."""
    try:
        yield
    except aiohttp.ConnectionTimeoutError:
        raise UpstreamTimeout(
            f"upstream {upstream!r} could not be reached within connect_timeout_s"
        ) from None
    except aiohttp.SocketTimeoutError:
        raise UpstreamTimeout(f"upstream {upstream!r} sent nothing for read_timeout_s") from None
    except TimeoutError:  # aiohttp's total timeout
        raise UpstreamTimeout(
            f"upstream {upstream!r} did not finish within {total_s:g} s (timeout_s)"
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamUnavailable(
            f"cannot connect to upstream {upstream!r}: {exc.os_error.strerror or exc}"
        ) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise UpstreamError(f"upstream {upstream!r} closed the connection: {exc}") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"upstream {upstream!r} failed: {type(exc).__name__}") from None
    except HttpProcessingError:
        raise UpstreamError(f"upstream {upstream!r} sent a malformed HTTP response") from None


@asynccontextmanager
async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeouts: Timeouts,
    *,
    streaming: bool,
    upstream: str,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """POST ``body``, bounded by ``timeouts`` (see ``Timeouts``). Redirects are not followed
    (they would carry the credentials elsewhere): a 3xx is the caller's to refuse."""
    timeout = aiohttp.ClientTimeout(
        total=timeouts.total_s,
        connect=timeouts.connect_s,
        sock_read=timeouts.read_s if streaming else None,
    )
    with upstream_errors(upstream, timeouts.total_s):
        async with session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        ) as response:
            yield response


async def read_body(
    response: aiohttp.ClientResponse, upstream: str, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The whole body; one longer than ``limit`` bytes is an ``UpstreamError``. Read it inside
    :func:`post`, whose context converts the HTTP library's errors."""
    parts, size = [], 0
    async for block in response.content.iter_any():
        size += len(block)
        if size > limit:
            raise UpstreamError(f"upstream {upstream!r} sent a body over {limit} bytes")
        parts.append(block)
    return b"".join(parts)


async def sse_data(response: aiohttp.ClientResponse, upstream: str) -> AsyncIterator[bytes]:
    """The payloads of an SSE stream's ``data:`` lines, one by one, as they arrive.

    Multi-line data fields are joined with newlines, as the SSE specification says. A line
    longer than ``MAX_LINE_BYTES`` is an ``UpstreamError``. Read it inside :func:`post`, whose
    context converts the HTTP library's errors.
    """
    pending: list[bytes] = []
    async for line in _lines(response, upstream):
        if not line:
            if pending:
                yield b"\n".join(pending)
                pending = []
            continue
        if line.startswith(b"data:"):
            value = line[5:]
            pending.append(value[1:] if value.startswith(b" ") else value)
    if pending:
        yield b"\n".join(pending)


async def _lines(response: aiohttp.ClientResponse, upstream: str) -> AsyncIterator[bytes]:
    """The body's lines (without their line ending) as they arrive; the last may lack one."""
    partial: list[bytes] = []
    size = 0
    async for block in response.content.iter_any():
        start = 0
        while (end := block.find(b"\n", start)) != -1:
            line = block[start:end]
            if partial:
                line, partial, size = b"".join([*partial, line]), [], 0
            start = end + 1
            yield _line(line, upstream)
        if start < len(block):
            partial.append(block[start:])
            size += len(block) - start
            if size > MAX_LINE_BYTES:
                raise _too_long(upstream)
    if partial:
        yield _line(b"".join(partial), upstream)


def _line(line: bytes, upstream: str) -> bytes:
    if len(line) > MAX_LINE_BYTES:
        raise _too_long(upstream)
    return line[:-1] if line.endswith(b"\r") else line


def _too_long(upstream: str) -> UpstreamError:
    return UpstreamError(f"upstream {upstream!r} sent a stream line over {MAX_LINE_BYTES} bytes")
