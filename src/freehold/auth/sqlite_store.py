"""The embedded budget store: one SQLite file (WAL), for a single ``freehold serve``.

Every statement is a few tens of microseconds on a local file, so the store runs them on the
calling thread instead of paying for a hop to a worker thread; each reservation is one
``BEGIN IMMEDIATE`` transaction, which serialises it against every other writer of the file
(another process included, such as ``freehold keys revoke``). The one slow thing SQLite does,
the WAL checkpoint (an fsync, milliseconds), is taken off that thread: automatic checkpoints
are off and a worker thread checkpoints every few seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from freehold.auth.base import Admission, Counter, Hold
from freehold.auth.keys import KeyRecord, from_json, to_json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS freehold_keys (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS freehold_revoked (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS freehold_budget (
    bucket TEXT PRIMARY KEY,
    spent_nusd INTEGER NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    held_nusd INTEGER NOT NULL DEFAULT 0,
    held_tokens INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS freehold_holds (
    hold TEXT NOT NULL,
    bucket TEXT NOT NULL,
    nusd INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (hold, bucket)
);
CREATE INDEX IF NOT EXISTS freehold_holds_expires ON freehold_holds (expires);
CREATE TABLE IF NOT EXISTS freehold_rate (
    window TEXT PRIMARY KEY,
    requests INTEGER NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    expires REAL NOT NULL
);
"""

#: How long a rate window's row is kept after its minute (seconds).
_WINDOW_TTL = 120.0
#: How often the write-ahead log is folded back into the database (seconds).
CHECKPOINT_EVERY_S = 5.0

log = logging.getLogger("freehold.budgets")


