"""The SQLite store: exact round trips, WAL, transactions, thread safety, no stray files."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from freehold.ledger import LedgerError, LedgerNotFound, LedgerRow
from freehold.ledger.migrations import latest_version
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    with SqliteStore(tmp_path / "ledger.db") as opened:
        opened.migrate()
        yield opened


def varied_rows(make_row: MakeRow) -> list[LedgerRow]:
    """Rows exercising every kind of value: tiny and large costs, None fields, flags."""
    return [
        make_row(0, cost_usd=Decimal("0.000000001")),
        make_row(1, cost_usd=Decimal("12345.678901234"), usage_estimated=True, stream=True),
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


def test_round_trip_is_exact(store: SqliteStore, make_row: MakeRow) -> None:
    rows = varied_rows(make_row)
    store.write(rows)
    back = store.rows()
    assert back == rows
    assert [r.cost_usd for r in back] == [
        Decimal("0.000000001"),
        Decimal("12345.678901234"),
        Decimal("0E-9"),
        Decimal("0.000012345"),
    ]
    assert back[2].key_id is None
    assert back[2].served_model is None
    assert back[2].ttft_ms is None
    assert back[1].usage_estimated is True
    assert back[1].stream is True
    assert back[0].usage_estimated is False
    assert back[0].stream is False
    for row in back:
        assert row.ts.utcoffset() == timedelta(0)
        assert row.ts.tzinfo is UTC
    assert back[0].ts == datetime(2025, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


def test_cost_is_stored_as_integer_nano_dollars(
    tmp_path: Path, store: SqliteStore, make_row: MakeRow
) -> None:
    store.write([make_row(0, cost_usd=Decimal("1.000000001"))])
    conn = sqlite3.connect(tmp_path / "ledger.db")
    try:
        cost, kind, ts = conn.execute(
            "SELECT cost_nusd, typeof(cost_nusd), ts FROM freehold_ledger"
        ).fetchone()
    finally:
        conn.close()
    assert (cost, kind) == (1_000_000_001, "integer")
    assert ts == "2025-01-31T12:00:00.123456+00:00"


def test_other_time_zones_are_stored_as_utc(store: SqliteStore, make_row: MakeRow) -> None:
    paris = timezone(timedelta(hours=1))
    store.write([make_row(0, ts=datetime(2025, 1, 31, 13, 0, tzinfo=paris))])
    (row,) = store.rows()
    assert row.ts == datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    assert row.ts.tzinfo is UTC


def test_rows_are_oldest_first_and_since_filters(store: SqliteStore, make_row: MakeRow) -> None:
    rows = [make_row(i) for i in (3, 1, 2, 0)]
    store.write(rows)
    assert [r.id for r in store.rows()] == ["req-00000", "req-00001", "req-00002", "req-00003"]
    since = rows[2].ts  # row 2's ts: inclusive
    assert [r.id for r in store.rows(since)] == ["req-00002", "req-00003"]
    assert store.rows(since + timedelta(hours=1)) == []


def test_wal_mode_is_on(tmp_path: Path, store: SqliteStore) -> None:
    assert store.journal_mode() == "wal"
    other = sqlite3.connect(tmp_path / "ledger.db")
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_a_reader_sees_rows_while_the_store_stays_open(
    tmp_path: Path, store: SqliteStore, make_row: MakeRow
) -> None:
    store.write([make_row(1)])
    with SqliteStore(tmp_path / "ledger.db", create=False) as reader:
        assert [r.id for r in reader.rows()] == ["req-00001"]


def test_write_is_all_or_none(store: SqliteStore, make_row: MakeRow) -> None:
    bad = make_row(2, route=None)  # violates NOT NULL
    with pytest.raises(LedgerError, match="NOT NULL"):
        store.write([make_row(1), bad])
    assert store.rows() == []
    store.write([make_row(1)])  # the connection is usable afterwards
    assert len(store.rows()) == 1


def test_rewriting_a_row_id_is_skipped(store: SqliteStore, make_row: MakeRow) -> None:
    store.write([make_row(1), make_row(2)])
    store.write([make_row(2, status=500), make_row(3)])
    rows = store.rows()
    assert [r.id for r in rows] == ["req-00001", "req-00002", "req-00003"]
    assert rows[1].status == 200


def test_empty_write_is_a_no_op(store: SqliteStore) -> None:
    store.write([])
    assert store.rows() == []


def test_creates_the_parent_directory(tmp_path: Path, make_row: MakeRow) -> None:
    path = tmp_path / "a" / "b" / "ledger.db"
    with SqliteStore(path) as created:
        created.migrate()
        created.write([make_row(0)])
    assert path.is_file()


def test_reading_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "ledger.db"
    with pytest.raises(LedgerNotFound, match=re.escape(f"no ledger at {path} yet")):
        SqliteStore(path, create=False)
    assert not path.parent.exists()


def test_an_unmigrated_file_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with SqliteStore(path, create=False) as reader:
        assert reader.schema_version() == 0
        assert reader.rows() == []


def test_memory_store(make_row: MakeRow) -> None:
    with SqliteStore(":memory:") as memory:
        assert memory.migrate() == latest_version("sqlite")
        memory.write([make_row(0)])
        assert memory.rows() == [make_row(0)]
        assert memory.journal_mode() == "memory"


def test_shared_between_threads(store: SqliteStore, make_row: MakeRow) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                store.write([make_row(n * 100 + i)])
                store.rows()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.rows()) == 100


def test_closed_store_refuses_and_closes_twice(tmp_path: Path) -> None:
    opened = SqliteStore(tmp_path / "c.db")
    opened.close()
    opened.close()
    with pytest.raises(LedgerError, match="closed"):
        opened.rows()
