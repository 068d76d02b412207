"""Replay metrics of a routing policy: pure functions over per-record escalation scores.

A policy gives each record an *escalation score*; escalating the top ``k`` records (highest
scores first) to the strong model gives quality ``Q(k)`` = mean over records of the strong
score where escalated, else the weak score, and cost ``C(k)`` = weak calls for the rest (a
cascade pays the weak call on every record) + strong calls for the escalated ones.

Ties: records with equal scores are escalated *in expectation* over a random order among
them — inside a tie group, each record's gain and cost are replaced by the group's mean. A
constant score is then exactly the random policy: PGR(c) = c and APGR 0.5. Between whole
records, ``Q`` and ``C`` are linear in the number escalated, so a strong-call share ``c``
escalates ``c · n`` records (fractional counts interpolated).

- PGR(c) = (Q(c) − Q_weak) / (Q_strong − Q_weak) (undefined, reported as None, when equal).
- APGR: trapezoidal area under PGR at c ∈ {0, 0.1, …, 1}.
- CPT(x): the smallest share c with PGR(c) ≥ x, solved exactly on the piecewise-linear curve.
- cost@95: the smallest cost, as a fraction of the all-strong cost, at which Q ≥ 0.95 Q_strong.
- Oracle: escalates exactly where the strong score is higher (score = strong − weak);
  ``oracle_share`` is the share of such records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from freehold.routing.records import Truth

Array = NDArray[np.float64]
SHARES = tuple(i / 10 for i in range(11))
"""The strong-call shares APGR is measured at."""


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Per-record scores and costs as arrays (the evaluator's view of a record set)."""

    weak: Array
    strong: Array
    weak_cost: Array
    strong_cost: Array

    @classmethod
    def of(cls, truths: list[Truth]) -> Outcomes:
        def column(name: str) -> Array:
            return np.array([getattr(t, name) for t in truths], dtype=np.float64)

        return cls(
            column("weak_score"), column("strong_score"), column("weak_cost"), column("strong_cost")
        )

    def __len__(self) -> int:
        return len(self.weak)


@dataclass(frozen=True, slots=True)
class Curve:
    """``quality[k]`` and ``cost[k]`` (dollars) when the top ``k`` records are escalated."""

    quality: Array
    cost: Array

    @property
    def n(self) -> int:
        return len(self.quality) - 1

    def quality_at(self, share: float) -> float:
        return float(np.interp(share * self.n, np.arange(self.n + 1), self.quality))

    def cost_at(self, share: float) -> float:
        return float(np.interp(share * self.n, np.arange(self.n + 1), self.cost))


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures ``bench route`` reports for one policy on one record set."""

    apgr: float | None
    cpt50: float | None
    cpt80: float | None
    cost_at_95: float | None
    weak: float
    strong: float
    oracle_share: float


def _tie_means(values: Array, groups: NDArray[np.intp]) -> Array:
    """Each value replaced by the mean of its tie group (groups numbered 0, 1, … in order)."""
    sums = np.bincount(groups, weights=values)
    counts = np.bincount(groups)
    return (sums / counts)[groups]


def curve(scores: Array, outcomes: Outcomes, cascade: bool = False) -> Curve:
    """Quality and cost against the number of records escalated, highest scores first."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked = np.asarray(scores, dtype=np.float64)[order]
    groups = np.concatenate([[0], np.cumsum(ranked[1:] != ranked[:-1])]).astype(np.intp)
    gain = _tie_means((outcomes.strong - outcomes.weak)[order], groups)
    saved = np.zeros(len(outcomes)) if cascade else outcomes.weak_cost
    extra = _tie_means((outcomes.strong_cost - saved)[order], groups)
    n = max(len(outcomes), 1)
    quality = float(outcomes.weak.mean()) + np.concatenate([[0.0], np.cumsum(gain)]) / n
    cost = float(outcomes.weak_cost.sum()) + np.concatenate([[0.0], np.cumsum(extra)])
    return Curve(quality, cost)


def _first_crossing(values: Array, target: float) -> float | None:
    """The smallest fractional index at which the piecewise-linear ``values`` reach ``target``."""
    reached = np.nonzero(values >= target - 1e-12)[0]
    if not len(reached):
        return None
    i = int(reached[0])
    if i == 0:
        return 0.0
    low, high = float(values[i - 1]), float(values[i])
    return i - 1 + (target - low) / (high - low)


def pgr(c: Curve, weak: float, strong: float) -> Array | None:
    """PGR for every number of escalated records, or None when strong equals weak."""
    if abs(strong - weak) < 1e-12:
        return None
    return (c.quality - weak) / (strong - weak)


def apgr(c: Curve, weak: float, strong: float) -> float | None:
    """Trapezoidal area under PGR(c) at c ∈ {0, 0.1, …, 1}."""
    if abs(strong - weak) < 1e-12:
        return None
    values = [(c.quality_at(s) - weak) / (strong - weak) for s in SHARES]
    step = SHARES[1] - SHARES[0]
    return float(step * (sum(values) - (values[0] + values[-1]) / 2))


def cpt(c: Curve, weak: float, strong: float, target: float) -> float | None:
    """The smallest strong-call share at which PGR reaches ``target`` (e.g. 0.5)."""
    gains = pgr(c, weak, strong)
    if gains is None:
        return None
    index = _first_crossing(gains, target)
    return None if index is None else index / c.n if c.n else 0.0


def cost_at_quality(c: Curve, target: float, all_strong_cost: float) -> float | None:
    """The smallest cost (fraction of ``all_strong_cost``) at which quality reaches ``target``."""
    index = _first_crossing(c.quality, target)
    if index is None or all_strong_cost <= 0:
        return None
    at_crossing = float(np.interp(index, np.arange(c.n + 1), c.cost))
    later = c.cost[int(np.ceil(index)) :]
    return min(at_crossing, float(later.min()) if len(later) else at_crossing) / all_strong_cost


def oracle_scores(outcomes: Outcomes) -> Array:
    """The oracle's escalation score: how much better the strong answer is."""
    return outcomes.strong - outcomes.weak


def random_scores(outcomes: Outcomes) -> Array:
    """The random baseline: one score for all (ties are escalated in expectation)."""
    return np.zeros(len(outcomes))


def summarize(scores: Array, outcomes: Outcomes, cascade: bool = False) -> Summary:
    """APGR, CPT(50%), CPT(80%) and cost@95% of a policy's scores on a record set."""
    c = curve(scores, outcomes, cascade)
    weak, strong = float(outcomes.weak.mean()), float(outcomes.strong.mean())
    return Summary(
        apgr=apgr(c, weak, strong),
        cpt50=cpt(c, weak, strong, 0.5),
        cpt80=cpt(c, weak, strong, 0.8),
        cost_at_95=cost_at_quality(c, 0.95 * strong, float(outcomes.strong_cost.sum())),
        weak=weak,
        strong=strong,
        oracle_share=float(np.mean(outcomes.strong > outcomes.weak)) if len(outcomes) else 0.0,
    )
