"""Stopping work for a client that has gone.

While the gateway prepares an answer, the route marks the request as cancellable by leaving
its task in the ASGI scope (:data:`WORK_TASK`). freehold's HTTP protocol
(``api.http_protocol``) cancels that task as soon as the connection is lost, so an upstream
call (or a local generation) stops at once instead of running on for nobody; the route then
raises :class:`~freehold.core.errors.ClientClosedRequest` and the gateway records 499. No
task or timer is spent per request: the protocol already learns of the lost connection. (A
stream being sent is watched by Starlette's ``StreamingResponse`` itself. Under another
ASGI server the work simply runs to its end.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.types import Scope

from freehold.core.errors import ClientClosedRequest

T = TypeVar("T")

#: Scope key: the task to cancel when the client's connection is lost.
WORK_TASK = "freehold.work_task"
#: Scope key: set by the protocol when it cancelled the work because the client left.
CLIENT_GONE = "freehold.client_gone"


async def until_disconnect(scope: Scope, work: Coroutine[Any, Any, T]) -> T:
    """``await work``, cancelled as soon as the client disconnects (then
    :class:`~freehold.core.errors.ClientClosedRequest` is raised)."""
    task = asyncio.current_task()
    scope[WORK_TASK] = task
    try:
        return await work
    except asyncio.CancelledError:
        if scope.get(CLIENT_GONE) and task is not None and task.uncancel() == 0:
            raise ClientClosedRequest("the client went away before the answer was ready") from None
        raise
    finally:
        scope.pop(WORK_TASK, None)


def cancel_work(scope: Scope) -> None:
    """The connection of the request with ``scope`` is lost: cancel its work, if any."""
    task = scope.pop(WORK_TASK, None)
    if task is not None and not task.done():
        scope[CLIENT_GONE] = True
        task.cancel()
