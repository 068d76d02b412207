"""``freehold check-config``: validate a config file, or the zero-config defaults, and report
every problem."""

from __future__ import annotations

import os

import click

from freehold.cli.common import echo_json, json_option
from freehold.cli.preflight import (
    extra_problems,
    local_file_problems,
    perimeter_problems,
    route_problems,
    validator_problems,
)
from freehold.config import ConfigError, Problem, Settings, load_settings
from freehold.config.defaults import default_settings
from freehold.config.home import models_dir
from freehold.ledger.factory import describe

#: How the zero-config defaults are named in output (where a file's path would be).
DEFAULTS = "zero-config defaults"


def _check_files(source: str, settings: Settings) -> None:
    """What keeps a valid config from running here: extras not installed, local model files
    and router files that do not exist, credential rule files that do not load, a spaCy
    pipeline not installed, validator specs that cannot be built."""
    problems = [
        Problem(key, reason)
        for key, reason in (
            *extra_problems(settings),
            *local_file_problems(settings),
            *route_problems(settings),
            *perimeter_problems(settings),
        )
    ]
    for problem in validator_problems(settings):
        key, _, reason = problem.partition(": ")
        problems.append(Problem(key, reason))
    if problems:
        raise ConfigError(source, problems)


def _load(target: str | None) -> Settings:
    """The settings ``freehold serve`` would run with: ``target``, else the defaults."""
    if target is None:
        try:
            return default_settings()
        except ConfigError as exc:
            raise ConfigError(DEFAULTS, exc.problems) from None
    return load_settings(target)


def _echo_defaults(settings: Settings) -> None:
    """What the zero-config defaults hold, one model a line."""
    click.echo(
        f"{DEFAULTS}: ok ({len(settings.models)} model(s), ledger {describe(settings.ledger)})"
    )
    width = max((len(m.name) for m in settings.models), default=0)
    for model in settings.models:
        where = model.path or model.base_url or ""
        click.echo(f"  {model.name.ljust(width)}  {model.backend.ljust(9)}  {where}")
    if not settings.models:
        click.echo(
            f"  no models: put a GGUF file in {models_dir()} (`freehold pull NAME`), set "
            "OPENAI_API_KEY or ANTHROPIC_API_KEY, or write a config file"
        )


@click.command("check-config", short_help="Validate a config file (or the defaults).")
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
    and exit 2. Without PATH, check what `freehold serve` would run with: $FREEHOLD_CONFIG,
    else the zero-config defaults (GGUF files in $FREEHOLD_HOME/models, models of the API
    keys in the environment, the SQLite ledger in $FREEHOLD_HOME)."""
    target = path or config_path or os.environ.get("FREEHOLD_CONFIG") or None
    source = target or DEFAULTS
    try:
        settings = _load(target)
        _check_files(source, settings)
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
        data = {
            "path": target,
            "valid": True,
            "problems": [],
            "models": [m.name for m in settings.models],
        }
        if target is None:
            data.update(source=DEFAULTS, ledger=describe(settings.ledger))
        echo_json(data)
    elif target is None:
        _echo_defaults(settings)
    else:
        kind = settings.ledger.split(":")[0]
        click.echo(f"{target}: ok ({len(settings.models)} model(s), ledger {kind})")
