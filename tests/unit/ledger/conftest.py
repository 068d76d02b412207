"""Ledger test fixtures: a row maker, and a private PostgreSQL schema per test.

PostgreSQL tests need the server at ``$FREEHOLD_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/test``). When it cannot be reached they are skipped,
with the reason, unless ``$CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from freehold.ledger import LedgerRow

PG_URL = os.environ.get("FREEHOLD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
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


def _with_options(url: str, options: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options={options}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL URL, once checked reachable (skip, or fail under CI, otherwise)."""
    import psycopg

    try:
        conn = psycopg.connect(PG_URL, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is unreachable at {PG_URL}: {str(exc).strip()}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this is a failure)")
        pytest.skip(f"{reason} (set CI=1 to make this a failure)")
    conn.close()
    return PG_URL


@pytest.fixture
def pg_schema(pg_server: str) -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    import psycopg
    from psycopg import sql

    schema = f"freehold_test_{secrets.token_hex(6)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield schema
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def pg_url(pg_server: str, pg_schema: str) -> str:
    """A URL whose connections use the test's schema (``search_path`` via ``options``)."""
    return _with_options(pg_server, f"-csearch_path%3D{pg_schema}")


@pytest.fixture
def pg_url_tokyo(pg_server: str, pg_schema: str) -> str:
    """As ``pg_url``, with the session time zone set far from UTC."""
    return _with_options(pg_server, f"-csearch_path%3D{pg_schema}%20-ctimezone%3DAsia/Tokyo")
