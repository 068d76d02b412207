"""A mock OpenAI upstream that fails on purpose, for the reliability tests: in front of
:mod:`freehold.testing.mock_openai`, each request fails with probability ``fail_rate``
(statuses taken in turn from ``statuses``; a 429 carries ``Retry-After: retry_after``), or
waits ``delay_s`` first, or hangs ``hang_s`` before answering. The settings can be changed
while it serves (a deployment that recovers), and it counts what it received and failed::

    faults = Faults(fail_rate=0.3, statuses=(500, 503, 429))
    with ServerThread(flaky_app(faults)) as upstream:
        ...
    faults.received, faults.failed
"""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
from dataclasses import dataclass, field

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from freehold.testing import mock_openai


@dataclass
class Faults:
    """How the upstream misbehaves (change any field at any time)."""

    fail_rate: float = 0.0
    statuses: tuple[int, ...] = (500,)
    retry_after: str | None = "0"
    code: str | None = None
    """The error code of the failures (``context_length_exceeded``, …)."""
    delay_s: float = 0.0
    hang_s: float = 0.0
    seed: int = 1
    received: int = 0
    failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rng: random.Random | None = field(default=None, repr=False)
    _turn: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    def draw(self) -> int | None:
        """The status this request fails with, or None to answer it."""
        with self._lock:
            if self._rng is None:
                self._rng = random.Random(self.seed)
            self.received += 1
            if self._rng.random() >= self.fail_rate:
                return None
            self.failed += 1
            return self.statuses[next(self._turn) % len(self.statuses)]


def flaky_app(faults: Faults) -> Starlette:
    """The mock upstream behind ``faults``."""

    async def chat(request: Request) -> Response:
        status = faults.draw()
        if faults.hang_s:
            await asyncio.sleep(faults.hang_s)
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        if status is not None:
            headers = {}
            if status == 429 and faults.retry_after is not None:
                headers["Retry-After"] = faults.retry_after
            error = {
                "error": {
                    "message": f"injected {status}",
                    "type": "server_error" if status >= 500 else "invalid_request_error",
                    "code": faults.code,
                }
            }
            return Response(orjson.dumps(error), status, headers, "application/json")
        return await mock_openai.chat_completions(request)

    app = mock_openai.create_app()
    app.router.routes.insert(0, Route("/v1/chat/completions", chat, methods=["POST"]))
    return app
