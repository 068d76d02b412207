"""Ledger test fixtures: a row maker, and a migrated store of each kind (PostgreSQL fixtures
live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from freehold.ledger import LedgerRow
from freehold.ledger.base import LedgerStore
from freehold.ledger.postgres import PostgresStore
from freehold.ledger.sqlite import SqliteStore

T0 = datetime(2025, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)

MakeRow = Callable[..., LedgerRow]


def _make_row(i: int = 0, **overrides: Any) -> LedgerRow:
    values: dict[str, Any] = {
        "id": f"req-{i:05d}",
        "ts": T0 + timedelta(seconds=i),
        "key_id": "key-a",
        "requested_model": "small",
        "served_model": "small",
        "prompt_tokens": 10 + i,
        "completion_tokens": 5,
        "cost_usd": Decimal("0.000012345"),
        "latency_ms": 120.5,
        "ttft_ms": 35.25,
        "status": 200,
        "error_type": None,
        "route": "/v1/chat/completions",
        "usage_estimated": False,
        "stream": False,
    }
    values.update(overrides)
    return LedgerRow(**values)


@pytest.fixture
def make_row() -> MakeRow:
    """``make_row(i, **overrides)``: a plausible row, ``id`` and ``ts`` distinct per ``i``."""
    return _make_row


@pytest.fixture
def pg_url_tokyo(pg_url: str) -> str:
    """As ``pg_url``, with the session time zone set far from UTC."""
    return pg_url + "%20-ctimezone%3DAsia/Tokyo"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    """A migrated store: SQLite, then PostgreSQL (a fresh schema)."""
    opened: LedgerStore
    if request.param == "sqlite":
        opened = SqliteStore(tmp_path / "ledger.db")
    else:
        opened = PostgresStore(request.getfixturevalue("pg_url"))
    opened.migrate()
    yield opened
    opened.close()
