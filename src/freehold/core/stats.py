"""Small statistics shared by the ledger summary, the economics report and the benchmarks."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], p: int) -> float | None:
    """Nearest-rank percentile of ``values`` (any order): the value of rank ``ceil(p·n/100)``
    once sorted; None when there are none."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    rank = -(-p * len(ordered) // 100)  # ceil without floats
    return ordered[rank - 1]
