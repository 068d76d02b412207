"""Admission with an injected clock: budgets roll over on period boundaries, rate limits on
minute boundaries; refusals are OpenAI-format 429s; headers say what is left."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from freehold.auth.base import AuthStore
from freehold.auth.enforcer import Enforcer
from freehold.auth.estimate import Estimate
from freehold.auth.keys import KeyRecord, Limits, new_key
from freehold.config.schema import BudgetSettings, TagBudget
from freehold.core.errors import (
    AuthenticationFailed,
    BudgetExceeded,
    PermissionDenied,
    RateLimited,
)

from .conftest import T0

Run = Callable[[Coroutine[Any, Any, Any]], Any]
WORST = Estimate(nusd=1_000, tokens=100, prompt_tokens=20, output_cap=80)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


def enforcer(store: AuthStore, clock: Clock, **tags: TagBudget) -> Enforcer:
    budgets = BudgetSettings(tags={k.replace("_", "="): v for k, v in tags.items()})
    return Enforcer(store, budgets, clock)


def make_key(store: AuthStore, run: Run, **limits: Any) -> tuple[KeyRecord, str]:
    key, secret = new_key("t", T0, Limits(**limits), tags=("team=a",))
    run(store.save_key(key))
    return key, secret


def test_identify_live_keys_only(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock)
    key, secret = make_key(store, run)
    assert run(gate.identify(f"Bearer {secret}")) == key
    for header in (None, "Basic abc", f"Bearer {secret}x", "Bearer sk-other"):
        with pytest.raises(AuthenticationFailed):
            run(gate.identify(header))
    run(store.save_key(key.revoke(T0)))
    with pytest.raises(AuthenticationFailed, match="revoked"):
        run(gate.identify(f"Bearer {secret}", fresh=True))


def test_a_cached_key_is_still_refused_once_revoked(
    store: AuthStore, run: Run, clock: Clock
) -> None:
    """Another replica revokes the key while this one has it cached: the next admission,
    checked in the store, refuses it."""
    gate = enforcer(store, clock)
    key, secret = make_key(store, run)
    assert run(gate.identify(f"Bearer {secret}")) == key  # cached now
    run(store.save_key(key.revoke(T0)))
    cached = run(gate.identify(f"Bearer {secret}"))
    with pytest.raises(AuthenticationFailed, match="revoked"):
        run(gate.admit(cached, "r0", "m", WORST))
    with pytest.raises(AuthenticationFailed, match="revoked"):
        run(gate.identify(f"Bearer {secret}"))  # the refusal dropped the cached record
    fresh_key, fresh_secret = make_key(store, run)
    run(gate.identify(f"Bearer {fresh_secret}"))
    run(store.save_key(fresh_key.revoke(T0)))
    with pytest.raises(AuthenticationFailed, match="revoked"):
        run(gate.identify(f"Bearer {fresh_secret}", fresh=True))


def test_scoped_keys_refuse_other_models(store: AuthStore, run: Run, clock: Clock) -> None:
    key, _ = new_key("t", T0, models=("small",))
    with pytest.raises(PermissionDenied) as caught:
        run(enforcer(store, clock).admit(key, "r1", "big", WORST))
    assert caught.value.status == 403 and "small" in caught.value.message


def test_a_day_budget_rolls_over_at_midnight_utc(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock)
    key, _ = make_key(store, run, budget_nusd=2_500, period="day")
    clock.now = T0.replace(hour=23, minute=59, second=59)
    for i in range(2):
        ticket = run(gate.admit(key, f"r{i}", "m", WORST))
        run(gate.settle(ticket, 1_000, 100))
    with pytest.raises(BudgetExceeded) as caught:
        run(gate.admit(key, "r2", "m", WORST))
    error = caught.value
    assert (error.status, error.code) == (429, "budget_exceeded")
    assert "per day" in error.message and "$0.000002000 spent" in error.message
    clock.now = T0.replace(hour=23, minute=59, second=59) + timedelta(seconds=1)
    ticket = run(gate.admit(key, "r3", "m", WORST))
    assert ticket.headers["x-freehold-budget-remaining-usd"] == "0.000001500"


def test_rate_limits_reset_on_the_minute(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock)
    key, _ = make_key(store, run, rpm=2)
    clock.now = T0 + timedelta(seconds=50)
    tickets = [run(gate.admit(key, f"r{i}", "m", WORST)) for i in range(2)]
    assert tickets[1].headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(RateLimited) as caught:
        run(gate.admit(key, "r2", "m", WORST))
    assert caught.value.headers == {"retry-after": "10"}
    assert caught.value.code == "rate_limit_exceeded"
    clock.now = T0 + timedelta(seconds=60)
    assert run(gate.admit(key, "r3", "m", WORST)).headers["x-ratelimit-remaining-requests"] == "1"


def test_tokens_per_minute_count_actual_tokens(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock)
    key, _ = make_key(store, run, tpm=150)
    ticket = run(gate.admit(key, "r0", "m", WORST))
    assert ticket.headers["x-ratelimit-remaining-tokens"] == "130"
    run(gate.settle(ticket, 0, 140))
    with pytest.raises(RateLimited):
        run(gate.admit(key, "r1", "m", WORST))  # 140 + 20 > 150


def test_tag_budgets_are_shared_by_their_keys(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock, team_a=TagBudget(budget_usd=Decimal("0.000002")))
    first, _ = make_key(store, run)
    second, _ = make_key(store, run)
    run(gate.settle(run(gate.admit(first, "r0", "m", WORST)), 1_000, 10))
    run(gate.admit(second, "r1", "m", WORST))
    with pytest.raises(BudgetExceeded, match="tag team=a"):
        run(gate.admit(first, "r2", "m", WORST))


def test_headers_warn_past_the_soft_limit(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock)
    key, _ = make_key(store, run, budget_nusd=10_000, budget_tokens=1_000)
    ticket = run(gate.admit(key, "r0", "m", WORST))
    assert ticket.headers["x-freehold-budget-remaining-usd"] == "0.000009000"
    assert ticket.headers["x-freehold-budget-remaining-tokens"] == "900"
    assert "x-freehold-budget-warning" not in ticket.headers
    run(gate.settle(ticket, 400, 30))
    settled = gate.settled_headers(ticket, 400, 30)
    # the unused part of the hold is back
    assert settled["x-freehold-budget-remaining-usd"] == "0.000009600"
    assert settled["x-freehold-budget-remaining-tokens"] == "970"
    big = Estimate(nusd=8_000, tokens=10, prompt_tokens=1, output_cap=9)
    warned = run(gate.admit(key, "r1", "m", big))
    # 400 spent + 8000 held >= 80% of 10000
    assert "past its soft budget of $0.000008000" in warned.headers["x-freehold-budget-warning"]


def test_total_budget_refusal_names_tokens(store: AuthStore, run: Run, clock: Clock) -> None:
    gate = enforcer(store, clock)
    key, _ = make_key(store, run, budget_tokens=50, period="total")
    with pytest.raises(BudgetExceeded, match="50 tokens in total"):
        run(gate.admit(key, "r0", "m", WORST))


def test_an_unreachable_store_fails_closed(run: Run, clock: Clock) -> None:
    from freehold.auth.factory import open_auth_store
    from freehold.core.errors import ServiceUnavailable

    dead = open_auth_store("redis://127.0.0.1:1/0")
    gate = Enforcer(dead, BudgetSettings(), clock)
    key, secret = new_key("t", T0)
    try:
        with pytest.raises(ServiceUnavailable) as caught:
            run(gate.identify(f"Bearer {secret}"))
        assert caught.value.status == 503 and secret not in caught.value.message
        with pytest.raises(ServiceUnavailable):
            run(gate.admit(key, "r0", "m", WORST))
    finally:
        run(dead.aclose())
