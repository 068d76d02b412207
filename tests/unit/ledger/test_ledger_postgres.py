"""The PostgreSQL store against the real server, each test in its own schema."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from freehold.core.importer import MissingExtra
from freehold.ledger import BatchedWriter, LedgerError, LedgerRow, open_store
from freehold.ledger.migrations import latest_version
from freehold.ledger.postgres import PostgresStore

MakeRow = Callable[..., LedgerRow]


@pytest.fixture
def store(pg_url_tokyo: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url_tokyo) as opened:
        opened.migrate()
        yield opened


def varied_rows(make_row: MakeRow) -> list[LedgerRow]:
    return [
        make_row(0, cost_usd=Decimal("0.000000001")),
        make_row(1, cost_usd=Decimal("9000000.123456789"), usage_estimated=True, stream=True),
        make_row(
            2,
            key_id=None,
            requested_model=None,
            served_model=None,
            prompt_tokens=0,
            completion_tokens=0,
            cost_usd=Decimal(0),
            ttft_ms=None,
            status=401,
            error_type="authentication_error",
        ),
        make_row(3, status=502, error_type="upstream_error", latency_ms=0.001, ttft_ms=0.0),
    ]


@pytest.mark.postgres
def test_migrations_fresh_rerun_and_version(pg_url: str) -> None:
    with PostgresStore(pg_url) as fresh:
        assert fresh.schema_version() == 0
        assert fresh.rows() == []  # no table yet: empty, not an error
        assert fresh.migrate() == latest_version("sqlite")
        assert fresh.migrate() == latest_version("sqlite")
        assert fresh.schema_version() == latest_version("sqlite")
    with psycopg.connect(pg_url) as conn:
        versions = conn.execute("SELECT version FROM freehold_schema_version").fetchall()
        kind = conn.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'freehold_ledger' "
            "AND column_name IN ('cost_nusd', 'ts') ORDER BY column_name"
        ).fetchall()
        index = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname = 'freehold_ledger_ts'"
        ).fetchall()
    assert versions == [(v,) for v in range(1, latest_version("postgresql") + 1)]
    assert kind == [("bigint",), ("timestamp with time zone",)]
    assert index == [("freehold_ledger_ts",)]


@pytest.mark.postgres
def test_round_trip_is_exact_and_utc(store: PostgresStore, make_row: MakeRow) -> None:
    rows = varied_rows(make_row)
    store.write(rows)
    back = store.rows()
    assert back == rows
    assert [r.cost_usd for r in back] == [
        Decimal("0.000000001"),
        Decimal("9000000.123456789"),
        Decimal("0E-9"),
        Decimal("0.000012345"),
    ]
    assert back[2].key_id is None
    assert back[2].ttft_ms is None
    assert back[2].served_model is None
    assert back[1].usage_estimated is True
    assert back[1].stream is True
    for row in back:
        assert row.ts.tzinfo is UTC  # although the session's zone is Asia/Tokyo
    assert back[0].ts == datetime(2025, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.postgres
def test_cost_is_stored_as_integer_nano_dollars(
    store: PostgresStore, pg_url: str, make_row: MakeRow
) -> None:
    store.write([make_row(0, cost_usd=Decimal("1.000000001"))])
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT cost_nusd FROM freehold_ledger").fetchone() == (1_000_000_001,)


@pytest.mark.postgres
def test_since_and_order(store: PostgresStore, make_row: MakeRow) -> None:
    rows = [make_row(i) for i in (3, 1, 2, 0)]
    store.write(rows)
    assert [r.id for r in store.rows()] == ["req-00000", "req-00001", "req-00002", "req-00003"]
    assert [r.id for r in store.rows(rows[2].ts)] == ["req-00002", "req-00003"]
    assert store.rows(rows[0].ts + timedelta(seconds=1)) == []


@pytest.mark.postgres
def test_write_is_all_or_none_and_ids_are_not_doubled(
    store: PostgresStore, make_row: MakeRow
) -> None:
    with pytest.raises(LedgerError):
        store.write([make_row(1), make_row(2, route=None)])
    assert store.rows() == []
    store.write([make_row(1), make_row(2)])
    store.write([make_row(2, status=500), make_row(3)])
    assert [(r.id, r.status) for r in store.rows()] == [
        ("req-00001", 200),
        ("req-00002", 200),
        ("req-00003", 200),
    ]


@pytest.mark.postgres
def test_schema_parameter_and_factory(pg_server: str, pg_schema: str, make_row: MakeRow) -> None:
    with PostgresStore(pg_server, schema=pg_schema) as direct:
        direct.migrate()
        direct.write([make_row(5)])
    store = open_store(f"{pg_server}?options=-csearch_path%3D{pg_schema}")
    try:
        assert isinstance(store, PostgresStore)
        assert [r.id for r in store.rows()] == ["req-00005"]
    finally:
        store.close()
    scheme_alias = pg_server.replace("postgresql://", "postgres://", 1)
    with PostgresStore(scheme_alias, schema=pg_schema) as alias:
        assert len(alias.rows()) == 1


@pytest.mark.postgres
def test_reconnects_after_the_server_drops_the_connection(
    store: PostgresStore, pg_server: str, make_row: MakeRow
) -> None:
    store.write([make_row(1)])
    pid = store.backend_pid()
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    writer = BatchedWriter(store, initial_backoff_s=0.01)
    writer.start()
    writer.record(make_row(2))
    assert writer.flush(timeout=10)
    assert writer.close()
    assert writer.stats().failures == 1  # the dropped connection, then a fresh one
    assert [r.id for r in store.rows()] == ["req-00001", "req-00002"]
    assert store.backend_pid() != pid


def test_unreachable_server_is_a_ledger_error() -> None:
    with pytest.raises(LedgerError, match="PostgreSQL ledger"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/test", connect_timeout_s=2)


def test_bad_schema_name_is_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/test", schema="x; DROP TABLE y")


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtra, match=r"pip install 'freehold\[postgres\]'"):
        open_store("postgresql://postgres@127.0.0.1:5432/test")
