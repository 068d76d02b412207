"""The admin API under ``/admin/``: virtual keys and budget reports, for the master key only.

POST   /admin/keys               create (the secret is in this answer only)
GET    /admin/keys               list
GET    /admin/keys/{id}          one key, with its current period's usage
PATCH  /admin/keys/{id}          change name, models, tags or limits (null removes one)
POST   /admin/keys/{id}/revoke   revoke (DELETE /admin/keys/{id} does the same)
GET    /admin/budget             spend per key and per tag (``freehold budget --json``)
"""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from freehold.api.body import read_json, validation_error
from freehold.api.errors import error_response
from freehold.api.state import AppState
from freehold.auth import admin
from freehold.auth.enforcer import Enforcer
from freehold.auth.report import budget_report
from freehold.auth.static_keys import bearer_token
from freehold.core.errors import AuthenticationFailed, FreeholdError, PermissionDenied

JSON = "application/json"
_BODY_LIMIT = 100_000


class _Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_usd: Decimal | None = Field(default=None, ge=0)
    soft_budget_usd: Decimal | None = Field(default=None, ge=0)
    budget_tokens: int | None = Field(default=None, ge=0)
    soft_budget_tokens: int | None = Field(default=None, ge=0)
    period: str | None = None
    rpm: int | None = Field(default=None, ge=0)
    tpm: int | None = Field(default=None, ge=0)
    models: list[str] | None = None
    tags: list[str] | None = None


class CreateBody(_Limits):
    name: str = Field(min_length=1, max_length=200)


class UpdateBody(_Limits):
    name: str | None = Field(default=None, min_length=1, max_length=200)


def _enforcer(request: Request) -> Enforcer:
    """The enforcer, once the caller has shown the master key (constant-time check)."""
    state: AppState = request.app.state.freehold
    master = state.settings.auth.master_key
    if master is None or state.enforcer is None:
        raise PermissionDenied(
            "The admin API is off: set auth.master_key in the config to use it.",
            code="admin_disabled",
        )
    token = bearer_token(request.headers.get("authorization")) or ""
    if not hmac.compare_digest(token.encode(), master.get_secret_value().encode()):
        raise AuthenticationFailed("The admin API needs the master key.")
    return state.enforcer


def _known(request: Request) -> set[str]:
    state: AppState = request.app.state.freehold
    return {m.name for m in state.settings.models} | {r.name for r in state.settings.routes}


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=JSON)


async def _body(request: Request, model: type[_Limits]) -> _Limits:
    data = await read_json(request, request.app.state.freehold.settings.server, _BODY_LIMIT)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from None


def _limits(body: _Limits) -> dict[str, Any]:
    """The limit fields the client set (explicit nulls included: they remove a limit)."""
    return {
        name: getattr(body, name)
        for name in admin.LIMIT_FIELDS
        if name in body.model_fields_set and not (name == "period" and body.period is None)
    }


async def create_key(request: Request) -> Response:
    try:
        enforcer = _enforcer(request)
        body = await _body(request, CreateBody)
        assert isinstance(body, CreateBody)
        key, secret = await admin.create_key(
            enforcer.store,
            body.name,
            enforcer.now(),
            _limits(body),
            tuple(body.models or ()),
            tuple(body.tags or ()),
            _known(request),
        )
    except FreeholdError as error:
        return error_response(error)
    return _json({**key.public(), "key": secret}, 201)


async def list_keys(request: Request) -> Response:
    try:
        enforcer = _enforcer(request)
    except FreeholdError as error:
        return error_response(error)
    keys = await enforcer.store.keys()
    return _json({"object": "list", "data": [k.public() for k in keys]})


async def show_key(request: Request) -> Response:
    try:
        enforcer = _enforcer(request)
        key = await admin.find_key(enforcer.store, request.path_params["key_id"])
    except FreeholdError as error:
        return error_response(error)
    state: AppState = request.app.state.freehold
    lines = await budget_report(enforcer.store, state.settings.budgets, enforcer.now())
    usage = next((line.to_dict() for line in lines if line.name == key.id), None)
    return _json({**key.public(), "usage": usage})


async def update_key(request: Request) -> Response:
    try:
        enforcer = _enforcer(request)
        body = await _body(request, UpdateBody)
        changes: dict[str, Any] = _limits(body)
        for name in ("name", "models", "tags"):
            if name in body.model_fields_set and getattr(body, name) is not None:
                changes[name] = getattr(body, name)
        key = await admin.update_key(
            enforcer.store, request.path_params["key_id"], changes, _known(request)
        )
    except FreeholdError as error:
        return error_response(error)
    return _json(key.public())


async def revoke_key(request: Request) -> Response:
    try:
        enforcer = _enforcer(request)
        key = await admin.revoke_key(enforcer.store, request.path_params["key_id"], enforcer.now())
    except FreeholdError as error:
        return error_response(error)
    return _json(key.public())


async def budget(request: Request) -> Response:
    try:
        enforcer = _enforcer(request)
    except FreeholdError as error:
        return error_response(error)
    state: AppState = request.app.state.freehold
    lines = await budget_report(enforcer.store, state.settings.budgets, enforcer.now())
    return _json({"now": enforcer.now().isoformat(), "lines": [line.to_dict() for line in lines]})
