"""summarise(): hand-computed totals, nearest-rank percentiles and spend per served model."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from freehold.ledger import LedgerRow, Summary, percentile, summarise

MakeRow = Callable[..., LedgerRow]


def test_percentile_nearest_rank() -> None:
    assert percentile([40, 10, 30, 20], 50) == 20  # rank ceil(0.5 * 4) = 2
    assert percentile([40, 10, 30, 20], 95) == 40  # rank ceil(0.95 * 4) = 4
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 50) == 10.0  # rank 10
    assert percentile(values, 95) == 19.0  # rank 19
    assert percentile(values, 100) == 20.0
    assert percentile([7.5], 50) == percentile([7.5], 95) == 7.5
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="p must be"):
        percentile([1.0], 0)


def sample(make_row: MakeRow) -> list[LedgerRow]:
    return [
        make_row(0, served_model="big", latency_ms=100.0, ttft_ms=10.0,
                 prompt_tokens=100, completion_tokens=50, cost_usd=Decimal("0.000300000")),
        make_row(1, served_model="big", latency_ms=300.0, ttft_ms=None,
                 prompt_tokens=200, completion_tokens=25, cost_usd=Decimal("0.000000001"),
                 status=499, usage_estimated=True),
        make_row(2, served_model="small", latency_ms=50.0, ttft_ms=20.0,
                 prompt_tokens=10, completion_tokens=5, cost_usd=Decimal("0.000000002")),
        make_row(3, served_model="small", latency_ms=70.0, ttft_ms=30.0,
                 prompt_tokens=10, completion_tokens=5, cost_usd=Decimal("0.000000002"),
                 status=399),
        make_row(4, served_model=None, requested_model="nope", latency_ms=1.0, ttft_ms=None,
                 prompt_tokens=0, completion_tokens=0, cost_usd=Decimal(0), status=404,
                 error_type="invalid_request_error"),
    ]  # fmt: skip


def test_totals(make_row: MakeRow) -> None:
    summary = summarise(sample(make_row))
    assert summary.requests == 5
    assert summary.errors == 2  # 499 and 404; 399 is not an error
    assert (summary.prompt_tokens, summary.completion_tokens) == (320, 85)
    assert summary.total_tokens == 405
    assert summary.spend == Decimal("0.000300005")
    assert summary.estimated_rows == 1
    # latencies sorted: 1, 50, 70, 100, 300 -> p50 rank 3, p95 rank 5
    assert (summary.latency_p50_ms, summary.latency_p95_ms) == (70.0, 300.0)
    # ttfts sorted: 10, 20, 30 -> p50 rank 2, p95 rank 3
    assert (summary.ttft_p50_ms, summary.ttft_p95_ms) == (20.0, 30.0)
    assert summary.first_ts == make_row(0).ts
    assert summary.last_ts == make_row(4).ts


def test_per_model_highest_spend_first(make_row: MakeRow) -> None:
    models = {m.model: m for m in summarise(sample(make_row)).models}
    assert [m.model for m in summarise(sample(make_row)).models] == ["big", "small", "-"]
    big, small, none = models["big"], models["small"], models["-"]
    assert (big.requests, big.errors, big.total_tokens) == (2, 1, 375)
    assert big.spend == Decimal("0.000300001")
    assert (big.latency_p50_ms, big.latency_p95_ms) == (100.0, 300.0)
    assert (small.requests, small.errors, small.spend) == (2, 0, Decimal("0.000000004"))
    assert (small.latency_p50_ms, small.latency_p95_ms) == (50.0, 70.0)
    assert (none.requests, none.errors, none.spend) == (1, 1, Decimal(0))


def test_to_json(make_row: MakeRow) -> None:
    data = summarise(sample(make_row)).to_json()
    assert data["spend_usd"] == "0.000300005"
    assert data["requests"] == 5
    assert data["errors"] == 2
    assert data["estimated_rows"] == 1
    assert data["latency_p95_ms"] == 300.0
    assert data["ttft_p50_ms"] == 20.0
    assert data["first_ts"] == "2025-01-31T12:00:00.123456+00:00"
    assert list(data["models"]) == ["big", "small", "-"]
    assert data["models"]["small"] == {
        "requests": 2,
        "errors": 0,
        "prompt_tokens": 20,
        "completion_tokens": 10,
        "total_tokens": 30,
        "spend_usd": "0.000000004",
        "latency_p50_ms": 50.0,
        "latency_p95_ms": 70.0,
    }


def test_empty() -> None:
    summary = summarise([])
    assert summary == Summary()
    data = summary.to_json()
    assert data["requests"] == 0
    assert data["spend_usd"] == "0.000000000"
    assert data["latency_p50_ms"] is None
    assert data["models"] == {}
