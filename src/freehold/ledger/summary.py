"""``summarise(rows)``: totals, spend and latency percentiles of ledger rows (pure).

Percentiles use the **nearest-rank** method: the p-th percentile of n sorted values is the
value at rank ``ceil(p * n / 100)`` (1-based). It is always a latency that was actually
observed, and needs no interpolation: for ``[10, 20, 30, 40]`` p50 is 20 and p95 is 40.
Rows whose ``ttft_ms`` is None take no part in the TTFT percentiles. An error is a row with
``status >= 400``. Rows with no served model (refused before routing) group under ``"-"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from freehold.core.money import ZERO, format_usd
from freehold.core.stats import percentile
from freehold.ledger.base import LedgerRow

NO_MODEL = "-"


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """Totals for one served model."""

    model: str
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    spend: Decimal
    latency_p50_ms: float | None
    latency_p95_ms: float | None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "spend_usd": format_usd(self.spend),
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """Totals over every row, and per served model (highest spend first, then by name)."""

    requests: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    spend: Decimal = ZERO
    estimated_rows: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    ttft_p50_ms: float | None = None
    ttft_p95_ms: float | None = None
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    models: tuple[ModelSummary, ...] = field(default_factory=tuple)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: spend as fixed-point text (nine decimals), times as ISO-8601."""
        return {
            "requests": self.requests,
            "errors": self.errors,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "spend_usd": format_usd(self.spend),
            "estimated_rows": self.estimated_rows,
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "ttft_p50_ms": self.ttft_p50_ms,
            "ttft_p95_ms": self.ttft_p95_ms,
            "first_ts": self.first_ts.isoformat() if self.first_ts else None,
            "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            "models": {m.model: m.to_json() for m in self.models},
        }


def _model_summary(model: str, rows: Sequence[LedgerRow]) -> ModelSummary:
    latencies = [row.latency_ms for row in rows]
    return ModelSummary(
        model=model,
        requests=len(rows),
        errors=sum(1 for row in rows if row.status >= 400),
        prompt_tokens=sum(row.prompt_tokens for row in rows),
        completion_tokens=sum(row.completion_tokens for row in rows),
        spend=sum((row.cost_usd for row in rows), ZERO),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
    )


def summarise(rows: Iterable[LedgerRow]) -> Summary:
    """Summarise ``rows``; an empty input gives zero counts and no percentiles."""
    items = list(rows)
    if not items:
        return Summary()
    by_model: dict[str, list[LedgerRow]] = {}
    for row in items:
        by_model.setdefault(row.served_model or NO_MODEL, []).append(row)
    models = sorted(
        (_model_summary(name, group) for name, group in by_model.items()),
        key=lambda m: (-m.spend, m.model),
    )
    overall = _model_summary("", items)
    ttfts = [row.ttft_ms for row in items if row.ttft_ms is not None]
    return Summary(
        requests=overall.requests,
        errors=overall.errors,
        prompt_tokens=overall.prompt_tokens,
        completion_tokens=overall.completion_tokens,
        spend=overall.spend,
        estimated_rows=sum(1 for row in items if row.usage_estimated),
        latency_p50_ms=overall.latency_p50_ms,
        latency_p95_ms=overall.latency_p95_ms,
        ttft_p50_ms=percentile(ttfts, 50),
        ttft_p95_ms=percentile(ttfts, 95),
        first_ts=min(row.ts for row in items),
        last_ts=max(row.ts for row in items),
        models=tuple(models),
    )
