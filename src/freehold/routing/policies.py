"""Routing policies for replay: each gives every record an escalation score.

- ``predictive``: before any call, P(the weak answer is acceptable — no worse than the strong
  one) from prompt features; escalation score = 1 − p.
- ``cascade``: after the weak call, P(the weak answer is correct) from prompt and weak-answer
  features (its arithmetic checked by the :data:`~freehold.routing.features.AnswerCheck`
  passed in); escalation score = 1 − p. Its cost includes the weak call on every record.
- ``random`` and ``oracle``: the baselines of :mod:`freehold.routing.metrics` (the oracle
  reads the scores, so it is a bound, never a policy to deploy).

Learned policies see only :class:`~freehold.routing.records.Record` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from freehold.routing import crossval, metrics
from freehold.routing.features import AnswerCheck, Recipe, matrix
from freehold.routing.learners import Hyper, Logistic, Router, fit
from freehold.routing.records import Example, Record, fingerprint

LEARNED = ("predictive", "cascade")
BASELINES = ("random", "oracle")
POLICIES = LEARNED + BASELINES

LABELS = {
    "predictive": "weak_not_worse",  # weak score >= strong score
    "cascade": "weak_correct",  # weak score >= 0.5 (scores normalised to 0-1)
}


def is_cascade(policy: str) -> bool:
    """Whether the policy pays for the weak call on every record."""
    return policy == "cascade"


@dataclass(frozen=True, slots=True)
class Settings:
    """How a learned policy is built: its feature recipe and training settings."""

    recipe: Recipe
    hyper: Hyper = field(default_factory=Hyper)


def default_settings(policy: str) -> Settings:
    """The tuned defaults (tuned on the development records only).

    Hashed n-grams are off by default: under task-grouped cross-validation (unseen topics)
    they lowered APGR on the MMLU dev file (0.574 dense only, 0.546 with 256 hashed word
    n-grams, 0.50 with 4096 word + char n-grams); a recipe can still turn them on.
    """
    if policy == "cascade":
        return Settings(Recipe(hash_dims=0, char_ngrams=(), answer=True), Hyper(l2=30.0))
    return Settings(Recipe(hash_dims=0, char_ngrams=()), Hyper(l2=10.0))


def labels(policy: str, examples: Sequence[Example]) -> np.ndarray:
    """The 0/1 training label of each example for ``policy``."""
    if LABELS[policy] == "weak_correct":
        return np.array([float(e.truth.weak_score >= 0.5) for e in examples])
    return np.array([float(e.truth.weak_score >= e.truth.strong_score) for e in examples])


def train(
    policy: str,
    examples: Sequence[Example],
    check: AnswerCheck | None = None,
    settings: Settings | None = None,
) -> Router:
    """Train a ``predictive`` or ``cascade`` router on recorded outcomes."""
    if policy not in LEARNED:
        raise ValueError(f"only {', '.join(LEARNED)} are trained, not {policy!r}")
    chosen = settings or default_settings(policy)
    x = matrix([e.record for e in examples], chosen.recipe, check)
    model = fit(x, labels(policy, examples), chosen.hyper)
    return Router(
        policy, LABELS[policy], chosen.recipe, model, fingerprint(examples), len(examples)
    )


def escalation(
    router: Router, records: Sequence[Record], check: AnswerCheck | None = None
) -> np.ndarray:
    """Escalation scores (1 − P(label)) of a trained router on records."""
    return 1.0 - router.model.probability(matrix(records, router.recipe, check))


def baseline_scores(policy: str, examples: Sequence[Example]) -> np.ndarray:
    """Scores of the ``random`` or ``oracle`` baseline."""
    outcomes = metrics.Outcomes.of([e.truth for e in examples])
    if policy == "oracle":
        return metrics.oracle_scores(outcomes)
    return metrics.random_scores(outcomes)


def held_out_scores(
    policy: str,
    train_set: Sequence[Example],
    test_set: Sequence[Example],
    check: AnswerCheck | None = None,
    settings: Settings | None = None,
) -> np.ndarray:
    """Scores on ``test_set`` of ``policy`` trained on ``train_set``."""
    if policy in BASELINES:
        return baseline_scores(policy, test_set)
    router = train(policy, train_set, check, settings)
    return escalation(router, [e.record for e in test_set], check)


def cross_validated_scores(
    policy: str,
    examples: Sequence[Example],
    check: AnswerCheck | None = None,
    settings: Settings | None = None,
    k: int = crossval.DEFAULT_FOLDS,
    seed: int = crossval.DEFAULT_SEED,
) -> np.ndarray:
    """Out-of-fold scores: each record scored by a model that never saw its task (or,
    with one task, never saw the record). Features are computed once for all folds."""
    if policy in BASELINES:
        return baseline_scores(policy, examples)
    chosen = settings or default_settings(policy)
    x = matrix([e.record for e in examples], chosen.recipe, check)
    y = labels(policy, examples)
    scores = np.zeros(len(examples))
    for train_idx, test_idx in crossval.splits([e.record.task for e in examples], k, seed):
        model: Logistic = fit(x[train_idx], y[train_idx], chosen.hyper)
        scores[test_idx] = 1.0 - model.probability(x[test_idx])
    return scores
