"""Keeping upstream credentials out of error messages an upstream may echo back (whole, in
pieces or in a provider's masked form: ``core.secrets``), and out of overlong ones."""

from __future__ import annotations

import re
from collections.abc import Iterable

from freehold.config.schema import ModelSettings
from freehold.core.errors import FreeholdError, UpstreamRejected
from freehold.core.secrets import SecretMasker

#: The longest error message relayed from an upstream (the rest is cut, marked with "…").
MAX_MESSAGE_CHARS = 1000
_CREDENTIAL_HEADER = re.compile(r"key|auth|token|secret|password", re.IGNORECASE)


def credentials(settings: ModelSettings) -> list[str]:
    """The secrets a model's upstream knows: its API key and the values of credential
    headers it is configured with (``api-key``, ``Authorization: Bearer …``, …)."""
    found = [settings.api_key.get_secret_value()] if settings.api_key else []
    for name, value in settings.headers.items():
        if _CREDENTIAL_HEADER.search(name):
            found.extend(value.split()[-1:])  # the credential, not its scheme ("Bearer")
    return found


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        self._masker = SecretMasker(secrets)

    def text(self, value: str) -> str:
        if len(value) > MAX_MESSAGE_CHARS:
            value = value[:MAX_MESSAGE_CHARS] + "…"
        return self._masker.mask(value)

    def error(self, error: FreeholdError) -> FreeholdError:
        """``error`` with its message scrubbed, and the type, param and code of a refusal
        (the upstream's own) too."""
        error.message = self.text(error.message)
        error.args = (error.message,)
        if isinstance(error, UpstreamRejected):
            for name in ("type", "param", "code"):
                value = getattr(error, name)
                if isinstance(value, str):
                    setattr(error, name, self.text(value)[:200])
        return error
