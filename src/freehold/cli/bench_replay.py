"""The replay behind ``freehold bench route`` (numpy, the ``routing`` extra): loaded only
when the command runs, so ``freehold`` itself starts without the extra.

With ``--test``: learned policies train on ``--train`` and are scored on each test file.
Without it: 5-fold cross-validation on the train files, folds grouped by task, out-of-fold
scores pooled and scored once per file.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import numpy as np

from freehold.cli.bench import arithmetic_check
from freehold.cli.common import echo_json, echo_table
from freehold.routing import metrics, policies
from freehold.routing.records import COST_ASSUMPTION, Example, RecordError, load_examples


def _result(name: str, policy: str, summary: metrics.Summary) -> dict[str, Any]:
    return {"file": name, "policy": policy, **asdict(summary)}


def _evaluate(
    name: str, names: Sequence[str], examples: Sequence[Example], scores: dict[str, np.ndarray]
) -> tuple[list[dict[str, Any]], list[tuple[str, metrics.Curve]], metrics.Outcomes]:
    outcomes = metrics.Outcomes.of([e.truth for e in examples])
    results, curves = [], []
    for policy in names:
        cascade = policies.is_cascade(policy)
        results.append(_result(name, policy, metrics.summarize(scores[policy], outcomes, cascade)))
        curves.append((policy, metrics.curve(scores[policy], outcomes, cascade)))
    return results, curves, outcomes


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"


def _echo_results(results: list[dict[str, Any]]) -> None:
    by_file: dict[str, list[dict[str, Any]]] = {}
    for row in results:
        by_file.setdefault(row["file"], []).append(row)
    for name, rows in by_file.items():
        first = rows[0]
        click.echo(
            f"\n{name}: weak {first['weak']:.3f}  strong {first['strong']:.3f}  "
            f"random (at 50% strong) {(first['weak'] + first['strong']) / 2:.3f}  "
            f"oracle escalates {100 * first['oracle_share']:.1f}%"
        )
        table = [
            [
                r["policy"],
                _fmt(r["apgr"]),
                _fmt(r["cpt50"], True),
                _fmt(r["cpt80"], True),
                _fmt(r["cost_at_95"], True),
            ]
            for r in rows
        ]
        echo_table(["policy", "APGR", "CPT(50%)", "CPT(80%)", "cost@95%"], table)


def _plot(path: str, panels: list[tuple[str, list[tuple[str, metrics.Curve]], float]]) -> None:
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        plt: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise click.ClickException(
            "--plot needs matplotlib: pip install matplotlib (the results above are complete)"
        ) from None
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (name, curves, all_strong) in zip(axes[0], panels, strict=True):
        for policy, c in curves:
            ax.plot(c.cost / all_strong, c.quality, label=policy)
        ax.set_title(name)
        ax.set_xlabel("cost (fraction of all-strong)")
        ax.set_ylabel("quality")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _scores_for(
    names: Sequence[str], train: list[Example] | None, test: list[Example]
) -> dict[str, np.ndarray]:
    if train is None:
        return {p: policies.cross_validated_scores(p, test, arithmetic_check) for p in names}
    return {p: policies.held_out_scores(p, train, test, arithmetic_check) for p in names}


def replay(
    names: tuple[str, ...],
    train_files: tuple[str, ...],
    test_files: tuple[str, ...],
    weak: str | None,
    strong: str | None,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """Replay the record files through the policies ``names`` and print the results."""
    try:
        train = load_examples(train_files, weak, strong)[0] if train_files else None
        sets = (
            [(Path(f).name, load_examples([f], weak, strong)[0]) for f in test_files]
            if test_files
            else [(", ".join(Path(f).name for f in train_files), train or [])]
        )
    except (OSError, RecordError) as exc:
        raise click.ClickException(str(exc)) from None
    results: list[dict[str, Any]] = []
    panels = []
    for name, examples in sets:
        scores = _scores_for(names, train if test_files else None, examples)
        rows, curves, outcomes = _evaluate(name, names, examples, scores)
        results.extend(rows)
        for baseline in policies.BASELINES:
            if baseline not in names:
                c = metrics.curve(policies.baseline_scores(baseline, examples), outcomes)
                curves.append((baseline, c))
        panels.append((name, curves, float(outcomes.strong_cost.sum()) or 1.0))
    click.echo(f"cost assumption: {COST_ASSUMPTION}", err=as_json)
    if as_json:
        echo_json({"results": results})
    else:
        _echo_results(results)
    if plot_path:
        _plot(plot_path, panels)
