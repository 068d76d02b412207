"""Versioned migrations: fresh, re-run, recorded versions, upgrades, refusal, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from freehold.ledger import LedgerError, LedgerRow
from freehold.ledger.codec import COLUMNS
from freehold.ledger.migrations import (
    POSTGRES_STEPS,
    SCHEMA_TABLE,
    SQLITE_STEPS,
    STEPS,
    Step,
    latest_version,
    migrate_sqlite,
    pending,
    sqlite_version,
)
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]
LATEST = len(SQLITE_STEPS)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    yield connection
    connection.close()


def _versions(conn: sqlite3.Connection) -> list[int]:
    return [v for (v,) in conn.execute(f"SELECT version FROM {SCHEMA_TABLE} ORDER BY version")]


def test_both_dialects_have_the_same_versions_and_columns() -> None:
    assert [s.version for s in SQLITE_STEPS] == [s.version for s in POSTGRES_STEPS]
    assert latest_version("sqlite") == latest_version("postgresql") == LATEST
    assert set(STEPS) == {"sqlite", "postgresql"}
    assert "cost_nusd" in COLUMNS
    assert "cost_usd" not in COLUMNS


def test_fresh_database_is_migrated_and_version_recorded(conn: sqlite3.Connection) -> None:
    assert sqlite_version(conn) == 0
    assert migrate_sqlite(conn) == LATEST
    assert _versions(conn) == list(range(1, LATEST + 1))
    columns = [row[1] for row in conn.execute("PRAGMA table_info(freehold_ledger)")]
    assert tuple(columns) == COLUMNS
    indexes = [row[1] for row in conn.execute("PRAGMA index_list(freehold_ledger)")]
    assert "freehold_ledger_ts" in indexes
    applied_at = conn.execute(f"SELECT applied_at FROM {SCHEMA_TABLE}").fetchone()[0]
    assert applied_at.endswith("+00:00")


def test_running_twice_is_a_no_op(tmp_path: Path, make_row: MakeRow) -> None:
    with SqliteStore(tmp_path / "l.db") as store:
        assert store.migrate() == LATEST
        store.write([make_row(1)])
        assert store.migrate() == LATEST
        assert store.schema_version() == LATEST
        assert [r.id for r in store.rows()] == ["req-00001"]
    with SqliteStore(tmp_path / "l.db") as again:
        assert again.migrate() == LATEST
        assert len(again.rows()) == 1


def test_a_later_step_applies_on_top_and_only_once(conn: sqlite3.Connection) -> None:
    assert migrate_sqlite(conn) == LATEST
    later = LATEST + 1
    steps = (*SQLITE_STEPS, Step(later, ("ALTER TABLE freehold_ledger ADD COLUMN note TEXT",)))
    assert migrate_sqlite(conn, steps) == later
    assert migrate_sqlite(conn, steps) == later
    assert _versions(conn) == list(range(1, later + 1))
    assert "note" in [row[1] for row in conn.execute("PRAGMA table_info(freehold_ledger)")]


def test_a_failing_step_rolls_back_entirely(conn: sqlite3.Connection) -> None:
    migrate_sqlite(conn)
    bad = Step(LATEST + 1, ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate_sqlite(conn, (*SQLITE_STEPS, bad))
    assert _versions(conn) == list(range(1, LATEST + 1))
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables
    assert not conn.in_transaction


def test_a_newer_database_is_refused(conn: sqlite3.Connection) -> None:
    migrate_sqlite(conn)
    conn.execute(f"INSERT INTO {SCHEMA_TABLE} VALUES (7, '2030-01-01T00:00:00+00:00')")
    with pytest.raises(LedgerError, match="version 7, newer than this freehold knows"):
        migrate_sqlite(conn)


def test_steps_must_be_ascending_and_unique() -> None:
    with pytest.raises(ValueError, match="ascending"):
        pending([Step(2, ()), Step(1, ())], 0)
    with pytest.raises(ValueError, match="unique"):
        pending([Step(1, ()), Step(1, ())], 0)
    assert [s.version for s in pending([Step(1, ()), Step(2, ()), Step(3, ())], 1)] == [2, 3]


_MIGRATE_SCRIPT = textwrap.dedent(
    """
    import sys
    from freehold.ledger import open_store
    store = open_store(sys.argv[1])
    try:
        print(store.migrate())
    finally:
        store.close()
    """
)


def migrate_in_processes(url: str, count: int = 4) -> list[str]:
    """Run ``migrate()`` in ``count`` processes started together; their outputs."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_SCRIPT, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    return outputs


def test_concurrent_migrations_from_processes_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    assert migrate_in_processes(f"sqlite:///{path}") == [str(LATEST)] * 4
    conn = sqlite3.connect(path)
    try:
        assert _versions(conn) == list(range(1, LATEST + 1))
    finally:
        conn.close()


@pytest.mark.postgres
def test_concurrent_migrations_from_processes_postgres(pg_url: str) -> None:
    import psycopg

    assert migrate_in_processes(pg_url) == [str(LATEST)] * 4
    with psycopg.connect(pg_url) as conn:
        versions = conn.execute(f"SELECT version FROM {SCHEMA_TABLE}").fetchall()
    assert versions == [(v,) for v in range(1, LATEST + 1)]
