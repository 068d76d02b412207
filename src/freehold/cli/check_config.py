"""``freehold check-config``: validate a config file and report every problem."""

from __future__ import annotations

import click

from freehold.config import ConfigError, load_settings


@click.command("check-config", short_help="Validate a config file.")
@click.argument("path", type=click.Path(dir_okay=False))
def check_config(path: str) -> None:
    """Validate PATH: exit 0 when valid, else print each problem as PATH:KEY.PATH: reason
    and exit 2."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(problem.render(exc.source), err=True)
        raise SystemExit(2) from None
    click.echo(
        f"{path}: ok ({len(settings.models)} model(s), ledger {settings.ledger.split(':')[0]})"
    )
