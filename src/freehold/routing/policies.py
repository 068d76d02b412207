"""Routing policies for replay: each gives every record an escalation score, the expected
gain of asking the strong model: P(strong answer acceptable) − P(weak answer acceptable).

Two models make it: the strong model's chance from the prompt alone (how hard the question
is), and the weak model's chance —

- ``predictive``: before any call, from the prompt alone;
- ``cascade``: after the weak call, from the prompt and the weak answer (its arithmetic
  checked by the :data:`~freehold.routing.features.AnswerCheck` passed in, and whether it is
  grounded in the question). Its cost includes the weak call on every record.

Ranking by the gain instead of by the weak model's chance alone spends strong calls where
they can help: a question both models fail is not worth escalating. On the development
records it raised cross-validated APGR from 0.576 to 0.60 (MMLU, predictive) and from 0.716
to 0.75 (GSM8K, cascade). Without strong labels (all alike, as when training from served
traffic) the router keeps the weak model alone: score = 1 − P(weak acceptable).
- ``random`` and ``oracle``: the baselines of :mod:`freehold.routing.metrics` (the oracle
  reads the scores, so it is a bound, never a policy to deploy).

Learned policies see only :class:`~freehold.routing.records.Record` values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from freehold.routing import crossval, metrics
from freehold.routing.features import AnswerCheck, Recipe, matrix
from freehold.routing.learners import Hyper, Logistic, Router, Strong, fit
from freehold.routing.records import Example, Record, fingerprint

LEARNED = ("predictive", "cascade")
BASELINES = ("random", "oracle")
POLICIES = LEARNED + BASELINES

#: What the routers learn: each model's answer acceptable (score ≥ 0.5 of its normalised
#: range), and the escalation score is the difference.
LABELS = {"predictive": "gain", "cascade": "gain"}


def is_cascade(policy: str) -> bool:
    """Whether the policy pays for the weak call on every record."""
    return policy == "cascade"


@dataclass(frozen=True, slots=True)
class Settings:
    """How a learned policy is built: its feature recipe and training settings."""

    recipe: Recipe
    hyper: Hyper = field(default_factory=Hyper)

    @property
    def strong_recipe(self) -> Recipe:
        """The strong model reads the prompt only."""
        return replace(self.recipe, answer=False, embedding_dim=0)


def default_settings(policy: str) -> Settings:
    """The tuned defaults (tuned on the development records only).

    Hashed n-grams are off by default: under task-grouped cross-validation (unseen topics)
    they lowered APGR on the MMLU dev file (0.574 dense only, 0.546 with 256 hashed word
    n-grams, 0.50 with 4096 word + char n-grams); a recipe can still turn them on.
    """
    if policy == "cascade":
        return Settings(
            Recipe(hash_dims=0, char_ngrams=(), answer=True, extra=True), Hyper(l2=30.0)
        )
    return Settings(Recipe(hash_dims=0, char_ngrams=()), Hyper(l2=30.0))


def weak_labels(examples: Sequence[Example]) -> np.ndarray:
    return np.array([float(e.truth.weak_score >= 0.5) for e in examples])


def strong_labels(examples: Sequence[Example]) -> np.ndarray:
    return np.array([float(e.truth.strong_score >= 0.5) for e in examples])


def _fit_strong(x: np.ndarray, y: np.ndarray, hyper: Hyper) -> Logistic | None:
    """The strong model, when its labels are not all alike (else there is nothing to learn)."""
    return fit(x, y, hyper) if 0 < y.sum() < len(y) else None


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
    records = [e.record for e in examples]
    model = fit(matrix(records, chosen.recipe, check), weak_labels(examples), chosen.hyper)
    strong_x = matrix(records, chosen.strong_recipe)
    strong_model = _fit_strong(strong_x, strong_labels(examples), chosen.hyper)
    strong = Strong(chosen.strong_recipe, strong_model) if strong_model is not None else None
    return Router(
        policy,
        LABELS[policy],
        chosen.recipe,
        model,
        fingerprint(examples),
        len(examples),
        strong=strong,
    )


def escalation(
    router: Router, records: Sequence[Record], check: AnswerCheck | None = None
) -> np.ndarray:
    """Escalation scores of a trained router on records: P(strong ok) − P(weak ok)."""
    weak = router.model.probability(matrix(records, router.recipe, check))
    if router.strong is None:
        return 1.0 - weak
    return router.strong.model.probability(matrix(records, router.strong.recipe)) - weak


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
    records = [e.record for e in examples]
    x, y = matrix(records, chosen.recipe, check), weak_labels(examples)
    xs, ys = matrix(records, chosen.strong_recipe), strong_labels(examples)
    scores = np.zeros(len(examples))
    for train_idx, test_idx in crossval.splits([r.task for r in records], k, seed):
        weak: Logistic = fit(x[train_idx], y[train_idx], chosen.hyper)
        scores[test_idx] = -weak.probability(x[test_idx])
        strong = _fit_strong(xs[train_idx], ys[train_idx], chosen.hyper)
        scores[test_idx] += strong.probability(xs[test_idx]) if strong is not None else 1.0
    return scores
