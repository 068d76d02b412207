"""``freehold budget``: spend against budgets per key and per tag, with the burn rate and
when, at that rate, each budget runs out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from freehold.auth import periods
from freehold.auth.base import AuthStore, Counter
from freehold.auth.enforcer import Charge, key_charge, tag_charge
from freehold.auth.keys import KeyRecord
from freehold.config.schema import BudgetSettings
from freehold.core.money import format_nanousd


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One key's or tag's current period."""

    kind: str
    name: str
    label: str
    period: str
    period_label: str
    counter: Counter
    budget_nusd: int | None
    budget_tokens: int | None
    since: datetime
    now: datetime
    period_end: datetime | None
    revoked: bool = False

    @property
    def remaining_nusd(self) -> int | None:
        if self.budget_nusd is None:
            return None
        return self.budget_nusd - self.counter.spent_nusd - self.counter.held_nusd

    @property
    def remaining_tokens(self) -> int | None:
        if self.budget_tokens is None:
            return None
        return self.budget_tokens - self.counter.tokens - self.counter.held_tokens

    @property
    def usd_per_day(self) -> float:
        """The burn rate since the period (or the key) started."""
        days = max((self.now - self.since).total_seconds(), 60.0) / 86400
        return self.counter.spent_nusd / 1e9 / days

    @property
    def cost_per_mtok(self) -> float | None:
        tokens = self.counter.tokens
        return self.counter.spent_nusd / 1e9 / tokens * 1e6 if tokens else None

    @property
    def exhausts(self) -> datetime | None:
        """When the money budget runs out at the current burn rate; None when it has no
        budget, no spend yet, or lasts beyond the period's end."""
        left = self.remaining_nusd
        rate = self.usd_per_day
        if left is None or rate <= 0:
            return None
        if left <= 0:
            return self.now
        when = self.now + timedelta(days=left / 1e9 / rate)
        return None if self.period_end is not None and when >= self.period_end else when

    def to_dict(self) -> dict[str, Any]:
        c = self.counter
        exhausts = self.exhausts
        remaining = self.remaining_nusd
        return {
            "kind": self.kind,
            "name": self.name,
            "label": self.label,
            "period": self.period,
            "period_label": self.period_label,
            "spend_usd": format_nanousd(c.spent_nusd),
            "held_usd": format_nanousd(c.held_nusd),
            "tokens": c.tokens,
            "requests": c.requests,
            "cost_per_mtok_usd": round(self.cost_per_mtok, 6) if self.cost_per_mtok else None,
            "budget_usd": format_nanousd(self.budget_nusd)
            if self.budget_nusd is not None
            else None,
            "remaining_usd": format_nanousd(remaining) if remaining is not None else None,
            "budget_tokens": self.budget_tokens,
            "remaining_tokens": self.remaining_tokens,
            "usd_per_day": round(self.usd_per_day, 9),
            "exhausts": exhausts.isoformat() if exhausts else None,
            "revoked": self.revoked,
        }


def _line(
    kind: str,
    name: str,
    label: str,
    charge: Charge,
    counter: Counter,
    since: datetime,
    now: datetime,
    revoked: bool = False,
) -> BudgetLine:
    start = periods.start(charge.period, now, since)
    return BudgetLine(
        kind=kind,
        name=name,
        label=label,
        period=charge.period,
        period_label=periods.label(charge.period, now),
        counter=counter,
        budget_nusd=charge.bucket.limit_nusd,
        budget_tokens=charge.bucket.limit_tokens,
        since=max(start, since),
        now=now,
        period_end=periods.end(charge.period, now),
        revoked=revoked,
    )


async def budget_report(
    store: AuthStore, budgets: BudgetSettings, now: datetime
) -> list[BudgetLine]:
    """Every key's line (oldest first), then every tag's (configured or carried by a key)."""
    keys: Sequence[KeyRecord] = await store.keys()
    key_charges = [key_charge(k, now) for k in keys]
    tags = sorted({t for k in keys for t in k.tags} | set(budgets.tags))
    tag_charges = [tag_charge(t, budgets.tags.get(t), now) for t in tags]
    names = [c.bucket.name for c in (*key_charges, *tag_charges)]
    counters = await store.counters(names, now.timestamp())
    lines = [
        _line(
            "key", k.id, k.name, c, counters[c.bucket.name], k.created, now, k.revoked is not None
        )
        for k, c in zip(keys, key_charges, strict=True)
    ]
    for tag, charge in zip(tags, tag_charges, strict=True):
        carriers = [k.created for k in keys if tag in k.tags]
        since = min(carriers) if carriers else now
        lines.append(_line("tag", tag, tag, charge, counters[charge.bucket.name], since, now))
    return lines
