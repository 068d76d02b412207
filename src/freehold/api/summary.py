"""What ``freehold serve`` says once it is ready: where it listens, what it serves, where the
ledger is, and what it enforces. Plain lines, no secrets (URLs are printed with passwords
masked)."""

from __future__ import annotations

from freehold import __version__
from freehold.api.hosts import allowed_names
from freehold.config.defaults import HOW_TO_ADD_MODELS
from freehold.config.schema import Settings
from freehold.ledger.factory import describe, state_dir

#: How many model names the summary lists before counting the rest.
LISTED = 12


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def startup_summary(settings: Settings) -> list[str]:
    server = settings.server
    host = f"[{server.host}]" if ":" in server.host else server.host
    lines = [f"freehold {__version__} ready on http://{host}:{server.port}/v1"]
    models = [f"{m.name} ({m.backend}, {m.locality})" for m in settings.models]
    if models:
        lines.append(f"  models ({len(models)}): {_names(models)}")
    else:
        lines.append(f"  models: none; {HOW_TO_ADD_MODELS}")
    if settings.routes:
        routes = [f"{r.name} ({r.policy})" for r in settings.routes]
        lines.append(f"  routes ({len(routes)}): {_names(routes)}")
    journal = settings.journal
    where = journal.dir or str(state_dir(settings))
    kept = (
        f"journal in {where}{', fsync' if journal.fsync else ''}"
        if journal.enabled
        else "no journal"
    )
    lines.append(f"  ledger: {describe(settings.ledger)} ({kept})")
    lines.append("  enforced: " + "; ".join(_enforced(settings)))
    return lines


def _perimeter(settings: Settings) -> str:
    """The perimeter's detectors, and what it does not detect."""
    perimeter = settings.perimeter
    if perimeter is None:
        return "no data perimeter"
    missing = "" if "names" in perimeter.detectors else "; names and addresses not detected"
    return f"data perimeter on ({', '.join(perimeter.detectors)}{missing})"


def _enforced(settings: Settings) -> list[str]:
    server = settings.server
    out = []
    if settings.auth.master_key is not None:
        tags = f", {len(settings.budgets.tags)} tag budgets" if settings.budgets.tags else ""
        out.append(f"virtual keys with budgets and rate limits ({settings.budgets.store}{tags})")
    elif server.api_keys:
        out.append(f"{len(server.api_keys)} static API keys")
    else:
        out.append("no API keys (any caller is served)")
    out.append(_perimeter(settings))
    hosts = allowed_names(server.host, server.allowed_hosts)
    out.append("any Host name" if hosts is None else f"Host names: {', '.join(sorted(hosts))}")
    if server.cors_origins:
        out.append(f"CORS for {', '.join(server.cors_origins)}")
    out.append(
        f"bodies ≤ {server.max_body_bytes} bytes in {server.body_timeout_s:g} s, "
        f"headers in {server.header_timeout_s:g} s"
    )
    return out
