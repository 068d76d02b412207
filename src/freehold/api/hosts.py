"""Refusing foreign ``Host`` names (DNS rebinding).

A web page can point a name it controls at 127.0.0.1 and then script requests to the gateway
on the user's machine as "same origin". Such requests carry the page's name in ``Host``. A
gateway bound to loopback therefore answers only loopback names (``localhost``,
``127.0.0.1``, ``[::1]``, ``*.localhost``) and the names in ``server.allowed_hosts``; bound to
any other address it checks only when ``allowed_hosts`` is set. ``"*"`` turns the check off.
A refused request gets 400 ``host_not_allowed`` (OpenAI error JSON) and a ledger row.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from freehold.api.errors import error_response
from freehold.core.errors import FreeholdError, HostNotAllowed

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """Whether a listening address is loopback only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: bytes) -> str:
    """The name in a ``Host`` header, without its port or IPv6 brackets, lower-cased."""
    value = header.decode("latin-1").strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_names(bound: str, extra: Iterable[str]) -> frozenset[str] | None:
    """The ``Host`` names accepted, or None when every name is."""
    extra = [name.lower() for name in extra]
    if "*" in extra:
        return None
    if not is_loopback(bound) and not extra:
        return None
    return frozenset([*LOOPBACK_NAMES, *extra])


class HostGuard:
    """ASGI middleware: requests whose ``Host`` is not allowed are answered here."""

    def __init__(
        self,
        app: ASGIApp,
        allowed: frozenset[str],
        on_refused: Callable[[FreeholdError], None],
    ) -> None:
        self.app = app
        self.allowed = allowed
        self.on_refused = on_refused

    def _permits(self, name: str) -> bool:
        return name in self.allowed or name.endswith(".localhost")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for key, value in scope["headers"]:
                if key == b"host":
                    name = host_name(value)
                    if not self._permits(name):
                        error = HostNotAllowed(
                            f"Host {name[:100]!r} is not served here; add it to "
                            "server.allowed_hosts if it should be."
                        )
                        self.on_refused(error)
                        await error_response(error)(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)
