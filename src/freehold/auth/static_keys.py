"""The simplest key check: any key, or one of a configured list (``server.api_keys``).

A request is identified in the ledger by a fingerprint of its bearer token, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from freehold.core.errors import AuthenticationFailed


def fingerprint(token: str) -> str:
    """A stable, non-reversible id for a bearer token: ``key-`` + 12 hex digits of SHA-256."""
    return "key-" + hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class StaticKeys:
    def __init__(self, allowed: Iterable[str]) -> None:
        self._allowed = [key.encode("utf-8") for key in allowed]

    def identify(self, authorization: str | None) -> str | None:
        """The caller's key id; raises AuthenticationFailed when keys are required and the
        request has no valid one. Comparison is constant-time."""
        token = bearer_token(authorization)
        if not self._allowed:
            return fingerprint(token) if token else None
        if token is None:
            raise AuthenticationFailed(
                "Missing API key: send it as 'Authorization: Bearer YOUR_KEY'."
            )
        candidate = token.encode("utf-8")
        matched = False
        for allowed in self._allowed:
            matched |= hmac.compare_digest(candidate, allowed)
        if not matched:
            raise AuthenticationFailed("Incorrect API key provided.")
        return fingerprint(token)
