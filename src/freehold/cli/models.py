"""``freehold models``: the configured models."""

from __future__ import annotations

import click

from freehold.cli.common import config_option, echo_json, echo_table, json_option, load_config
from freehold.core.money import format_usd

_COLUMNS = (
    "name",
    "backend",
    "upstream_model",
    "locality",
    "jurisdiction",
    "input_per_mtok",
    "output_per_mtok",
)


@click.command(short_help="List the configured models.")
@config_option
@json_option
def models(config_path: str | None, as_json: bool) -> None:
    """List the configured models with backend, locality, jurisdiction and prices."""
    settings = load_config(config_path)
    entries = [
        {
            "name": m.name,
            "backend": m.backend,
            "upstream_model": m.wire_model,
            "base_url": m.base_url,
            "locality": m.locality,
            "jurisdiction": m.jurisdiction,
            "input_per_mtok": format_usd(m.price.input_per_mtok),
            "output_per_mtok": format_usd(m.price.output_per_mtok),
        }
        for m in settings.models
    ]
    if as_json:
        echo_json({"models": entries})
        return
    if not entries:
        click.echo("No models configured. Add some under `models:` in a config file (see README).")
        return
    echo_table(
        ["NAME", "BACKEND", "UPSTREAM", "LOCALITY", "JURISDICTION", "IN $/MTOK", "OUT $/MTOK"],
        [[str(e[key] or "-") for key in _COLUMNS] for e in entries],
    )
