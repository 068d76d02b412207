"""``freehold router train``: fit a routing model on recorded outcomes and save it as JSON.

The artefact (see :mod:`freehold.routing.learners`) holds the coefficients, the feature
recipe, the sha256 fingerprint of the training records and a format version; never a pickle.
"""

from __future__ import annotations

import click

from freehold.cli.bench import LEARNED, arithmetic_check
from freehold.cli.common import config_option, echo_json, load_config, load_extra
from freehold.core.importer import MissingExtra
from freehold.ledger import LedgerError, open_store
from freehold.routing.records import (
    Example,
    Pair,
    RecordError,
    load_examples,
    served_examples,
)

#: Served examples needed, with both outcomes present, before training from the ledger.
MIN_SERVED_EXAMPLES = 10


def ledger_examples(url: str, weak: str) -> list[Example]:
    """The ``weak`` model's kept answers, judged by their feedback (mean score) or, without
    feedback, as wrong when a cascade escalated past them after they failed its checks."""
    try:
        store = open_store(url, create=False)
    except (LedgerError, MissingExtra) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        texts, feedback, rows = store.texts(), store.feedback(), store.rows()
    finally:
        store.close()
    scores: dict[str, list[float]] = {}
    for item in feedback:
        scores.setdefault(item.request_id, []).append(item.score)
    escalated = {
        row.id
        for row in rows
        if len(row.attempt_log) > 1 and row.attempt_log[0].get("validation") == "fail"
    }
    outcomes = []
    for text in texts:
        if text.model != weak:
            continue
        if text.request_id in scores:
            judged = scores[text.request_id]
            outcomes.append((text.request_id, text.prompt, text.answer, sum(judged) / len(judged)))
        elif text.request_id in escalated:
            outcomes.append((text.request_id, text.prompt, text.answer, 0.0))
    examples = served_examples(outcomes)
    labels = {e.truth.weak_score >= 0.5 for e in examples}
    if len(examples) < MIN_SERVED_EXAMPLES or len(labels) < 2:
        raise click.ClickException(
            f"the ledger holds {len(examples)} judged answers of {weak!r} "
            f"(at least {MIN_SERVED_EXAMPLES}, good and bad, are needed): keep texts "
            "(training.keep_text: true) and send POST /v1/feedback"
        )
    return examples


@click.group()
def router() -> None:
    """Routing models."""


@router.command("train")
@click.option("--policy", required=True, type=click.Choice(LEARNED))
@click.option(
    "--records",
    "record_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Routing-record JSONL files (repeat for several).",
)
@click.option(
    "--from-ledger",
    is_flag=True,
    help="Train on served traffic instead: the --weak model's answers kept in the ledger "
    "(training.keep_text) with their POST /v1/feedback scores, and cascade escalations.",
)
@config_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--weak", default=None, help="The weak model's name (default: the cheaper one).")
@click.option("--strong", default=None, help="The strong model's name (default: the dearer one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def train(
    policy: str,
    record_files: tuple[str, ...],
    from_ledger: bool,
    config_path: str | None,
    out_path: str,
    weak: str | None,
    strong: str | None,
    as_json: bool,
) -> None:
    """Train a predictive or cascade router and write it to --out (JSON)."""
    if from_ledger == bool(record_files):
        raise click.UsageError("give either --records FILES or --from-ledger")
    train_policy = load_extra("freehold.routing.policies:train", "routing", "freehold router train")
    if from_ledger:
        if weak is None:
            raise click.UsageError("--from-ledger needs --weak MODEL (whose answers to learn)")
        examples = ledger_examples(load_config(config_path).ledger, weak)
        pair = Pair(weak, strong or "escalation")
    else:
        try:
            examples, pair = load_examples(record_files, weak, strong)
        except (OSError, RecordError) as exc:
            raise click.ClickException(str(exc)) from None
    check = arithmetic_check if policy == "cascade" else None
    trained = train_policy(policy, examples, check)
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
