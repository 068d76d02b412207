"""``freehold serve``: run the gateway."""

from __future__ import annotations

import logging

import click

from freehold.cli.common import config_option, load_config
from freehold.cli.preflight import preflight


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
    problems = preflight(settings)
    for problem in problems:
        click.echo(f"freehold: {problem}", err=True)
    if problems:
        raise SystemExit(1)
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
