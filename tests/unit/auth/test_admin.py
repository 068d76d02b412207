"""Key management rules shared by the CLI and the admin API."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from freehold.auth import admin
from freehold.auth.base import AuthStore
from freehold.auth.keys import Limits
from freehold.core.errors import InvalidRequest, NotFound

from .conftest import T0

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"budget_usd": -1}, "budget_usd"),
        ({"budget_usd": "ten"}, "budget_usd"),
        ({"budget_usd": "NaN"}, "budget_usd"),
        ({"budget_usd": True}, "budget_usd"),
        ({"rpm": True}, "rpm"),
        ({"rpm": 1.5}, "rpm"),
        ({"period": "week"}, "period"),
        ({"budget_usd": 1, "soft_budget_usd": 2}, "soft_budget_usd"),
        ({"budget_tokens": 10, "soft_budget_tokens": 11}, "soft_budget_tokens"),
        ({"colour": 1}, "colour"),
    ],
)
def test_bad_limits_are_refused_with_their_parameter(changes: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        admin.limits_with(Limits(), changes)
    assert caught.value.param == param


def test_limits_convert_dollars_exactly_and_none_removes() -> None:
    limits = admin.limits_with(Limits(), {"budget_usd": "0.000000001", "rpm": 5})
    assert (limits.budget_nusd, limits.rpm) == (1, 5)
    assert admin.limits_with(limits, {"budget_usd": None}).budget_nusd is None


def test_create_update_revoke(store: AuthStore, run: Run) -> None:
    known = {"small", "big"}
    key, secret = run(
        admin.create_key(store, "ci", T0, {"budget_usd": 2}, ("small",), ("team=a",), known)
    )
    assert run(store.key(key.id)).matches(secret)
    with pytest.raises(InvalidRequest, match="not a configured model"):
        run(admin.create_key(store, "x", T0, models=("huge",), known_models=known))
    with pytest.raises(InvalidRequest, match="name"):
        run(admin.create_key(store, "  ", T0))
    with pytest.raises(InvalidRequest, match="name"):
        run(admin.update_key(store, key.id, {"name": " "}))
    updated = run(admin.update_key(store, key.id, {"models": ["big"], "rpm": 3}, known))
    assert (updated.models, updated.limits.rpm, updated.limits.budget_nusd) == (
        ("big",),
        3,
        2_000_000_000,
    )
    revoked = run(admin.revoke_key(store, key.id, T0))
    assert run(store.key(key.id)).revoked == revoked.revoked == T0
    with pytest.raises(NotFound):
        run(admin.revoke_key(store, "key_000000000000", T0))
