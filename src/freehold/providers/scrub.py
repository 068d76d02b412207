"""Keeping upstream credentials out of error messages an upstream may echo back."""

from __future__ import annotations

from collections.abc import Iterable

from freehold.core.errors import FreeholdError

MASK = "***"


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = [s for s in secrets if len(s) >= 4]

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def error(self, error: FreeholdError) -> FreeholdError:
        error.message = self.text(error.message)
        error.args = (error.message,)
        return error
