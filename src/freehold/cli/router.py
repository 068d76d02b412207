"""``freehold router train``: fit a routing model on recorded outcomes and save it as JSON.

The artefact (see :mod:`freehold.routing.learners`) holds the coefficients, the feature
recipe, the sha256 fingerprint of the training records and a format version; never a pickle.
"""

from __future__ import annotations

import click

from freehold.cli.bench import arithmetic_check
from freehold.cli.common import echo_json
from freehold.routing import policies
from freehold.routing.records import RecordError, load_examples


@click.group()
def router() -> None:
    """Routing models."""


@router.command("train")
@click.option("--policy", required=True, type=click.Choice(policies.LEARNED))
@click.option(
    "--records",
    "record_files",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Routing-record JSONL files (repeat for several).",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--weak", default=None, help="The weak model's name (default: the cheaper one).")
@click.option("--strong", default=None, help="The strong model's name (default: the dearer one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def train(
    policy: str,
    record_files: tuple[str, ...],
    out_path: str,
    weak: str | None,
    strong: str | None,
    as_json: bool,
) -> None:
    """Train a predictive or cascade router and write it to --out (JSON)."""
    try:
        examples, pair = load_examples(record_files, weak, strong)
    except (OSError, RecordError) as exc:
        raise click.ClickException(str(exc)) from None
    check = arithmetic_check if policy == "cascade" else None
    trained = policies.train(policy, examples, check)
    trained.extra.update({"weak": pair.weak, "strong": pair.strong})
    trained.save(out_path)
    summary = {
        "out": out_path,
        "policy": policy,
        "records": trained.trained_on,
        "fingerprint": trained.fingerprint,
        "weak": pair.weak,
        "strong": pair.strong,
    }
    if as_json:
        echo_json(summary)
    else:
        click.echo(
            f"trained {policy} on {trained.trained_on} records "
            f"({pair.weak} -> {pair.strong}); wrote {out_path} "
            f"(fingerprint {trained.fingerprint[:12]})"
        )
