"""``freehold serve``: run the gateway."""

from __future__ import annotations

import logging

import click

from freehold.cli.common import config_option, load_config
from freehold.core.importer import MissingExtra
from freehold.ledger import LedgerError, open_store
from freehold.ledger.factory import describe


def _check_ledger(url: str) -> None:
    """Fail fast, with a clear message, when the ledger cannot be opened."""
    try:
        open_store(url).close()
    except (MissingExtra, LedgerError) as exc:
        click.echo(f"freehold: cannot open the ledger {describe(url)}: {exc}", err=True)
        raise SystemExit(1) from None


@click.command(short_help="Run the gateway.")
@config_option
@click.option("--host", default=None, help="Interface to listen on (default: server.host).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port).")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def serve(config_path: str | None, host: str | None, port: int | None, log_level: str) -> None:
    """Start the OpenAI-compatible gateway (SIGTERM drains in-flight requests and the ledger)."""
    import uvicorn

    from freehold.api.app import create_app

    settings = load_config(config_path)
    _check_ledger(settings.ledger)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port or settings.server.port,
        loop="auto",
        http="auto",
        access_log=settings.server.access_log,
        log_level=log_level,
        timeout_graceful_shutdown=30,
        server_header=False,
    )
