"""Stopping work for a client that has gone.

Once a request's body is read, the ASGI server's next message is ``http.disconnect``: when the
client closes its connection early, or when the response is complete. While the gateway
prepares an answer, :func:`until_disconnect` listens for it and cancels the work at once, so
an upstream call (or a local generation) stops instead of running on for nobody. The gateway
records such a request as 499. (A stream already being sent is watched by Starlette's
``StreamingResponse`` itself.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from starlette.types import Receive

from freehold.core.errors import ClientClosedRequest

T = TypeVar("T")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def until_disconnect(receive: Receive, work: Coroutine[Any, Any, T]) -> T:
    """``await work``, cancelled as soon as the client disconnects (then
    :class:`~freehold.core.errors.ClientClosedRequest` is raised)."""
    task = asyncio.current_task()
    assert task is not None
    gone = finished = False

    def cancel(watched: Awaitable[None]) -> None:
        nonlocal gone
        if finished or watcher.cancelled() or watcher.exception() is not None:
            return
        gone = True
        task.cancel()

    watcher = asyncio.ensure_future(_disconnected(receive))
    watcher.add_done_callback(cancel)
    try:
        return await work
    except asyncio.CancelledError:
        if gone and task.uncancel() == 0:
            raise ClientClosedRequest("the client went away before the answer was ready") from None
        raise
    finally:
        finished = True
        watcher.cancel()
