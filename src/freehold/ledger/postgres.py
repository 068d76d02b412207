"""The PostgreSQL ledger store (psycopg 3, the ``freehold[postgres]`` extra).

psycopg is imported when a store is built, not when this module is, so ``freehold.ledger``
imports without it; a missing driver raises an error naming the extra to install.
The connection runs in autocommit mode, every write and migration in an explicit
transaction, so a read never leaves a transaction open. A broken connection (server
restart) is dropped and reopened on the next call; the batched writer retries meanwhile.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from freehold.core.importer import MissingExtra
from freehold.ledger.base import Feedback, LedgerError, LedgerRow, TextRecord
from freehold.ledger.codec import COLUMNS, from_columns, probe_row, to_columns
from freehold.ledger.migrations import (
    FEEDBACK_TABLE,
    FEEDBACK_VERSION,
    LEDGER_TABLE,
    SELECT_FEEDBACK,
    SELECT_TEXTS,
    TEXT_TABLE,
    TEXT_VERSION,
    migrate_postgres,
    postgres_version,
)

if TYPE_CHECKING:
    import psycopg

    from freehold.ledger.base import LedgerStore

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INSERT = (
    f"INSERT INTO {LEDGER_TABLE} ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('%s' for _ in COLUMNS)}) ON CONFLICT (id) DO NOTHING"
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {LEDGER_TABLE}"


def load_psycopg() -> ModuleType:
    """The psycopg module, or an error saying how to install it."""
    try:
        import psycopg
    except ImportError as exc:
        raise MissingExtra(
            "a postgresql:// ledger needs psycopg 3: pip install 'freehold[postgres]'"
        ) from exc
    return psycopg


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _params(row: LedgerRow) -> tuple[Any, ...]:
    return to_columns(row, _utc, bool)


def _row(record: Sequence[Any]) -> LedgerRow:
    return from_columns(record, _utc)


class PostgresStore:
    """A :class:`~freehold.ledger.base.LedgerStore` in PostgreSQL.

    ``url`` is a libpq URL (``postgresql://user@host:5432/db``; ``postgres://`` also works).
    ``schema``, when given, becomes the connection's ``search_path`` (tables live there).
    """

    def __init__(self, url: str, *, schema: str | None = None, connect_timeout_s: int = 10) -> None:
        if schema is not None and not _IDENTIFIER.match(schema):
            raise ValueError(f"schema must be a plain SQL identifier, not {schema!r}")
        self._psycopg = load_psycopg()
        self._conninfo = self._make_conninfo(url, schema, connect_timeout_s)
        self._lock = threading.Lock()
        self._closed = False
        self._conn: psycopg.Connection[Any] | None = None
        with self._connection():  # fail fast on a bad URL or an unreachable server
            pass

    def _make_conninfo(self, url: str, schema: str | None, connect_timeout_s: int) -> str:
        """The URL's parameters plus the timeout and, appended to any ``options`` the URL
        already sets, the ``search_path``."""
        conninfo = self._psycopg.conninfo
        try:
            params: dict[str, Any] = conninfo.conninfo_to_dict(url)
        except self._psycopg.Error as exc:
            raise LedgerError(f"not a PostgreSQL URL: {exc}".rstrip()) from exc
        params.setdefault("connect_timeout", connect_timeout_s)
        if schema is not None:
            params["options"] = f"{params.get('options', '')} -c search_path={schema}".strip()
        return str(conninfo.make_conninfo(**params))

    def _open(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._conn = self._psycopg.connect(self._conninfo, autocommit=True)
        return self._conn

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A live connection, held exclusively; driver errors become LedgerError."""
        with self._lock:
            if self._closed:
                raise LedgerError("the PostgreSQL ledger store is closed")
            try:
                yield self._open()
            except self._psycopg.Error as exc:
                raise LedgerError(f"PostgreSQL ledger: {exc}".rstrip()) from exc

    def migrate(self) -> int:
        with self._connection() as conn:
            return migrate_postgres(conn)

    def schema_version(self) -> int:
        """The schema version recorded in the database; 0 when it was never migrated."""
        with self._connection() as conn:
            return postgres_version(conn)

    def backend_pid(self) -> int:
        """The server process behind the current connection (for diagnostics)."""
        with self._connection() as conn:
            return int(conn.info.backend_pid)

    def write(self, rows: Sequence[LedgerRow]) -> None:
        """Insert ``rows`` in one transaction; ids already stored are skipped, so a batch
        retried after an uncertain failure (commit sent, reply lost) is not doubled."""
        if not rows:
            return
        params = [_params(row) for row in rows]
        texts = [(t.request_id, t.model, t.prompt, t.answer) for row in rows if (t := row.text)]
        with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(_INSERT, params)
            if texts:
                cursor.executemany(
                    f"INSERT INTO {TEXT_TABLE} VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (request_id) DO NOTHING",
                    texts,
                )

    def probe(self) -> None:
        """Insert a row and delete it in one committed transaction: raises when the server
        is unreachable, the table locked or read-only, or the schema missing."""
        row = probe_row()
        with self._connection() as conn, conn.transaction():
            conn.execute(_INSERT, _params(row))
            conn.execute(f"DELETE FROM {LEDGER_TABLE} WHERE id = %s", (row.id,))

    def write_feedback(self, items: Sequence[Feedback]) -> None:
        params = [(f.id, f.request_id, _utc(f.ts), f.score, f.source) for f in items]
        with self._connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {FEEDBACK_TABLE} VALUES (%s, %s, %s, %s, %s)", params)

    def feedback(self) -> list[Feedback]:
        with self._connection() as conn:
            if postgres_version(conn) < FEEDBACK_VERSION:
                return []
            records = conn.execute(SELECT_FEEDBACK).fetchall()
        return [Feedback(r[0], r[1], _utc(r[2]), float(r[3]), r[4]) for r in records]

    def texts(self) -> list[TextRecord]:
        with self._connection() as conn:
            if postgres_version(conn) < TEXT_VERSION:
                return []
            records = conn.execute(SELECT_TEXTS).fetchall()
        return [TextRecord(*r) for r in records]

    def rows(self, since: datetime | None = None) -> list[LedgerRow]:
        """Rows with ``ts >= since``, oldest first; none when the table does not exist."""
        with self._connection() as conn:
            if postgres_version(conn) == 0:
                return []
            if since is None:
                records = conn.execute(f"{_SELECT} ORDER BY ts, id").fetchall()
            else:
                records = conn.execute(
                    f"{_SELECT} WHERE ts >= %s ORDER BY ts, id", (_utc(since),)
                ).fetchall()
        return [_row(record) for record in records]

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


if TYPE_CHECKING:

    def _is_a_store(store: PostgresStore) -> LedgerStore:
        return store
