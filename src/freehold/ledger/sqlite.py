"""The embedded ledger store: one SQLite file in WAL mode.

WAL lets ``freehold ledger`` read while the server writes; ``synchronous=NORMAL`` is durable
across process crashes (a power loss may lose the last commits, never corrupt the file).
One connection is shared by the writer thread and readers, guarded by a lock: SQLite admits
one writer at a time anyway, and ``:memory:`` databases exist only inside one connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from freehold.ledger.base import Feedback, LedgerError, LedgerNotFound, LedgerRow, TextRecord
from freehold.ledger.codec import COLUMNS, from_columns, probe_row, to_columns
from freehold.ledger.migrations import (
    FEEDBACK_TABLE,
    FEEDBACK_VERSION,
    LEDGER_TABLE,
    SELECT_FEEDBACK,
    SELECT_TEXTS,
    TEXT_TABLE,
    TEXT_VERSION,
    migrate_sqlite,
    sqlite_ts,
    sqlite_version,
)

if TYPE_CHECKING:
    from freehold.ledger.base import LedgerStore

MEMORY = ":memory:"

_INSERT = (
    f"INSERT INTO {LEDGER_TABLE} ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)}) ON CONFLICT (id) DO NOTHING"
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM {LEDGER_TABLE}"
_INSERT_TEXT = f"INSERT INTO {TEXT_TABLE} VALUES (?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING"


def _text_params(text: TextRecord) -> tuple[str, str, str, str]:
    return (text.request_id, text.model, text.prompt, text.answer)


def _params(row: LedgerRow) -> tuple[Any, ...]:
    return to_columns(row, sqlite_ts, int)


def _row(record: Sequence[Any]) -> LedgerRow:
    return from_columns(record, lambda text: datetime.fromisoformat(text).astimezone(UTC))


def _connect(path: str | Path, *, create: bool, timeout_s: float) -> sqlite3.Connection:
    """Open (and, when ``create``, make) the database; never creates a file otherwise."""
    if str(path) == MEMORY:
        target: str | Path = MEMORY
        uri = False
    else:
        file = Path(path).expanduser()
        if create:
            file.parent.mkdir(parents=True, exist_ok=True)
            target, uri = file, False
        elif not file.is_file():
            raise LedgerNotFound(str(file))
        else:
            target, uri = file.resolve().as_uri() + "?mode=rw", True
    try:
        return sqlite3.connect(
            target, timeout=timeout_s, isolation_level=None, check_same_thread=False, uri=uri
        )
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open the SQLite ledger {path}: {exc}") from exc


class SqliteStore:
    """A :class:`~freehold.ledger.base.LedgerStore` in one SQLite file (or ``:memory:``).

    ``create=False`` opens an existing file only, raising
    :class:`~freehold.ledger.base.LedgerNotFound` instead of creating an empty one.
    """

    def __init__(
        self, path: str | Path, *, create: bool = True, busy_timeout_s: float = 10.0
    ) -> None:
        self.path = path
        self._lock = threading.Lock()
        conn = _connect(path, create=create, timeout_s=busy_timeout_s)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            conn.close()
            raise LedgerError(f"cannot open the SQLite ledger {path}: {exc}") from exc
        self._conn: sqlite3.Connection | None = conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The connection, held exclusively; SQLite errors become LedgerError."""
        with self._lock:
            if self._conn is None:
                raise LedgerError(f"the SQLite ledger {self.path} is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise LedgerError(f"SQLite ledger {self.path}: {exc}") from exc

    def migrate(self) -> int:
        with self._connection() as conn:
            return migrate_sqlite(conn)

    def schema_version(self) -> int:
        """The schema version recorded in the file; 0 when it was never migrated."""
        with self._connection() as conn:
            return sqlite_version(conn)

    def journal_mode(self) -> str:
        """``wal`` for a file (``memory`` for ``:memory:``)."""
        with self._connection() as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0])

    def write(self, rows: Sequence[LedgerRow]) -> None:
        """Insert ``rows`` in one transaction; a row whose id is already stored is skipped,
        so a batch retried after an uncertain failure is never counted twice."""
        if not rows:
            return
        params = [_params(row) for row in rows]
        texts = [_text_params(row.text) for row in rows if row.text is not None]
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(_INSERT, params)
                if texts:
                    conn.executemany(_INSERT_TEXT, texts)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def probe(self) -> None:
        """Insert a row and delete it in one committed transaction: raises when the file
        is locked, read-only, full or not migrated."""
        row = probe_row()
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(_INSERT, _params(row))
                conn.execute(f"DELETE FROM {LEDGER_TABLE} WHERE id = ?", (row.id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def rows(self, since: datetime | None = None) -> list[LedgerRow]:
        """Rows with ``ts >= since``, oldest first; none when the file was never migrated."""
        with self._connection() as conn:
            if sqlite_version(conn) == 0:
                return []
            if since is None:
                records = conn.execute(f"{_SELECT} ORDER BY ts, id").fetchall()
            else:
                records = conn.execute(
                    f"{_SELECT} WHERE ts >= ? ORDER BY ts, id", (sqlite_ts(since),)
                ).fetchall()
        return [_row(record) for record in records]

    def write_feedback(self, items: Sequence[Feedback]) -> None:
        params = [(f.id, f.request_id, sqlite_ts(f.ts), f.score, f.source) for f in items]
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(f"INSERT INTO {FEEDBACK_TABLE} VALUES (?, ?, ?, ?, ?)", params)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def feedback(self) -> list[Feedback]:
        with self._connection() as conn:
            if sqlite_version(conn) < FEEDBACK_VERSION:
                return []
            records = conn.execute(SELECT_FEEDBACK).fetchall()
        return [
            Feedback(r[0], r[1], datetime.fromisoformat(r[2]).astimezone(UTC), r[3], r[4])
            for r in records
        ]

    def texts(self) -> list[TextRecord]:
        with self._connection() as conn:
            if sqlite_version(conn) < TEXT_VERSION:
                return []
            records = conn.execute(SELECT_TEXTS).fetchall()
        return [TextRecord(*r) for r in records]

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


if TYPE_CHECKING:

    def _is_a_store(store: SqliteStore) -> LedgerStore:
        return store
