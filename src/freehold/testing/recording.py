"""What every mock upstream shares: it records each request it receives, for tests to
inspect in-process (``app.state.requests``) or over HTTP (``GET``/``DELETE /_mock/requests``)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route


def remember(request: Request, body: Any) -> None:
    request.app.state.requests.append(
        {"path": request.url.path, "headers": dict(request.headers), "body": body}
    )


async def recorded(request: Request) -> Response:
    if request.method == "DELETE":
        request.app.state.requests.clear()
    return Response(orjson.dumps(request.app.state.requests), media_type="application/json")


def recording_app(routes: list[BaseRoute]) -> Starlette:
    """A Starlette app serving ``routes`` plus ``/_mock/requests``."""
    app = Starlette(routes=[*routes, Route("/_mock/requests", recorded, methods=["GET", "DELETE"])])
    app.state.requests = []
    return app
