"""What every command shares: ``--config``, ``--json`` and loading settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from typing import Any, TypeVar

import click
import orjson

from freehold.config import ConfigError, Settings, load_settings
from freehold.config.defaults import default_settings
from freehold.core.importer import MissingExtra, import_string
from freehold.ledger import LedgerError, LedgerNotFound, LedgerRow, describe, open_store

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Config file (YAML). Default: $FREEHOLD_CONFIG, else the zero-config defaults.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        func
    )


def load_config(config_path: str | None) -> Settings:
    """Settings from ``--config``, ``$FREEHOLD_CONFIG`` or the defaults; exits 2 on problems."""
    path = config_path or os.environ.get("FREEHOLD_CONFIG")
    try:
        return load_settings(path) if path else default_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem.render(exc.source), err=True)
        raise SystemExit(2) from None


def echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def echo_table(headers: list[str], rows: list[list[str]]) -> None:
    """A plain, aligned text table (numbers right-aligned)."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def fmt(cells: list[str]) -> str:
        out = []
        for cell, width in zip(cells, widths, strict=True):
            numeric = cell.replace(".", "", 1).replace("-", "", 1).replace(",", "").isdigit()
            out.append(cell.rjust(width) if numeric else cell.ljust(width))
        return "  ".join(out).rstrip()

    click.echo(fmt(headers))
    click.echo("  ".join("-" * w for w in widths))
    for row in rows:
        click.echo(fmt(row))


class CommandError(click.ClickException):
    """A command that cannot do its job: ``Error: MESSAGE`` on stderr, exit 2."""

    exit_code = 2


def read_ledger_rows(url: str, since: datetime | None, purpose: str) -> list[LedgerRow]:
    """The ledger's rows (from ``since``); a missing or unreadable ledger is a
    :class:`CommandError` that says there is nothing to ``purpose``."""
    try:
        with closing(open_store(url, create=False)) as store:
            return store.rows(since)
    except LedgerNotFound as exc:
        raise CommandError(f"{exc}: nothing to {purpose}") from None
    except (LedgerError, MissingExtra) as exc:
        raise CommandError(f"cannot read the ledger {describe(url)}: {exc}") from None


def extra_error(exc: MissingExtra, what: str) -> CommandError:
    """``what`` cannot run without an optional extra: one line naming it and its install
    command."""
    return CommandError(exc.needs(what))


def load_extra(target: str, extra: str, what: str) -> Any:
    """``import_string(target, extra)`` for a command that needs ``extra``: when it is not
    installed, a :class:`CommandError` naming the extra and its install command."""
    try:
        return import_string(target, extra)
    except MissingExtra as exc:
        raise extra_error(exc, what) from None
