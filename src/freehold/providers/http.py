"""HTTP plumbing shared by the remote providers: one pooled client per upstream, timeouts,
SSE reading, and conversion of the HTTP library's errors into freehold's, once, here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from freehold.core.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float
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
def upstream_errors(upstream: str) -> Iterator[None]:
    """Convert the HTTP library's exceptions into freehold's taxonomy."""
    try:
        yield
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise UpstreamTimeout(f"upstream {upstream!r} timed out") from None
    except aiohttp.ClientConnectorError as exc:
        raise UpstreamUnavailable(
            f"cannot connect to upstream {upstream!r}: {exc.os_error.strerror or exc}"
        ) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
        raise UpstreamError(f"upstream {upstream!r} closed the connection: {exc}") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"upstream {upstream!r} failed: {type(exc).__name__}") from None


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
    """POST ``body``; for a whole answer ``read_s`` bounds the total time, for a stream the
    silence between two reads."""
    timeout = (
        aiohttp.ClientTimeout(total=None, connect=timeouts.connect_s, sock_read=timeouts.read_s)
        if streaming
        else aiohttp.ClientTimeout(total=timeouts.read_s, connect=timeouts.connect_s)
    )
    with upstream_errors(upstream):
        async with session.post(url, data=body, headers=headers, timeout=timeout) as response:
            yield response


async def read_body(response: aiohttp.ClientResponse, upstream: str) -> bytes:
    with upstream_errors(upstream):
        return await response.read()


async def sse_data(response: aiohttp.ClientResponse, upstream: str) -> AsyncIterator[bytes]:
    """The payloads of an SSE stream's ``data:`` lines, one by one, as they arrive.

    Multi-line data fields are joined with newlines, as the SSE specification says.
    """
    pending: list[bytes] = []
    with upstream_errors(upstream):
        async for raw in response.content:
            line = raw.rstrip(b"\r\n")
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
