"""Virtual API keys: how a secret is made, stored (salted hash only) and checked.

A key's secret is ``fh-<id>.<random>``: ``<id>`` (12 hex digits) names the stored record, so
a request is checked against exactly one record, and ``<random>`` is 256 random bits. Stores
keep ``HMAC-SHA256(salt, secret)`` with a per-key random salt, never the secret, and the check
is constant-time. A slow password hash (scrypt, argon2) would add milliseconds to every
request and buys nothing here: a 256-bit random secret cannot be guessed from its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from freehold.core.money import format_nanousd

Period = Literal["day", "month", "total"]
PERIODS: tuple[Period, ...] = ("day", "month", "total")

_SECRET = re.compile(r"^fh-([0-9a-f]{12})\.([A-Za-z0-9_-]{20,})$")
_TAG = re.compile(r"^[A-Za-z0-9_.-]+=[^\s=][^\s]*$")


def key_id_of(secret: str) -> str | None:
    """The record id a secret names (``key_<12 hex>``), or None when it is not one of ours."""
    match = _SECRET.match(secret)
    return f"key_{match.group(1)}" if match else None


def digest(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def valid_tag(tag: str) -> bool:
    """Tags are ``name=value`` (``team=search``, ``project=bluebird``)."""
    return bool(_TAG.match(tag))


@dataclass(frozen=True, slots=True)
class Limits:
    """What a key may spend and how fast. Money in nano-dollars; None = no limit."""

    budget_nusd: int | None = None
    soft_budget_nusd: int | None = None
    budget_tokens: int | None = None
    soft_budget_tokens: int | None = None
    period: Period = "month"
    rpm: int | None = None
    tpm: int | None = None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A virtual key as stored: everything but its secret."""

    id: str
    name: str
    salt: str
    hash: str
    created: datetime
    limits: Limits = field(default_factory=Limits)
    models: tuple[str, ...] = ()
    """Models and routes the key may use; empty: all."""
    tags: tuple[str, ...] = ()
    revoked: datetime | None = None

    def matches(self, secret: str) -> bool:
        """Whether ``secret`` is this key's (constant-time)."""
        return hmac.compare_digest(digest(self.salt, secret), self.hash)

    def allows(self, model: str) -> bool:
        return not self.models or model in self.models

    def revoke(self, when: datetime) -> KeyRecord:
        return self if self.revoked else replace(self, revoked=when)

    def public(self) -> dict[str, Any]:
        """What ``keys show`` and the admin API print (no salt, no hash)."""
        lim = self.limits
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created.isoformat(),
            "revoked": self.revoked.isoformat() if self.revoked else None,
            "period": lim.period,
            "budget_usd": _usd(lim.budget_nusd),
            "soft_budget_usd": _usd(lim.soft_budget_nusd),
            "budget_tokens": lim.budget_tokens,
            "soft_budget_tokens": lim.soft_budget_tokens,
            "rpm": lim.rpm,
            "tpm": lim.tpm,
            "models": list(self.models),
            "tags": list(self.tags),
        }


def _usd(nano: int | None) -> str | None:
    return format_nanousd(nano) if nano is not None else None


def new_key(
    name: str,
    created: datetime,
    limits: Limits | None = None,
    models: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
) -> tuple[KeyRecord, str]:
    """A new key record and its secret (shown once, never stored)."""
    ident = secrets.token_hex(6)
    secret = f"fh-{ident}.{secrets.token_urlsafe(32)}"
    salt = secrets.token_hex(16)
    record = KeyRecord(
        id=f"key_{ident}",
        name=name,
        salt=salt,
        hash=digest(salt, secret),
        created=created,
        limits=limits or Limits(),
        models=models,
        tags=tags,
    )
    return record, secret


def to_json(key: KeyRecord) -> dict[str, Any]:
    """The stored form of a key record (salted hash, never the secret)."""
    lim = key.limits
    return {
        "id": key.id,
        "name": key.name,
        "salt": key.salt,
        "hash": key.hash,
        "created": key.created.isoformat(),
        "revoked": key.revoked.isoformat() if key.revoked else None,
        "limits": {
            "budget_nusd": lim.budget_nusd,
            "soft_budget_nusd": lim.soft_budget_nusd,
            "budget_tokens": lim.budget_tokens,
            "soft_budget_tokens": lim.soft_budget_tokens,
            "period": lim.period,
            "rpm": lim.rpm,
            "tpm": lim.tpm,
        },
        "models": list(key.models),
        "tags": list(key.tags),
    }


def from_json(data: dict[str, Any]) -> KeyRecord:
    lim = data["limits"]
    return KeyRecord(
        id=data["id"],
        name=data["name"],
        salt=data["salt"],
        hash=data["hash"],
        created=datetime.fromisoformat(data["created"]),
        revoked=datetime.fromisoformat(data["revoked"]) if data.get("revoked") else None,
        limits=Limits(
            budget_nusd=lim.get("budget_nusd"),
            soft_budget_nusd=lim.get("soft_budget_nusd"),
            budget_tokens=lim.get("budget_tokens"),
            soft_budget_tokens=lim.get("soft_budget_tokens"),
            period=lim.get("period", "month"),
            rpm=lim.get("rpm"),
            tpm=lim.get("tpm"),
        ),
        models=tuple(data.get("models") or ()),
        tags=tuple(data.get("tags") or ()),
    )
