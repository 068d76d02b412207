"""Versioned schema migrations for the ledger, one ordered list of steps per SQL dialect.

Each dialect has a tuple of :class:`Step` (version, statements). ``migrate_*`` creates the
``freehold_schema_version`` table, reads the highest version recorded there and applies the
steps above it, recording each, all in one transaction. Applying twice is a no-op.

Two processes migrating at once are serialised: on SQLite by taking the write lock first
(``BEGIN IMMEDIATE``; the other waits on the busy timeout), on PostgreSQL by a
transaction-scoped advisory lock. A database whose recorded version is newer than this code
knows is refused rather than written with an outdated layout.

The ``freehold_ledger`` table mirrors :class:`~freehold.ledger.base.LedgerRow`, except that
the cost is kept exactly as integer nano-dollars (``cost_nusd``) and, on SQLite, ``ts`` is
fixed-width ISO-8601 UTC text (``2025-01-31T12:00:00.000000+00:00``), which sorts and
compares as time does. PostgreSQL keeps ``ts`` as ``timestamptz``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from freehold.ledger.base import LedgerError

if TYPE_CHECKING:
    import psycopg

SCHEMA_TABLE = "freehold_schema_version"
LEDGER_TABLE = "freehold_ledger"
FEEDBACK_TABLE = "freehold_feedback"
#: The schema version that created the feedback table.
FEEDBACK_VERSION = 4
TEXT_TABLE = "freehold_texts"
#: The schema version that created the texts table.
TEXT_VERSION = 5
#: Reading the feedback and texts tables (the same SQL in every dialect).
SELECT_FEEDBACK = f"SELECT id, request_id, ts, score, source FROM {FEEDBACK_TABLE} ORDER BY ts, id"
SELECT_TEXTS = f"SELECT request_id, model, prompt, answer FROM {TEXT_TABLE} ORDER BY request_id"

#: Key of the PostgreSQL advisory lock held while migrating ("freehold" in ASCII).
ADVISORY_LOCK_KEY = int.from_bytes(b"freehold", "big")


@dataclass(frozen=True, slots=True)
class Step:
    """One schema version: the statements that bring the previous version to it."""

    version: int
    statements: tuple[str, ...]


def _additions(timestamp: str) -> tuple[Step, ...]:
    """Versions 2 and up: the same statements in both dialects but for the timestamp type."""
    return (
        Step(
            2,
            (f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN cost_basis TEXT NOT NULL DEFAULT 'tokens'",),
        ),
        Step(
            3,
            (
                f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN validation TEXT NOT NULL DEFAULT ''",
                f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN verdicts TEXT NOT NULL DEFAULT '[]'",
                f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1",
            ),
        ),
        Step(
            4,
            (
                f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN decision TEXT NOT NULL DEFAULT '{{}}'",
                f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN attempt_log TEXT NOT NULL DEFAULT '[]'",
                f"""CREATE TABLE {FEEDBACK_TABLE} (
                    id TEXT PRIMARY KEY,
                    request_id TEXT NOT NULL,
                    ts {timestamp} NOT NULL,
                    score DOUBLE PRECISION NOT NULL CHECK (score >= 0 AND score <= 1),
                    source TEXT NOT NULL
                )""",
                f"CREATE INDEX {FEEDBACK_TABLE}_request ON {FEEDBACK_TABLE} (request_id)",
            ),
        ),
        Step(
            5,
            (
                f"""CREATE TABLE {TEXT_TABLE} (
                    request_id TEXT PRIMARY KEY,
                    model TEXT NOT NULL,
                    prompt TEXT NOT NULL,
                    answer TEXT NOT NULL
                )""",
            ),
        ),
        Step(
            6,
            (f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN perimeter TEXT NOT NULL DEFAULT '{{}}'",),
        ),
    )


SQLITE_STEPS: tuple[Step, ...] = (
    Step(
        1,
        (
            f"""CREATE TABLE {LEDGER_TABLE} (
                id TEXT PRIMARY KEY,
                ts TEXT NOT NULL,
                key_id TEXT,
                requested_model TEXT,
                served_model TEXT,
                prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL,
                cost_nusd INTEGER NOT NULL,
                latency_ms REAL NOT NULL,
                ttft_ms REAL,
                status INTEGER NOT NULL,
                error_type TEXT,
                route TEXT NOT NULL,
                usage_estimated INTEGER NOT NULL CHECK (usage_estimated IN (0, 1)),
                stream INTEGER NOT NULL CHECK (stream IN (0, 1))
            )""",
            f"CREATE INDEX {LEDGER_TABLE}_ts ON {LEDGER_TABLE} (ts)",
        ),
    ),
    *_additions("TEXT"),
)

POSTGRES_STEPS: tuple[Step, ...] = (
    Step(
        1,
        (
            f"""CREATE TABLE {LEDGER_TABLE} (
                id TEXT PRIMARY KEY,
                ts TIMESTAMPTZ NOT NULL,
                key_id TEXT,
                requested_model TEXT,
                served_model TEXT,
                prompt_tokens BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL,
                cost_nusd BIGINT NOT NULL,
                latency_ms DOUBLE PRECISION NOT NULL,
                ttft_ms DOUBLE PRECISION,
                status INTEGER NOT NULL,
                error_type TEXT,
                route TEXT NOT NULL,
                usage_estimated BOOLEAN NOT NULL,
                stream BOOLEAN NOT NULL
            )""",
            f"CREATE INDEX {LEDGER_TABLE}_ts ON {LEDGER_TABLE} (ts)",
        ),
    ),
    *_additions("TIMESTAMPTZ"),
)

STEPS: dict[str, tuple[Step, ...]] = {"sqlite": SQLITE_STEPS, "postgresql": POSTGRES_STEPS}


def latest_version(dialect: str) -> int:
    """The newest schema version this code knows for ``dialect``."""
    return max(step.version for step in STEPS[dialect])


def pending(steps: Sequence[Step], current: int) -> list[Step]:
    """The steps above ``current``, oldest first; refuses a database newer than the code."""
    versions = [step.version for step in steps]
    if versions != sorted(set(versions)):
        raise ValueError(f"migration versions must be unique and ascending: {versions}")
    newest = versions[-1] if versions else 0
    if current > newest:
        raise LedgerError(
            f"the ledger's schema is version {current}, newer than this freehold knows "
            f"({newest}): upgrade freehold"
        )
    return [step for step in steps if step.version > current]


def sqlite_ts(ts: datetime) -> str:
    """A timestamp as SQLite stores it: fixed-width ISO-8601 in UTC (naive means UTC)."""
    aware = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return aware.isoformat(timespec="microseconds")


# -- SQLite ------------------------------------------------------------------------------


def sqlite_version(conn: sqlite3.Connection) -> int:
    """The highest version recorded in the database; 0 when never migrated."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SCHEMA_TABLE,)
    ).fetchone()
    if found is None:
        return 0
    row = conn.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}").fetchone()
    return int(row[0] or 0)


def migrate_sqlite(conn: sqlite3.Connection, steps: Sequence[Step] = SQLITE_STEPS) -> int:
    """Apply pending steps in one write transaction; returns the version reached.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so that this function
    owns the transaction.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        current = sqlite_version(conn)
        for step in pending(steps, current):
            for statement in step.statements:
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {SCHEMA_TABLE} (version, applied_at) VALUES (?, ?)",
                (step.version, sqlite_ts(datetime.now(UTC))),
            )
            current = step.version
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return current


# -- PostgreSQL --------------------------------------------------------------------------


def postgres_version(conn: psycopg.Connection[Any]) -> int:
    """The highest version recorded in the database (current search_path); 0 when none."""
    found = conn.execute("SELECT to_regclass(%s)", (SCHEMA_TABLE,)).fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}").fetchone()
    return int(row[0] or 0) if row else 0


def migrate_postgres(conn: psycopg.Connection[Any], steps: Sequence[Step] = POSTGRES_STEPS) -> int:
    """Apply pending steps in one transaction under an advisory lock; returns the version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} "
            "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = postgres_version(conn)
        for step in pending(steps, current):
            for statement in step.statements:
                conn.execute(statement)
            conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES (%s)", (step.version,))
            current = step.version
    return current
