"""``freehold serve``: run the gateway."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

import click

from freehold.cli.common import config_option, load_config
from freehold.cli.preflight import preflight
from freehold.config.schema import Settings


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret the config holds: upstream credentials, the master key, static API keys,
    and passwords in the ledger's and the budget store's URLs."""
    from freehold.providers.scrub import credentials

    found = [secret for model in settings.models for secret in credentials(model)]
    if settings.auth.master_key is not None:
        found.append(settings.auth.master_key.get_secret_value())
    found.extend(key.get_secret_value() for key in settings.server.api_keys)
    for url in (settings.ledger, settings.budgets.store):
        password = urlsplit(url).password if "://" in url else None
        if password:
            found.append(password)
    return found


def mask_secrets_in_logs(settings: Settings) -> None:
    """Every handler of the root and uvicorn loggers masks the config's secrets (and any
    8-character piece of one) in what it writes."""
    from freehold.core.secrets import SecretFilter, SecretMasker

    masker = SecretMasker(configured_secrets(settings))
    if not masker:
        return
    secret_filter = SecretFilter(masker)
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(secret_filter)


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
@click.option(
    "--access-log",
    is_flag=True,
    default=False,
    help="Log one line per request (status, model, latency, request id); failed requests "
    "are always logged. Also server.access_log.",
)
def serve(
    config_path: str | None,
    host: str | None,
    port: int | None,
    log_level: str,
    access_log: bool,
) -> None:
    """Start the OpenAI-compatible gateway (SIGTERM drains in-flight requests and the ledger,
    then exits 0)."""
    import uvicorn

    from freehold.api.app import create_app
    from freehold.api.http_protocol import protocol_class
    from freehold.api.server import DrainingServer
    from freehold.api.state import AppState
    from freehold.api.summary import startup_summary

    settings = load_config(config_path)
    server = settings.server.model_copy(
        update={
            "host": host or settings.server.host,
            "port": port or settings.server.port,
            "access_log": access_log or settings.server.access_log,
        }
    )
    settings = settings.model_copy(update={"server": server})
    problems = preflight(settings)
    for problem in problems:
        click.echo(f"freehold: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    def ready(state: AppState) -> None:
        # Printed, not logged: the summary shows whatever the log level.
        for line in startup_summary(state.settings):
            print(line, file=sys.stderr, flush=True)

    app = create_app(settings, on_ready=ready)
    config = uvicorn.Config(
        app,
        host=server.host,
        port=server.port,
        loop="auto",
        http=protocol_class(server.header_timeout_s, server.body_timeout_s, app.state.refused),
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=30,
        server_header=False,
    )
    mask_secrets_in_logs(settings)  # after uvicorn has set up its own handlers
    DrainingServer(config).run()
