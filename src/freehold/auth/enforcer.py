"""Who may call, and whether this request fits their budget and rate limits.

:meth:`Enforcer.identify` turns a bearer token into a live (not revoked) key; :meth:`admit`
holds the request's worst case (:mod:`freehold.auth.estimate`) on the key's bucket and on
each of its budgeted tags' buckets, and counts it in the key's rate window, refusing with 429
before any upstream call; :meth:`settle` replaces the hold by the actual cost. Response
headers say what is left.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from freehold.auth import periods
from freehold.auth.base import Admission, AuthStore, Bucket, Hold, Window
from freehold.auth.estimate import Estimate
from freehold.auth.keys import KeyRecord, Period, key_id_of
from freehold.auth.static_keys import bearer_token
from freehold.config.schema import BudgetSettings, TagBudget
from freehold.core.errors import (
    AuthenticationFailed,
    BudgetExceeded,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from freehold.core.money import format_nanousd, to_nanousd

Clock = Callable[[], datetime]
log = logging.getLogger("freehold.budgets")

#: How long a key record read from the store is reused by this process (seconds). Revocation
#: needs no wait: every admission checks it in the store, atomically with the hold. Other
#: changes to a key (limits, scope, tags) apply within this time.
KEY_CACHE_S = 1.0

#: Without an explicit soft limit, the warning header starts at this share of the hard one.
SOFT_SHARE = Decimal("0.8")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Charge:
    """A bucket a request is charged to, with its soft limits and a name fit for messages."""

    bucket: Bucket
    soft_nusd: int | None
    soft_tokens: int | None
    period: Period
    owner: str


@dataclass(slots=True)
class Ticket:
    """An admitted request: its hold, and the headers that tell the client what is left."""

    key: KeyRecord
    hold: Hold
    charges: tuple[Charge, ...]
    admission: Admission
    headers: dict[str, str]


def _soft(hard: int | None, soft: int | None) -> int | None:
    if soft is not None:
        return soft
    return int(hard * SOFT_SHARE) if hard is not None else None


def _nano(usd: Decimal | None) -> int | None:
    return to_nanousd(usd) if usd is not None else None


def per(period: Period) -> str:
    """``per day``, ``per month``, ``in total``."""
    return "in total" if period == "total" else f"per {period}"


def key_charge(key: KeyRecord, now: datetime) -> Charge:
    lim = key.limits
    name = f"key:{key.id}:{periods.label(lim.period, now)}"
    return Charge(
        Bucket(name, lim.budget_nusd, lim.budget_tokens),
        _soft(lim.budget_nusd, lim.soft_budget_nusd),
        _soft(lim.budget_tokens, lim.soft_budget_tokens),
        lim.period,
        f"key {key.id}",
    )


def tag_charge(tag: str, budget: TagBudget | None, now: datetime) -> Charge:
    """A tag's bucket; a tag without a configured budget is counted per month, unlimited."""
    budget = budget or TagBudget()
    hard_nusd = _nano(budget.budget_usd)
    return Charge(
        Bucket(f"tag:{tag}:{periods.label(budget.period, now)}", hard_nusd, budget.budget_tokens),
        _soft(hard_nusd, _nano(budget.soft_budget_usd)),
        _soft(budget.budget_tokens, budget.soft_budget_tokens),
        budget.period,
        f"tag {tag}",
    )


@asynccontextmanager
async def _store_errors() -> AsyncIterator[None]:
    """A store that cannot answer fails the request closed (503): nothing is admitted that
    the budget could not be checked for."""
    try:
        yield
    except Exception as exc:
        log.error("the budget store failed: %s", type(exc).__name__)
        raise ServiceUnavailable(
            "The budget store is unavailable; the request was not sent. Retry shortly."
        ) from None


