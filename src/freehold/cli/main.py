"""The ``freehold`` command group."""

from __future__ import annotations

import click

from freehold import __version__
from freehold.cli.audit import audit_command
from freehold.cli.bench import bench
from freehold.cli.budget import budget
from freehold.cli.check_config import check_config
from freehold.cli.common import extra_error
from freehold.cli.keys import keys
from freehold.cli.ledger import ledger
from freehold.cli.models import models
from freehold.cli.plan import plan_command
from freehold.cli.pull import pull
from freehold.cli.report import report_command
from freehold.cli.router import router
from freehold.cli.serve import serve
from freehold.core.importer import MissingExtra

HELP_OPTIONS = ["-h", "--help"]


@click.group(context_settings={"help_option_names": HELP_OPTIONS})
@click.version_option(__version__, prog_name="freehold")
def cli() -> None:
    """freehold: a self-hosted, OpenAI-compatible LLM gateway.

    Every command reads its config from --config, else $FREEHOLD_CONFIG, else the
    zero-config defaults (SQLite ledger under $FREEHOLD_HOME, default ~/.freehold).
    """


cli.add_command(serve)
cli.add_command(check_config)
cli.add_command(models)
cli.add_command(ledger)
cli.add_command(pull)
cli.add_command(bench)
cli.add_command(router)
cli.add_command(keys)
cli.add_command(budget)
cli.add_command(audit_command)
cli.add_command(report_command)
cli.add_command(plan_command)


def _help_everywhere(command: click.Command) -> None:
    """``-h`` on every command, also when one is invoked on its own (tests, embedding)."""
    command.context_settings.setdefault("help_option_names", HELP_OPTIONS)
    for sub in getattr(command, "commands", {}).values():
        _help_everywhere(sub)


_help_everywhere(cli)


def main() -> None:
    """The ``freehold`` command. Commands import their optional libraries when they run; one
    that is missing ends the command with a line naming the extra to install (exit 2),
    never a traceback, wherever it was imported."""
    try:
        cli()
    except MissingExtra as exc:
        error = extra_error(exc, "this command")
        error.show()
        raise SystemExit(error.exit_code) from None
