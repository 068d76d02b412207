"""Which deployment of a model takes the next call.

* ``weighted``: smooth weighted round robin (as nginx does it): over any run of calls each
  deployment's share is its weight's, to within one call, and the picks interleave;
* ``least_busy``: the fewest calls in flight, ties by weight;
* ``latency``: the power of two choices on observed latency: two deployments drawn by
  weight, the one with the lower moving average (of a whole answer's time, or a stream's
  time to first chunk) wins; one never measured wins, so each gets measured.

Only deployments whose breaker lets a call through are candidates, and a retry prefers one
not yet tried for the request. Example::

    deployment = pick(deployments, "weighted", tried=set(), rng=random.Random())
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from freehold.config.schema import ModelSettings
from freehold.pipeline.breaker import Breaker
from freehold.providers.base import Provider

#: Weight of the newest observation in a deployment's latency average.
EWMA_ALPHA = 0.3


@dataclass(slots=True, eq=False)
class Deployment:
    """One deployment of a model, and what the balancer knows of it."""

    name: str
    settings: ModelSettings
    provider: Provider
    breaker: Breaker
    weight: float = 1.0
    in_flight: int = 0
    latency_s: float | None = None
    last_error: str | None = None
    calls: int = 0
    _current: float = field(default=0.0, repr=False)

    def observe(self, seconds: float) -> None:
        """A call's latency, into the moving average."""
        if self.latency_s is None:
            self.latency_s = seconds
        else:
            self.latency_s += EWMA_ALPHA * (seconds - self.latency_s)


def _weighted(candidates: list[Deployment]) -> Deployment:
    total = sum(d.weight for d in candidates)
    for deployment in candidates:
        deployment._current += deployment.weight
    best = max(candidates, key=lambda d: d._current)
    best._current -= total
    return best


def _least_busy(candidates: list[Deployment]) -> Deployment:
    fewest = min(d.in_flight for d in candidates)
    return _weighted([d for d in candidates if d.in_flight == fewest])


def _latency(candidates: list[Deployment], rng: random.Random) -> Deployment:
    unmeasured = [d for d in candidates if d.latency_s is None]
    if unmeasured:
        return _weighted(unmeasured)
    if len(candidates) == 1:
        return candidates[0]
    weights = [d.weight for d in candidates]
    first, second = rng.choices(candidates, weights, k=2)
    return min((first, second), key=lambda d: d.latency_s or 0.0)


def pick(
    deployments: list[Deployment], strategy: str, tried: set[str], rng: random.Random
) -> Deployment | None:
    """The deployment for the next call, or None when every breaker is open."""
    open_now = [d for d in deployments if d.breaker.available()]
    untried = [d for d in open_now if d.name not in tried]
    candidates = untried or open_now
    if not candidates:
        return None
    if strategy == "least_busy":
        return _least_busy(candidates)
    if strategy == "latency":
        return _latency(candidates, rng)
    return _weighted(candidates)
