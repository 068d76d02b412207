"""``freehold ledger``: summarise the ledger, or ``export`` it as one JSON object per row.

Reading never creates a ledger: when the configured SQLite file does not exist yet, the
command says so on stderr and reports zero counts (``export`` prints nothing), exit 0.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import orjson

from freehold.cli.common import config_option, echo_json, echo_table, json_option, load_config
from freehold.core.importer import MissingExtra
from freehold.core.money import format_usd
from freehold.ledger import (
    FIELDS,
    LedgerError,
    LedgerNotFound,
    LedgerRow,
    ModelSummary,
    Summary,
    describe,
    open_store,
    summarise,
)

F = TypeVar("F", bound=Callable[..., Any])


def parse_since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--since``: an ISO-8601 date or time; one with no zone is taken as UTC."""
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 date or time (e.g. 2025-01-31 or 2025-01-31T09:00:00Z)"
        ) from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def since_option(func: F) -> F:
    return click.option(
        "--since",
        metavar="ISO8601",
        callback=parse_since,
        default=None,
        help="Only requests at or after this time (ISO-8601; no zone means UTC).",
    )(func)


def read_rows(url: str, since: datetime | None) -> list[LedgerRow]:
    """The ledger's rows, without creating a database that does not exist yet."""
    try:
        with closing(open_store(url, create=False)) as store:
            return store.rows(since)
    except LedgerNotFound as exc:
        click.echo(str(exc), err=True)
        return []
    except (LedgerError, MissingExtra) as exc:
        raise click.ClickException(f"cannot read the ledger {describe(url)}: {exc}") from None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _table_row(name: str, m: ModelSummary | Summary) -> list[str]:
    return [
        name,
        f"{m.requests:,}",
        f"{m.errors:,}",
        f"{m.prompt_tokens:,}",
        f"{m.completion_tokens:,}",
        f"{m.total_tokens:,}",
        format_usd(m.spend),
        _ms(m.latency_p50_ms),
        _ms(m.latency_p95_ms),
    ]


def print_summary(where: str, summary: Summary, since: datetime | None) -> None:
    """The summary as text: a headline, a table by served model with a total, TTFT."""
    period = f" since {since.isoformat()}" if since else ""
    click.echo(
        f"ledger {where}{period}: {summary.requests:,} requests, {summary.errors:,} errors, "
        f"{summary.estimated_rows:,} with estimated usage"
    )
    if summary.first_ts and summary.last_ts:
        click.echo(f"from {summary.first_ts.isoformat()} to {summary.last_ts.isoformat()}")
    click.echo("")
    headers = ["served model", "requests", "errors", "prompt", "completion", "tokens",
               "spend usd", "p50 ms", "p95 ms"]  # fmt: skip
    rows = [_table_row(m.model, m) for m in summary.models]
    rows.append(_table_row("TOTAL", summary))
    echo_table(headers, rows)
    click.echo("")
    click.echo(
        f"time to first token: p50 {_ms(summary.ttft_p50_ms)} ms, p95 {_ms(summary.ttft_p95_ms)} ms"
    )


@click.group("ledger", invoke_without_command=True, short_help="Summarise or export the ledger.")
@config_option
@json_option
@since_option
@click.pass_context
def ledger(
    ctx: click.Context, config_path: str | None, as_json: bool, since: datetime | None
) -> None:
    """Summarise the ledger: requests, errors, tokens, spend and p50/p95 latency by served
    model. `freehold ledger export` prints every row."""
    if ctx.invoked_subcommand is not None:
        return
    url = load_config(config_path).ledger
    summary = summarise(read_rows(url, since))
    if as_json:
        data = summary.to_json()
        data["ledger"] = describe(url)
        data["since"] = since.isoformat() if since else None
        echo_json(data)
    else:
        print_summary(describe(url), summary, since)


@ledger.command("export", short_help="Print every request's row.")
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl"]),
    default="jsonl",
    show_default=True,
    help="jsonl: one JSON object per request, oldest first.",
)
@since_option
@click.pass_context
def export(ctx: click.Context, config_path: str | None, fmt: str, since: datetime | None) -> None:
    """Print every request's row (fields: id, ts, key_id, requested_model, served_model,
    prompt_tokens, completion_tokens, cost_usd, latency_ms, ttft_ms, status, error_type,
    route, usage_estimated, stream)."""
    parent: dict[str, Any] = ctx.parent.params if ctx.parent is not None else {}
    url = load_config(config_path or parent.get("config_path")).ledger
    rows = read_rows(url, since or parent.get("since"))
    for row in rows:
        data = row.to_json()
        click.echo(orjson.dumps({name: data[name] for name in FIELDS}).decode())
