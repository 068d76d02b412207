"""The OpenAI-compatible routes: chat completions, models, health."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from freehold.api import sse
from freehold.api.body import (
    check_nesting,
    parse_chat_request,
    parse_json,
    read_body,
    read_json,
    validation_error,
)
from freehold.api.disconnect import until_disconnect
from freehold.api.errors import error_response
from freehold.api.state import AppState
from freehold.core.errors import FreeholdError
from freehold.core.money import format_usd
from freehold.core.types import MAX_MODEL_NAME
from freehold.ledger.base import Feedback
from freehold.pipeline.context import RequestContext

JSON = "application/json"


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.freehold
    return state


def new_request_id() -> str:
    return "req_" + secrets.token_hex(12)


def _requested_model(data: Any) -> str | None:
    model = data.get("model") if isinstance(data, dict) else None
    return model[:MAX_MODEL_NAME] if isinstance(model, str) else None


def _outcome_headers(ctx: RequestContext) -> dict[str, str]:
    """Which model answered, how its answer was judged, and the route's path to it."""
    headers = {}
    if ctx.served_model:
        headers["x-freehold-model"] = ctx.served_model
    if ctx.validation:
        headers["x-freehold-validation"] = ctx.validation
    if ctx.route:
        tried = [str(a["model"]) for a in ctx.tried if a.get("model")]
        headers["x-freehold-route"] = ctx.route
        headers["x-freehold-escalations"] = ",".join([*tried, ctx.served_model or ""])
    if ctx.fallback:
        headers["x-freehold-fallback"] = ctx.fallback
    if ctx.calls:
        headers["x-freehold-attempts"] = str(len(ctx.calls))
        headers["x-freehold-deployment"] = ctx.calls[-1].deployment
    return headers


async def chat_completions(request: Request) -> Response:
    state = _state(request)
    gateway = state.gateway
    ctx = RequestContext(request_id=new_request_id(), key_id=None)
    ctx.sensitivity = request.headers.get("x-freehold-sensitivity")
    headers = {"x-freehold-request-id": ctx.request_id}
    data: Any = None
    try:
        await gateway.authenticate(ctx, request.headers.get("authorization"))
        raw = await read_body(request, state.settings.server)
        data = parse_json(raw)
        check_nesting(raw, data, state.settings.server.max_json_depth)
        chat = parse_chat_request(data)
    except FreeholdError as error:
        ctx.requested_model = _requested_model(data)
        gateway.reject(ctx, error)
        return error_response(error, headers)

    try:
        if chat.stream:
            chunks = await until_disconnect(request.scope, gateway.open_stream(ctx, chat))
        else:
            result = await until_disconnect(request.scope, gateway.handle(ctx, chat))
    except FreeholdError as error:
        return error_response(error, {**headers, **_outcome_headers(ctx), **ctx.budget_headers})

    headers.update(_outcome_headers(ctx))
    headers.update(ctx.budget_headers)
    if chat.stream:
        headers["cache-control"] = "no-cache"
        return StreamingResponse(
            sse.encode(chunks), media_type="text/event-stream", headers=headers
        )
    headers["x-freehold-cost-usd"] = format_usd(ctx.totals()[2])
    return Response(orjson.dumps(result.body), media_type=JSON, headers=headers)


async def list_models(request: Request) -> Response:
    state = _state(request)
    ctx = RequestContext(request_id=new_request_id(), key_id=None)
    try:
        await state.gateway.authenticate(ctx, request.headers.get("authorization"), fresh=True)
    except FreeholdError as error:
        return error_response(error)
    visible = set(state.gateway.visible_models(ctx))
    data = [
        {"id": m.name, "object": "model", "created": 0, "owned_by": m.backend}
        for m in state.settings.models
        if m.name in visible
    ] + [
        {"id": r.name, "object": "model", "created": 0, "owned_by": f"freehold-route:{r.policy}"}
        for r in state.settings.routes
        if r.name in visible
    ]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type=JSON)


async def health(request: Request) -> Response:
    """Liveness: the process answers."""
    state = _state(request)
    body = {"status": "ok", "models": len(state.settings.models)}
    return Response(orjson.dumps(body), media_type=JSON)


async def ready(request: Request) -> Response:
    """``GET /health/ready``: each deployment's state (breaker, calls in flight, last error);
    503 when no deployment of any model can take a call (200 for a gateway with no model:
    it is ready, and says how to add one at start)."""
    state = _state(request)
    models = state.gateway.deployment_states()
    serving = [d for deployments in models.values() for d in deployments if d["available"]]
    ok = bool(serving) or not models
    body = {"status": "ready" if ok else "unavailable", "models": models}
    return Response(orjson.dumps(body), status_code=200 if ok else 503, media_type=JSON)


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: str = Field(min_length=1, max_length=200)
    score: float = Field(ge=0, le=1)
    source: str = Field(default="user", min_length=1, max_length=100)


async def feedback(request: Request) -> Response:
    """``POST /v1/feedback``: a human or programmatic judgement (0..1) of an answer, kept in
    the ledger beside the request's row (what ``router train --from-ledger`` learns from)."""
    state = _state(request)
    ctx = RequestContext(request_id=new_request_id(), key_id=None)
    try:
        await state.gateway.authenticate(ctx, request.headers.get("authorization"), fresh=True)
        data = await read_json(request, state.settings.server, 100_000)
        body = FeedbackBody.model_validate(data)
    except ValidationError as exc:
        return error_response(validation_error(exc, data))
    except FreeholdError as error:
        return error_response(error)
    item = Feedback(
        "fb_" + secrets.token_hex(12), body.request_id, datetime.now(UTC), body.score, body.source
    )
    await asyncio.to_thread(state.store.write_feedback, [item])
    reply = {
        "id": item.id,
        "object": "feedback",
        "request_id": item.request_id,
        "score": item.score,
        "source": item.source,
    }
    return Response(orjson.dumps(reply), status_code=201, media_type=JSON)
