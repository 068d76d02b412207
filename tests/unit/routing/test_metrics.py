"""Replay metrics on tiny record sets whose APGR/CPT/cost@95 are worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from freehold.routing import metrics
from freehold.routing.records import (
    DEFAULT_COMPLETION_TOKENS,
    RecordError,
    Truth,
    choose_pair,
    load_examples,
)


def ten() -> metrics.Outcomes:
    """Ten records. r0, r1: weak wrong, strong right (gain +1); r2: weak right, strong wrong
    (gain -1); r3..r9: both right. Weak quality 8/10 = 0.8, strong 9/10 = 0.9.
    Every weak call costs 1, every strong call 10 (all-strong cost 100)."""
    weak = [0.0, 0.0, 1.0] + [1.0] * 7
    strong = [1.0, 1.0, 0.0] + [1.0] * 7
    truths = [Truth(w, s, 1.0, 10.0) for w, s in zip(weak, strong, strict=True)]
    return metrics.Outcomes.of(truths)


# Scores rank r0 first, then r2, then r1, then the rest (all distinct).
SCORES = np.array([0.9, 0.7, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])


def test_quality_curve_by_hand() -> None:
    # escalation order r0 (+1), r2 (-1), r1 (+1), zeros: Q(k) = .8, .9, .8, .9, .9, ...
    c = metrics.curve(SCORES, ten())
    assert np.allclose(c.quality, [0.8, 0.9, 0.8] + [0.9] * 8)
    # predictive: 10 weak calls (10), each escalation swaps a 1 for a 10 (+9)
    assert np.allclose(c.cost, 10 + 9 * np.arange(11))
    # cascade: every weak call is paid, each escalation adds 10
    assert np.allclose(metrics.curve(SCORES, ten(), cascade=True).cost, 10 + 10 * np.arange(11))


def test_summary_by_hand() -> None:
    s = metrics.summarize(SCORES, ten())
    # PGR at c = 0, .1, ..., 1 (k = 0..10): 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1
    # APGR = 0.1 * (sum 9 - (first 0 + last 1) / 2) = 0.85
    assert s.apgr == pytest.approx(0.85)
    # PGR goes 0 -> 1 between k = 0 and 1: 50% at k = 0.5 (share 0.05), 80% at k = 0.8
    assert s.cpt50 == pytest.approx(0.05)
    assert s.cpt80 == pytest.approx(0.08)
    # 95% of strong = 0.855, reached at k = 0.55: cost 10 + 9 * 0.55 = 14.95 of 100
    assert s.cost_at_95 == pytest.approx(0.1495)
    assert (s.weak, s.strong, s.oracle_share) == pytest.approx((0.8, 0.9, 0.2))


def test_cascade_pays_for_every_cheap_call() -> None:
    # same crossing at k = 0.55; cascade cost 10 + 10 * 0.55 = 15.5 of 100
    s = metrics.summarize(SCORES, ten(), cascade=True)
    assert s.cost_at_95 == pytest.approx(0.155)
    assert s.apgr == pytest.approx(0.85)


def test_ties_are_escalated_in_expectation_so_random_scores_half() -> None:
    # one score for all: each escalation adds the mean gain 0.1/10, so PGR(c) = c
    s = metrics.summarize(metrics.random_scores(ten()), ten())
    assert s.apgr == pytest.approx(0.5)
    assert s.cpt50 == pytest.approx(0.5)
    assert s.cpt80 == pytest.approx(0.8)
    # 0.855 reached at k = 5.5: cost 10 + 9 * 5.5 = 59.5 of 100
    assert s.cost_at_95 == pytest.approx(0.595)


def test_oracle_by_hand() -> None:
    # oracle order: r0, r1 (gain 1, tied), the seven zeros (tied), r2 (gain -1)
    # Q(k) = .8, .9, 1.0 (k = 2..9), .9; PGR = 0, 1, 2 x 8, 1
    # APGR = 0.1 * (18 - (0 + 1) / 2) = 1.75; CPT(50%) at k = 0.5
    s = metrics.summarize(metrics.oracle_scores(ten()), ten())
    assert s.apgr == pytest.approx(1.75)
    assert s.cpt50 == pytest.approx(0.05)


def test_equal_quality_gives_no_pgr() -> None:
    same = metrics.Outcomes.of([Truth(1.0, 1.0, 1.0, 10.0)] * 4)
    s = metrics.summarize(np.arange(4.0), same)
    assert s.apgr is None and s.cpt50 is None
    assert s.cost_at_95 == pytest.approx(0.1)  # all-weak already reaches it: 4 of 40


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_records_pick_the_cheaper_model_and_hide_the_strong_answer(tmp_path: Path) -> None:
    row = {
        "id": "a",
        "task": "t",
        "prompt": "What is two plus two?",
        "reference": "4",
        "outcomes": {
            "gpt-4-1106-preview": {"score": 10, "response": "four"},
            "mixtral-8x7b-instruct-v0.1": {"score": 1, "response": "five"},
        },
    }
    examples, pair = load_examples([write(tmp_path / "r.jsonl", [row])])
    assert (pair.weak, pair.strong) == ("mixtral-8x7b-instruct-v0.1", "gpt-4-1106-preview")
    record, truth = examples[0].record, examples[0].truth
    assert record.weak_response == "five"
    assert "four" not in repr(record) and "reference" not in repr(record)
    assert (truth.weak_score, truth.strong_score) == (0.0, 1.0)  # normalised by the range
    assert truth.strong_cost > truth.weak_cost > 0


def test_missing_response_assumes_264_tokens(tmp_path: Path) -> None:
    row = {"id": "a", "task": "t", "prompt": "", "outcomes": {"w": {"score": 0}, "s": {"score": 1}}}
    examples, _ = load_examples(
        [write(tmp_path / "r.jsonl", [row])], weak="w", strong="s", prices={"w": 1e6, "s": 2e6}
    )
    assert examples[0].truth.weak_cost == pytest.approx(DEFAULT_COMPLETION_TOKENS)
    assert examples[0].truth.strong_cost == pytest.approx(2 * DEFAULT_COMPLETION_TOKENS)


def test_unpriced_models_must_be_named() -> None:
    rows = [{"outcomes": {"x": {"score": 1}, "y": {"score": 0}}}]
    with pytest.raises(RecordError, match="--weak/--strong"):
        choose_pair(rows)
    assert choose_pair(rows, weak="y").strong == "x"
