"""``freehold audit``: the data perimeter's record in the ledger, and checks over it.

Exit codes: 0 when every check passes, 1 when one fails (so a CI or compliance job can gate
on it), 2 when there is nothing to audit: no perimeter configured (the ledger is still
summarised, but no check is run, so none can read as passed), no ledger at the configured
location, a ledger that cannot be read, a bad config or option. Reading never creates a
ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from freehold.cli.common import (
    config_option,
    echo_json,
    echo_table,
    json_option,
    load_config,
    read_ledger_rows,
)
from freehold.cli.ledger import since_option
from freehold.ledger import describe
from freehold.ledger.audit import Audit, Check, Egress, audit


def _counts(title: str, counts: dict[str, int]) -> None:
    click.echo("")
    if not counts:
        click.echo(f"{title}: none")
        return
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    echo_table([title, "requests"], [[name, f"{n:,}"] for name, n in ordered])


def _tally(counts: dict[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} {n:,}" for name, n in ordered) or "-"


def _check_line(check: Check) -> str:
    if check.passed:
        return f"PASS  {check.name}"
    shown = ", ".join(check.request_ids)
    more = check.violations - len(check.request_ids)
    tail = f" and {more:,} more" if more > 0 else ""
    noun = "request" if check.violations == 1 else "requests"
    return f"FAIL  {check.name}: {check.violations:,} {noun} ({shown}{tail})"


def _egress_row(e: Egress) -> list[str]:
    where = "inside" if e.inside else "OUTSIDE"
    return [e.model, e.locality, e.jurisdiction, where, f"{e.requests:,}", _tally(e.findings),
            _tally(e.categories), _tally(e.policies)]  # fmt: skip


#: What the audit says, in place of its checks, when the config has no perimeter.
NOT_CONFIGURED = "no perimeter configured: requests are not scanned"


def print_audit(
    where: str, result: Audit, since: datetime | None, *, configured: bool = True
) -> None:
    """The audit as text: a headline, tallies, egress of requests with findings, checks
    (or, with no perimeter ``configured``, a line saying so in their place)."""
    period = f" since {since.isoformat()}" if since else ""
    click.echo(
        f"perimeter audit of ledger {where}{period}: {result.requests:,} requests, "
        f"{result.with_findings:,} with findings, "
        f"{result.without_perimeter:,} without a perimeter record"
    )
    click.echo("")
    if result.findings:
        ordered = sorted(result.findings.items(), key=lambda item: (-item[1].requests, item[0]))
        echo_table(
            ["finding", "requests", "values"],
            [[kind, f"{f.requests:,}", f"{f.values:,}"] for kind, f in ordered],
        )
    else:
        click.echo("finding: none")
    _counts("category", result.categories)
    _counts("label", result.labels)
    _counts("policy", result.policies)
    _counts("outcome", result.outcomes)
    click.echo("")
    if result.egress:
        click.echo("where requests with findings went:")
        headers = ["model", "locality", "jurisdiction", "perimeter", "requests", "findings",
                   "categories", "policies"]  # fmt: skip
        echo_table(headers, [_egress_row(e) for e in result.egress])
    else:
        click.echo("where requests with findings went: nowhere")
    click.echo("")
    if not configured:
        click.echo(f"{NOT_CONFIGURED} (no check run; add `perimeter:` to the config)")
        return
    for check in result.checks:
        click.echo(_check_line(check))


@click.command("audit", short_help="Audit the data perimeter from the ledger.")
@config_option
@json_option
@since_option
def audit_command(config_path: str | None, as_json: bool, since: datetime | None) -> None:
    """Audit the data perimeter from the ledger: findings by kind and category, sensitivity
    labels, policies, outcomes, where requests with findings went (model, locality,
    jurisdiction, inside or outside the perimeter), and checks, each PASS or FAIL with the
    offending request ids (the first 20):

    \b
      no secret-level request left the perimeter
      local_only requests stayed inside
      blocked requests reached no model

    An egress not recorded as inside counts as outside. Without a perimeter in the config the
    checks are not run: the audit says "no perimeter configured" instead. Exit 0 when every
    check passes, 1 when one fails (for CI and compliance gates), 2 when there is nothing to
    audit (no perimeter configured, no ledger), the ledger cannot be read, or the config or
    options are wrong.
    """
    settings = load_config(config_path)
    url, configured = settings.ledger, settings.perimeter is not None
    result = audit(read_ledger_rows(url, since, "audit"))
    if as_json:
        data: dict[str, Any] = {
            "ledger": describe(url),
            "since": since.isoformat() if since else None,
            "perimeter": "configured" if configured else "not configured",
        }
        data.update(result.to_json())
        if not configured:
            data["checks"] = []
        echo_json(data)
    else:
        print_audit(describe(url), result, since, configured=configured)
    if not configured:
        raise SystemExit(2)
    if not result.passed:
        raise SystemExit(1)
