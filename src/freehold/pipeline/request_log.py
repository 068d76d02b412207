"""The console's view of requests: one concise line per failed request, always, and one per
request when the access log is on (``server.access_log`` or ``freehold serve --access-log``).

A line names the status, the model, the error type, the latency and the request id; never a
message or a prompt (they may quote secrets or personal data). Names a client chose are cut
and stripped of control characters, so a request cannot forge or flood log lines.
"""

from __future__ import annotations

import logging

from freehold.ledger.base import LedgerRow

log = logging.getLogger("freehold.requests")

#: How much of a client-chosen name a line repeats.
SHOWN = 64


def _shown(name: str | None) -> str:
    if not name:
        return "-"
    cut = name[:SHOWN]
    clean = "".join(c if c.isprintable() and not c.isspace() else "?" for c in cut)
    return clean + ("…" if len(name) > SHOWN else "")


class RequestLog:
    def __init__(self, *, access: bool = False) -> None:
        self.access = access

    def request(self, row: LedgerRow) -> None:
        """Log ``row``'s request when it failed, or always with the access log on."""
        failed = row.status >= 400
        if not failed and not self.access:
            return
        model = _shown(row.served_model or row.requested_model)
        line = "%d %s model=%s%s %.1f ms %s"
        error = f" error={row.error_type}" if row.error_type else ""
        kind = "stream" if row.stream else "whole"
        level = logging.WARNING if failed else logging.INFO
        log.log(level, line, row.status, kind, model, error, row.latency_ms, row.id)
