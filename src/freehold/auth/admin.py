"""Managing virtual keys: create, update, revoke, look up. Shared by ``freehold keys`` and
the admin HTTP API, so both check the same things the same way."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from freehold.auth.base import AuthStore
from freehold.auth.keys import PERIODS, KeyRecord, Limits, new_key, valid_tag
from freehold.core.errors import InvalidRequest, NotFound
from freehold.core.money import to_nanousd

#: The limits a key may set, as the CLI and the API name them.
LIMIT_FIELDS = (
    "budget_usd",
    "soft_budget_usd",
    "budget_tokens",
    "soft_budget_tokens",
    "period",
    "rpm",
    "tpm",
)


def _check(models: Collection[str], tags: Collection[str], known: Collection[str]) -> None:
    for model in models:
        if known and model not in known:
            raise InvalidRequest(
                f"{model!r} is not a configured model or route (known: {', '.join(sorted(known))})",
                param="models",
            )
    for tag in tags:
        if not valid_tag(tag):
            raise InvalidRequest(f"{tag!r}: a tag is NAME=VALUE, e.g. team=search", param="tags")


def limits_with(base: Limits, changes: Mapping[str, Any]) -> Limits:
    """``base`` with the given limits changed (None removes a limit)."""
    fields: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in LIMIT_FIELDS:
            raise InvalidRequest(f"unknown limit {name!r}", param=name)
        if name == "period":
            if value not in PERIODS:
                raise InvalidRequest(f"period must be one of {', '.join(PERIODS)}", param=name)
            fields["period"] = value
        elif name.endswith("_usd"):
            fields[name.removesuffix("_usd") + "_nusd"] = _nano(name, value)
        else:
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise InvalidRequest(f"{name} must be a whole number ≥ 0", param=name)
            fields[name] = value
    limits = replace(base, **fields)
    for soft, hard in (
        ("soft_budget_nusd", "budget_nusd"),
        ("soft_budget_tokens", "budget_tokens"),
    ):
        low, high = getattr(limits, soft), getattr(limits, hard)
        if low is not None and high is not None and low > high:
            param = soft.replace("_nusd", "_usd")
            raise InvalidRequest(f"{param} must not exceed the hard budget", param=param)
    return limits


def _nano(name: str, value: Any) -> int | None:
    if value is None:
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        raise InvalidRequest(f"{name} must be a number of dollars ≥ 0", param=name)
    return to_nanousd(amount)


async def create_key(
    store: AuthStore,
    name: str,
    now: datetime,
    limits: Mapping[str, Any] | None = None,
    models: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    known_models: Collection[str] = (),
) -> tuple[KeyRecord, str]:
    """A new key, stored; returns it and its secret (the only time the secret exists)."""
    if not name.strip():
        raise InvalidRequest("a key needs a name", param="name")
    _check(models, tags, known_models)
    key, secret = new_key(name, now, limits_with(Limits(), limits or {}), models, tags)
    await store.save_key(key)
    return key, secret


async def find_key(store: AuthStore, key_id: str) -> KeyRecord:
    key = await store.key(key_id)
    if key is None:
        raise NotFound(f"No key {key_id!r}.", param="id", code="key_not_found")
    return key


async def update_key(
    store: AuthStore,
    key_id: str,
    changes: Mapping[str, Any],
    known_models: Collection[str] = (),
) -> KeyRecord:
    """Change a key's name, models, tags or limits (``None`` removes a limit)."""
    key = await find_key(store, key_id)
    limit_changes = {k: v for k, v in changes.items() if k in LIMIT_FIELDS}
    others = {k: v for k, v in changes.items() if k not in LIMIT_FIELDS}
    unknown = set(others) - {"name", "models", "tags"}
    if unknown:
        raise InvalidRequest(f"unknown field {sorted(unknown)[0]!r}", param=sorted(unknown)[0])
    models = tuple(others.get("models", key.models))
    tags = tuple(others.get("tags", key.tags))
    _check(models, tags, known_models)
    name = str(others.get("name", key.name))
    if not name.strip():
        raise InvalidRequest("a key needs a name", param="name")
    updated = replace(
        key,
        name=name,
        models=models,
        tags=tags,
        limits=limits_with(key.limits, limit_changes),
    )
    await store.save_key(updated)
    return updated


async def revoke_key(store: AuthStore, key_id: str, now: datetime) -> KeyRecord:
    """Revoke a key; every replica refuses it from its next request on."""
    key = await find_key(store, key_id)
    revoked = key.revoke(now)
    await store.save_key(revoked)
    return revoked
