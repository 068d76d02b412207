"""``freehold budget``: spend against budgets in the current period, per key and per tag.

Read from the budget store (``budgets.store``) that every gateway charges: settled spend,
tokens and requests, the cost per million tokens, what is left of each budget and, at the
burn rate since the period (or the key) started, when the money runs out. ``--json`` prints
what ``GET /admin/budget`` answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from freehold.auth.base import AuthStore
from freehold.auth.report import BudgetLine, budget_report
from freehold.cli.common import config_option, echo_json, echo_table, json_option
from freehold.cli.keys import money, settings_for, utc_now, with_store


def _tokens(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _left(line: dict[str, Any]) -> str:
    parts = []
    if line["remaining_usd"] is not None:
        parts.append(money(line["remaining_usd"]))
    if line["remaining_tokens"] is not None:
        parts.append(f"{line['remaining_tokens']:,} tokens")
    return ", ".join(parts) or "-"


def _limit(line: dict[str, Any]) -> str:
    parts = []
    if line["budget_usd"] is not None:
        parts.append(money(line["budget_usd"]))
    if line["budget_tokens"] is not None:
        parts.append(f"{line['budget_tokens']:,} tokens")
    return ", ".join(parts) or "-"


def _row(line: dict[str, Any]) -> list[str]:
    name = line["name"] if line["kind"] == "tag" else f"{line['name']} ({line['label']})"
    if line["revoked"]:
        name += " [revoked]"
    per_mtok = line["cost_per_mtok_usd"]
    return [
        line["kind"],
        name,
        line["period_label"],
        money(line["spend_usd"]),
        _tokens(line["tokens"]),
        f"{line['requests']:,}",
        money(str(per_mtok)) if per_mtok is not None else "-",
        _limit(line),
        _left(line),
        line["exhausts"][:10] if line["exhausts"] else "-",
    ]


@click.command("budget", short_help="Spend against budgets per key and per tag.")
@config_option
@json_option
def budget(config_path: str | None, as_json: bool) -> None:
    """Spend, tokens, requests, cost per million tokens, remaining budget and projected
    exhaustion date (at the current burn rate) of every key and tag, this period."""
    settings = settings_for(config_path)
    now = utc_now()

    async def action(store: AuthStore) -> list[BudgetLine]:
        return await budget_report(store, settings.budgets, now)

    lines = [line.to_dict() for line in with_store(settings, action)]
    if as_json:
        echo_json({"now": now.isoformat(), "lines": lines})
        return
    click.echo(f"budgets at {_minute(now)} UTC")
    if not lines:
        click.echo("No keys or tag budgets yet (`freehold keys create --name NAME`).")
        return
    click.echo("")
    headers = ["KIND", "NAME", "PERIOD", "SPEND", "TOKENS", "REQUESTS", "$/MTOK", "BUDGET",
               "REMAINING", "EXHAUSTS"]  # fmt: skip
    echo_table(headers, [_row(line) for line in lines])


def _minute(now: datetime) -> str:
    return now.strftime("%Y-%m-%d %H:%M")
