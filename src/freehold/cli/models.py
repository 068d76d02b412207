"""``freehold models``: the configured models, and the model files pulled into
``$FREEHOLD_HOME/models``."""

from __future__ import annotations

from typing import Any

import click

from freehold.cli.common import config_option, echo_json, echo_table, json_option, load_config
from freehold.cli.pull import human_size
from freehold.core.money import format_usd
from freehold.modelfiles import GGUFInfo, default_models_dir, scan

_COLUMNS = (
    "name",
    "backend",
    "upstream_model",
    "locality",
    "jurisdiction",
    "input_per_mtok",
    "output_per_mtok",
)


def _params(count: int | None) -> str:
    if not count:
        return "-"
    if count >= 1_000_000_000:
        return f"{count / 1e9:.2f}B"
    return f"{count / 1e6:.0f}M" if count >= 10_000_000 else f"{count / 1e6:.1f}M"


def _local_row(info: GGUFInfo) -> list[str]:
    return [
        info.path.name,
        human_size(info.size_bytes),
        info.quantization or "-",
        info.architecture or "-",
        _params(info.parameters),
        str(info.context_length) if info.context_length else "-",
        info.error or "",
    ]


def _echo_local_files(files: list[GGUFInfo], directory: str) -> None:
    click.echo("")
    if not files:
        click.echo(f"No model files in {directory} (download one with `freehold pull NAME`).")
        return
    click.echo(f"Local model files ({directory}):")
    rows = [_local_row(f) for f in files]
    headers = ["FILE", "SIZE", "QUANT", "ARCH", "PARAMS", "CONTEXT", "NOTE"]
    if not any(row[-1] for row in rows):
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    echo_table(headers, rows)


@click.command(short_help="List the configured models and local model files.")
@config_option
@json_option
def models(config_path: str | None, as_json: bool) -> None:
    """List the configured models with backend, locality, jurisdiction and prices, then the
    GGUF files pulled into $FREEHOLD_HOME/models with size and quantization."""
    settings = load_config(config_path)
    entries: list[dict[str, Any]] = [
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
    directory = default_models_dir()
    local_files = scan(directory)
    if as_json:
        echo_json({"models": entries, "local_files": [f.as_dict() for f in local_files]})
        return
    if not entries:
        click.echo("No models configured. Add some under `models:` in a config file (see README).")
    else:
        echo_table(
            ["NAME", "BACKEND", "UPSTREAM", "LOCALITY", "JURISDICTION", "IN $/MTOK", "OUT $/MTOK"],
            [[str(e[key] or "-") for key in _COLUMNS] for e in entries],
        )
    _echo_local_files(local_files, str(directory))