class Enforcer:
    def __init__(self, store: AuthStore, budgets: BudgetSettings, clock: Clock = utc_now) -> None:
        self.store = store
        self._budgets = budgets
        self._clock = clock
        self._cache: dict[str, tuple[KeyRecord, float]] = {}

    def now(self) -> datetime:
        return self._clock()

    async def identify(self, authorization: str | None, *, fresh: bool = False) -> KeyRecord:
        """The live key a bearer token names; 401 for no key, an unknown, wrong or revoked one.

        The record may come from this process's cache (:data:`KEY_CACHE_S`): a request that
        goes on to :meth:`admit` is checked against revocation there, in the store. Callers
        that do not admit anything (listing models, feedback) ask for a ``fresh`` read."""
        token = bearer_token(authorization)
        if token is None:
            raise AuthenticationFailed(
                "Missing API key: send it as 'Authorization: Bearer YOUR_KEY'."
            )
        key_id = key_id_of(token)
        key = None
        if key_id is not None:
            now = time.monotonic()
            cached = None if fresh else self._cache.get(key_id)
            if cached is not None and cached[1] > now:
                key = cached[0]
            else:
                async with _store_errors():
                    key = await self.store.key(key_id)
                if key is not None:
                    self._cache[key_id] = (key, now + KEY_CACHE_S)
        if key is None or not key.matches(token):
            raise AuthenticationFailed("Incorrect API key provided.")
        if key.revoked is not None:
            raise AuthenticationFailed(f"The API key {key.id} has been revoked.")
        return key

    def charges(self, key: KeyRecord, now: datetime) -> tuple[Charge, ...]:
        tags = tuple(tag_charge(t, self._budgets.tags.get(t), now) for t in key.tags)
        return (key_charge(key, now), *tags)

    async def admit(self, key: KeyRecord, request_id: str, model: str, worst: Estimate) -> Ticket:
        """Hold ``worst`` for the request, or refuse it (403 model, 429 budget or rate)."""
        if not key.allows(model):
            raise PermissionDenied(
                f"The API key {key.id} may not use {model!r}; it may use: {', '.join(key.models)}.",
                param="model",
            )
        now = self._clock()
        charges = self.charges(key, now)
        lim = key.limits
        window = None
        if lim.rpm is not None or lim.tpm is not None:
            window = Window(f"rate:{key.id}:{periods.minute(now)}", lim.rpm, lim.tpm)
        stamp = now.timestamp()
        hold = Hold(
            id=f"{request_id}.{secrets.token_hex(4)}",
            buckets=tuple(c.bucket for c in charges),
            window=window,
            nusd=worst.nusd,
            tokens=worst.tokens,
            prompt_tokens=worst.prompt_tokens,
            now=stamp,
            expires=stamp + self._budgets.hold_s,
            key_id=key.id,
        )
        async with _store_errors():
            admission = await self.store.reserve(hold)
        if not admission.admitted:
            raise self._refusal(key, charges, hold, admission, now)
        return Ticket(key, hold, charges, admission, _headers(charges, admission, hold))

    async def settle(self, ticket: Ticket, nusd: int, tokens: int) -> None:
        """Settle the request at its actual cost (0 when it failed)."""
        await self.store.settle(ticket.hold, nusd, tokens)

    @staticmethod
    def settled_headers(ticket: Ticket, nusd: int, tokens: int) -> dict[str, str]:
        """The headers once the request costs ``nusd``: the unused part of its hold is back."""
        return _headers(ticket.charges, ticket.admission, ticket.hold, nusd, tokens)

    def _refusal(
        self,
        key: KeyRecord,
        charges: tuple[Charge, ...],
        hold: Hold,
        admission: Admission,
        now: datetime,
    ) -> AuthenticationFailed | BudgetExceeded | RateLimited:
        if admission.refusal == "revoked":
            self._cache.pop(key.id, None)
            return AuthenticationFailed(f"The API key {key.id} has been revoked.")
        if admission.refusal in ("rpm", "tpm"):
            wait = periods.retry_after(now)
            what = (
                f"{key.limits.rpm} requests"
                if admission.refusal == "rpm"
                else f"{key.limits.tpm} tokens"
            )
            return RateLimited(
                f"Rate limit reached for key {key.id}: {what} per minute. Retry in {wait} s.",
                headers={"retry-after": str(wait)},
            )
        charge = next(c for c in charges if c.bucket.name == admission.bucket)
        counter = admission.counters[charge.bucket.name]
        if admission.refusal == "budget_usd":
            limit = charge.bucket.limit_nusd or 0
            detail = (
                f"${format_nanousd(limit)} {per(charge.period)}: "
                f"${format_nanousd(counter.spent_nusd)} spent, "
                f"${format_nanousd(counter.held_nusd)} held by requests in flight; this "
                f"request could cost up to ${format_nanousd(hold.nusd)}"
            )
        else:
            limit = charge.bucket.limit_tokens or 0
            detail = (
                f"{limit} tokens {per(charge.period)}: {counter.tokens} used, "
                f"{counter.held_tokens} held by requests in flight; this request could use "
                f"up to {hold.tokens}"
            )
        return BudgetExceeded(
            f"Budget exceeded for {charge.owner} ({detail}). Lower max_tokens, or raise the budget."
        )


def _headers(
    charges: tuple[Charge, ...],
    admission: Admission,
    hold: Hold,
    nusd: int | None = None,
    tokens: int | None = None,
) -> dict[str, str]:
    """Remaining budget (the tightest bucket; after settlement, the unused hold returned),
    a warning past a soft limit, and OpenAI-style rate-limit headers."""
    back_nusd = hold.nusd - nusd if nusd is not None else 0
    back_tokens = hold.tokens - tokens if tokens is not None else 0
    headers: dict[str, str] = {}
    left_nusd: list[int] = []
    left_tokens: list[int] = []
    warnings: list[str] = []
    for charge in charges:
        c = admission.counters.get(charge.bucket.name)
        if c is None:
            continue
        used_nusd = c.spent_nusd + c.held_nusd - back_nusd
        used_tokens = c.tokens + c.held_tokens - back_tokens
        if charge.bucket.limit_nusd is not None:
            left_nusd.append(charge.bucket.limit_nusd - used_nusd)
        if charge.bucket.limit_tokens is not None:
            left_tokens.append(charge.bucket.limit_tokens - used_tokens)
        if charge.soft_nusd is not None and used_nusd >= charge.soft_nusd:
            warnings.append(
                f"{charge.owner} is past its soft budget of ${format_nanousd(charge.soft_nusd)}"
            )
        elif charge.soft_tokens is not None and used_tokens >= charge.soft_tokens:
            warnings.append(
                f"{charge.owner} is past its soft budget of {charge.soft_tokens} tokens"
            )
    if left_nusd:
        headers["x-freehold-budget-remaining-usd"] = format_nanousd(max(0, min(left_nusd)))
    if left_tokens:
        headers["x-freehold-budget-remaining-tokens"] = str(max(0, min(left_tokens)))
    if warnings:
        headers["x-freehold-budget-warning"] = "; ".join(warnings)
    window = hold.window
    if window is not None and window.rpm is not None:
        headers["x-ratelimit-limit-requests"] = str(window.rpm)
        headers["x-ratelimit-remaining-requests"] = str(
            max(0, window.rpm - admission.window_requests)
        )
    if window is not None and window.tpm is not None:
        headers["x-ratelimit-limit-tokens"] = str(window.tpm)
        headers["x-ratelimit-remaining-tokens"] = str(max(0, window.tpm - admission.window_tokens))
    return headers
