"""``freehold check-config``: validate a config file and report every problem."""

from __future__ import annotations

import click

from freehold.cli.common import echo_json, json_option
from freehold.cli.preflight import local_file_problems, route_problems, validator_problems
from freehold.config import ConfigError, Problem, Settings, load_settings


def _check_files(source: str, settings: Settings) -> None:
    """Local model files named by the config must exist."""
    problems = [
        Problem(key, reason)
        for key, reason in (*local_file_problems(settings), *route_problems(settings))
    ]
    for problem in validator_problems(settings):
        key, _, reason = problem.partition(": ")
        problems.append(Problem(key, reason))
    if problems:
        raise ConfigError(source, problems)


@click.command("check-config", short_help="Validate a config file.")
@click.argument("path", type=click.Path(dir_okay=False), required=False)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The config file, as with every other command (same as PATH).",
)
@json_option
def check_config(path: str | None, config_path: str | None, as_json: bool) -> None:
    """Validate PATH: exit 0 when valid, else print each problem as PATH:KEY.PATH: reason
    and exit 2."""
    target = path or config_path
    if target is None:
        raise click.UsageError("give the config file as PATH or --config PATH")
    try:
        settings = load_settings(target)
        _check_files(target, settings)
    except ConfigError as exc:
        if as_json:
            echo_json(
                {
                    "path": target,
                    "valid": False,
                    "problems": [{"key": p.key, "reason": p.reason} for p in exc.problems],
                }
            )
        else:
            for problem in exc.problems:
                click.echo(problem.render(exc.source), err=True)
        raise SystemExit(2) from None
    if as_json:
        echo_json(
            {
                "path": target,
                "valid": True,
                "problems": [],
                "models": [m.name for m in settings.models],
            }
        )
        return
    kind = settings.ledger.split(":")[0]
    click.echo(f"{target}: ok ({len(settings.models)} model(s), ledger {kind})")