class SqliteAuthStore:
    def __init__(self, path: str | Path) -> None:
        self._target = target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._wal = target != ":memory:"
        if self._wal:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._lock = threading.Lock()
        self._checkpointed = time.monotonic()
        self._checkpoint: asyncio.Task[None] | None = None

    def _maybe_checkpoint(self) -> None:
        """Start a checkpoint in a worker thread when one is due (never on this thread)."""
        if not self._wal or time.monotonic() - self._checkpointed < CHECKPOINT_EVERY_S:
            return
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        self._checkpointed = time.monotonic()
        try:
            self._checkpoint = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self._fold_wal)
            )
        except RuntimeError:  # no event loop: a one-off command, checkpoint at close
            return

    def _fold_wal(self) -> None:
        try:
            with sqlite3.connect(self._target, timeout=5) as db:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("budget store checkpoint failed: %s", exc)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    async def migrate(self) -> None:
        with self._lock:
            self._db.executescript(_SCHEMA)

    async def save_key(self, key: KeyRecord) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO freehold_keys (id, body) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (key.id, json.dumps(to_json(key))),
            )
            if key.revoked is not None:
                db.execute("INSERT OR IGNORE INTO freehold_revoked (id) VALUES (?)", (key.id,))

    async def key(self, key_id: str) -> KeyRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM freehold_keys WHERE id = ?", (key_id,)
            ).fetchone()
        return from_json(json.loads(row[0])) if row else None

    async def keys(self) -> list[KeyRecord]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM freehold_keys").fetchall()
        found = [from_json(json.loads(r[0])) for r in rows]
        return sorted(found, key=lambda k: (k.created, k.id))

    def _expire(self, db: sqlite3.Connection, now: float) -> None:
        """Drop holds past their expiry (a replica died mid-request) and old rate windows."""
        expired = db.execute(
            "SELECT bucket, SUM(nusd), SUM(tokens) FROM freehold_holds WHERE expires <= ? "
            "GROUP BY bucket",
            (now,),
        ).fetchall()
        if expired:
            db.executemany(
                "UPDATE freehold_budget SET held_nusd = held_nusd - ?, "
                "held_tokens = held_tokens - ? WHERE bucket = ?",
                [(nusd, tokens, bucket) for bucket, nusd, tokens in expired],
            )
            db.execute("DELETE FROM freehold_holds WHERE expires <= ?", (now,))
        db.execute("DELETE FROM freehold_rate WHERE expires <= ?", (now,))

    async def reserve(self, hold: Hold) -> Admission:
        counters: dict[str, Counter] = {}
        with self._write() as db:
            if (
                hold.key_id is not None
                and db.execute(
                    "SELECT 1 FROM freehold_revoked WHERE id = ?", (hold.key_id,)
                ).fetchone()
            ):
                return Admission("revoked", None, counters)
            self._expire(db, hold.now)
            for bucket in hold.buckets:
                counter = _counter(db, bucket.name)
                counters[bucket.name] = counter
                if bucket.limit_nusd is not None and (
                    counter.spent_nusd + counter.held_nusd + hold.nusd > bucket.limit_nusd
                ):
                    return Admission("budget_usd", bucket.name, counters)
                if bucket.limit_tokens is not None and (
                    counter.tokens + counter.held_tokens + hold.tokens > bucket.limit_tokens
                ):
                    return Admission("budget_tokens", bucket.name, counters)
            requests = tokens = 0
            window = hold.window
            if window is not None:
                row = db.execute(
                    "SELECT requests, tokens FROM freehold_rate WHERE window = ?", (window.name,)
                ).fetchone()
                requests, tokens = row if row else (0, 0)
                if window.rpm is not None and requests + 1 > window.rpm:
                    return Admission("rpm", None, counters, requests, tokens)
                if window.tpm is not None and tokens + hold.prompt_tokens > window.tpm:
                    return Admission("tpm", None, counters, requests, tokens)
                requests, tokens = requests + 1, tokens + hold.prompt_tokens
                db.execute(
                    "INSERT INTO freehold_rate (window, requests, tokens, expires) "
                    "VALUES (?, 1, ?, ?) ON CONFLICT (window) DO UPDATE SET "
                    "requests = requests + 1, tokens = tokens + excluded.tokens",
                    (window.name, hold.prompt_tokens, hold.now + _WINDOW_TTL),
                )
            for bucket in hold.buckets:
                db.execute(
                    "INSERT INTO freehold_budget (bucket, held_nusd, held_tokens) "
                    "VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET "
                    "held_nusd = held_nusd + excluded.held_nusd, "
                    "held_tokens = held_tokens + excluded.held_tokens",
                    (bucket.name, hold.nusd, hold.tokens),
                )
                db.execute(
                    "INSERT INTO freehold_holds (hold, bucket, nusd, tokens, expires) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (hold.id, bucket.name, hold.nusd, hold.tokens, hold.expires),
                )
                before = counters[bucket.name]
                counters[bucket.name] = Counter(
                    before.spent_nusd,
                    before.tokens,
                    before.requests,
                    before.held_nusd + hold.nusd,
                    before.held_tokens + hold.tokens,
                )
        return Admission(None, None, counters, requests, tokens)

    async def settle(self, hold: Hold, nusd: int, tokens: int) -> None:
        self._maybe_checkpoint()
        with self._write() as db:
            for bucket in hold.buckets:
                released = db.execute(
                    "DELETE FROM freehold_holds WHERE hold = ? AND bucket = ?",
                    (hold.id, bucket.name),
                ).rowcount
                held_nusd, held_tokens = (hold.nusd, hold.tokens) if released else (0, 0)
                db.execute(
                    "INSERT INTO freehold_budget (bucket, spent_nusd, tokens, requests) "
                    "VALUES (?, ?, ?, 1) ON CONFLICT (bucket) DO UPDATE SET "
                    "spent_nusd = spent_nusd + excluded.spent_nusd, "
                    "tokens = tokens + excluded.tokens, requests = requests + 1, "
                    "held_nusd = held_nusd - ?, held_tokens = held_tokens - ?",
                    (bucket.name, nusd, tokens, held_nusd, held_tokens),
                )
            if hold.window is not None and tokens != hold.prompt_tokens:
                db.execute(
                    "UPDATE freehold_rate SET tokens = tokens + ? WHERE window = ?",
                    (tokens - hold.prompt_tokens, hold.window.name),
                )

    async def counters(self, names: Sequence[str], now: float) -> dict[str, Counter]:
        with self._write() as db:
            self._expire(db, now)
            return {name: _counter(db, name) for name in names}

    async def aclose(self) -> None:
        if self._checkpoint is not None:
            await self._checkpoint
        with self._lock:
            if self._wal:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()


def _counter(db: sqlite3.Connection, bucket: str) -> Counter:
    row = db.execute(
        "SELECT spent_nusd, tokens, requests, held_nusd, held_tokens FROM freehold_budget "
        "WHERE bucket = ?",
        (bucket,),
    ).fetchone()
    return Counter(*row) if row else Counter()
