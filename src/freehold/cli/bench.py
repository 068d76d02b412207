"""``freehold bench route``: replay routing records through policies, without calling models.

The replay itself (numpy, the ``routing`` extra) lives in :mod:`freehold.cli.bench_replay`
and loads when the command runs. The cascade's answer features read the weak answer's
arithmetic through :func:`arithmetic_check` (the validators live in another stage, so the
CLI, which sits above both, passes the check in).
"""

from __future__ import annotations

import click

from freehold.cli.common import load_extra
from freehold.validate.arithmetic import step_facts

arithmetic_check = step_facts

#: The policies of :mod:`freehold.routing.policies`, named here so that ``--help`` and option
#: checking need no numpy (a test keeps the two in step).
LEARNED = ("predictive", "cascade")
BASELINES = ("random", "oracle")
POLICIES = LEARNED + BASELINES


@click.group()
def bench() -> None:
    """Offline benchmarks."""


@bench.command("route")
@click.option(
    "--policy",
    "names",
    multiple=True,
    required=True,
    type=click.Choice(POLICIES),
    help="A policy to replay (repeat to compare several).",
)
@click.option(
    "--train",
    "train_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Record files to train on (repeat); alone: 5-fold cross-validation grouped by task.",
)
@click.option(
    "--test",
    "test_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Record files to score (repeat); one result per file and policy.",
)
@click.option("--weak", default=None, help="The weak model's name (default: the cheaper one).")
@click.option("--strong", default=None, help="The strong model's name (default: the dearer one).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a quality-vs-cost PNG (needs matplotlib).",
)
def route(
    names: tuple[str, ...],
    train_files: tuple[str, ...],
    test_files: tuple[str, ...],
    weak: str | None,
    strong: str | None,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """Replay routing records: APGR, CPT(50%), CPT(80%) and cost@95% per policy and file.

    Without --test, 5-fold cross-validation on the --train files (folds grouped by task)."""
    if not train_files and not test_files:
        raise click.UsageError("give --train files (cross-validation) and/or --test files")
    learned = [n for n in names if n in LEARNED]
    if test_files and learned and not train_files:
        raise click.UsageError(f"{', '.join(learned)} need --train files")
    replay = load_extra("freehold.cli.bench_replay:replay", "routing", "freehold bench route")
    replay(names, train_files, test_files, weak, strong, as_json, plot_path)
