"""The budget store interface, and the values that cross it.

A request is admitted by :meth:`AuthStore.reserve`, which, atomically for every replica that
shares the store, checks and holds its worst-case cost on each :class:`Bucket` it is charged
to (the key's, and each budgeted tag's) and counts it in the key's rate-limit
:class:`Window`. After the call :meth:`AuthStore.settle` replaces the hold by the actual cost.
A hold carries an expiry, so the hold of a replica that died mid-request stops counting
once it expires instead of shrinking the budget forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from freehold.auth.keys import KeyRecord

Refusal = Literal["revoked", "budget_usd", "budget_tokens", "rpm", "tpm"]


@dataclass(frozen=True, slots=True)
class Bucket:
    """A spend counter a request is charged to, with its hard limits (None: counted only)."""

    name: str
    limit_nusd: int | None = None
    limit_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """A key's rate-limit counter for one minute."""

    name: str
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """What admitting one request holds: its worst-case cost and tokens on every bucket, and
    (for TPM) its prompt tokens in the window. ``now`` and ``expires`` are epoch seconds.
    With ``key_id`` the store refuses the hold if that key has been revoked (so a replica
    that read the key a moment before its revocation still refuses it)."""

    id: str
    buckets: tuple[Bucket, ...]
    window: Window | None
    nusd: int
    tokens: int
    prompt_tokens: int
    now: float
    expires: float
    key_id: str | None = None


@dataclass(frozen=True, slots=True)
class Counter:
    """A bucket's totals: settled spend, tokens and requests, and what is held now."""

    spent_nusd: int = 0
    tokens: int = 0
    requests: int = 0
    held_nusd: int = 0
    held_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Admission:
    """The store's answer to :meth:`AuthStore.reserve`.

    Admitted: ``refusal`` is None, ``counters`` are the buckets after the hold and
    ``window_requests``/``window_tokens`` the window after it. Refused: ``refusal`` names the
    limit and ``bucket`` the bucket that refused (nothing was held or counted)."""

    refusal: Refusal | None
    bucket: str | None
    counters: dict[str, Counter]
    window_requests: int = 0
    window_tokens: int = 0

    @property
    def admitted(self) -> bool:
        return self.refusal is None


class AuthStore(Protocol):
    """Keys and budget counters, shared by every replica that opens the same store."""

    async def migrate(self) -> None:
        """Create what the store needs (idempotent)."""

    async def save_key(self, key: KeyRecord) -> None:
        """Insert or replace a key record (a revoked one also marks its id revoked, which
        every later :meth:`reserve` for it checks)."""

    async def key(self, key_id: str) -> KeyRecord | None: ...

    async def keys(self) -> list[KeyRecord]:
        """Every key, revoked ones included, oldest first."""

    async def reserve(self, hold: Hold) -> Admission:
        """Check every limit and, only if all allow, hold the request (atomically)."""

    async def settle(self, hold: Hold, nusd: int, tokens: int) -> None:
        """Replace a hold by what the request really cost (0 when it failed)."""

    async def counters(self, names: Sequence[str], now: float) -> dict[str, Counter]:
        """Totals of the named buckets (holds that expired before ``now`` not counted)."""

    async def aclose(self) -> None: ...
