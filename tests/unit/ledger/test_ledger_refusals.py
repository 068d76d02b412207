"""A row the store cannot keep never blocks the others: it is spilled alone, with one log
line, while the rows around and after it are written. An outage is still retried, losing
nothing and spilling nothing. On SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from freehold.ledger import BatchedWriter, LedgerRow, LedgerStore
from freehold.ledger.isolation import isolate
from freehold.ledger.postgres import PostgresStore
from freehold.ledger.row_limits import row_problem
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]


@pytest.fixture
def store(ledger_store: LedgerStore) -> LedgerStore:
    return ledger_store


def spilled(spill_dir: Path) -> list[LedgerRow]:
    rows = []
    for path in spill_dir.glob("ledger-spill-*.jsonl"):
        rows += [LedgerRow.from_json(orjson.loads(line)) for line in path.read_bytes().splitlines()]
    return rows


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def bad_rows(make_row: MakeRow, store: LedgerStore) -> list[LedgerRow]:
    rows = [
        make_row(100, prompt_tokens=2**63),  # beyond SQLite INTEGER and PostgreSQL bigint
        make_row(101, completion_tokens=-1000000),
        make_row(102, cost_usd=Decimal("-0.5")),
        make_row(103, cost_usd=Decimal("1E+30")),
        make_row(104, latency_ms=float("nan")),
        make_row(105, route=None),  # passes the bounds; the store's NOT NULL refuses it
    ]
    if isinstance(store, PostgresStore):
        rows.append(make_row(106, requested_model="nul\x00byte"))  # PostgreSQL text refuses NUL
    return rows


def test_bad_rows_are_spilled_alone_and_the_rest_written_promptly(
    store: LedgerStore, make_row: MakeRow, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spill_dir = tmp_path / "spill"
    writer = BatchedWriter(store, max_batch=100, spill_dir=spill_dir, initial_backoff_s=5.0)
    writer.start()
    good = [make_row(i) for i in range(10)]
    bad = bad_rows(make_row, store)
    mixed = good[:5] + bad + good[5:]
    with caplog.at_level(logging.ERROR, logger="freehold.ledger"):
        for row in mixed:
            writer.record(row)
        started = time.monotonic()
        assert writer.flush(timeout=10)
        later = [make_row(i) for i in range(10, 15)]
        for row in later:
            writer.record(row)
        assert writer.flush(timeout=10)
        elapsed = time.monotonic() - started
    assert elapsed < 3  # no backoff pause (5 s here) was taken: nothing waited on the bad rows
    assert sorted(r.id for r in store.rows()) == sorted(r.id for r in good + later)
    back = sorted(spilled(spill_dir), key=lambda r: r.id)
    assert [r.id for r in back] == [r.id for r in bad]
    assert back[0].prompt_tokens == 2**63 and back[2].cost_usd == Decimal("-0.5")
    for row in bad:  # one line each, naming the row and why
        lines = [m for m in caplog.messages if row.id in m]
        assert len(lines) == 1, lines
    assert "prompt_tokens 9223372036854775808 is outside" in caplog.text
    assert "cost_usd -0.5 is negative" in caplog.text
    assert "refused by the store" in caplog.text  # route=None: only the store knew
    stats = writer.stats()
    assert (stats.written, stats.refused, stats.spilled) == (15, len(bad), len(bad))
    assert writer.close() is False  # some rows did not reach the store


def test_isolation_finds_the_refused_row_without_any_bounds_check(
    store: LedgerStore, make_row: MakeRow
) -> None:
    """Defence in depth: were the bounds check gone, the store's own refusal would find it."""
    rows = [make_row(i) for i in range(9)]
    rows[6] = make_row(6, prompt_tokens=2**63)
    with pytest.raises(Exception) as failed:  # noqa: PT011 - each store raises its own kind
        store.write(rows)

    def probe() -> bool:
        store.probe()
        return True

    found = isolate(rows, failed.value, store.write, probe)
    assert [row.id for row, _ in found.refused] == ["req-00006"]
    assert "too large" in str(found.refused[0][1]) or "out of range" in str(found.refused[0][1])
    assert found.unresolved == []
    assert sorted(r.id for r in store.rows()) == sorted(r.id for r in rows if r.id != "req-00006")


def test_the_probe_leaves_no_trace(store: LedgerStore, make_row: MakeRow) -> None:
    store.write([make_row(1)])
    for _ in range(3):
        store.probe()
    assert [r.id for r in store.rows()] == ["req-00001"]


def test_row_problem_passes_plausible_rows(make_row: MakeRow) -> None:
    assert row_problem(make_row(1)) is None
    assert row_problem(make_row(2, ttft_ms=None, cost_usd=Decimal(0), prompt_tokens=0)) is None
    assert row_problem(make_row(3, prompt_tokens=2**63 - 1)) is None
    assert "status" in (row_problem(make_row(4, status=2**31)) or "")
    assert "4300 bits" in (row_problem(make_row(5, prompt_tokens=2**4299)) or "")
    assert "not a finite" in (row_problem(make_row(6, ttft_ms=10**400)) or "")


class PoisonStore:
    """An in-memory store whose writes fail with an arbitrary exception whenever a batch
    holds a poisoned id; nothing else is wrong with it (its probe passes)."""

    def __init__(self, poison: set[str]) -> None:
        self.poison = poison
        self.written: list[LedgerRow] = []
        self.calls = 0

    def migrate(self) -> int:
        return 1

    def write(self, rows: Sequence[LedgerRow]) -> None:
        self.calls += 1
        if any(row.id in self.poison for row in rows):
            raise RuntimeError("a reason no list of exception classes foresaw")
        self.written.extend(rows)

    def probe(self) -> None:
        pass

    def rows(self, since: datetime | None = None) -> list[LedgerRow]:
        return list(self.written)

    def close(self) -> None:
        pass


def test_refusal_is_decided_by_the_store_not_by_the_exception_class(
    make_row: MakeRow, tmp_path: Path
) -> None:
    rows = [make_row(i) for i in range(500)]
    store = PoisonStore({"req-00017", "req-00400"})
    writer = BatchedWriter(store, max_batch=500, spill_dir=tmp_path)  # type: ignore[arg-type]
    for row in rows:
        writer.record(row)
    writer.start()
    assert writer.flush(timeout=10)
    assert len(store.written) == 498
    assert sorted(r.id for r in spilled(tmp_path)) == ["req-00017", "req-00400"]
    assert store.calls < 60  # split in halves, not written one row at a time
    writer.close()


# -- outages: retried, nothing lost, nothing spilled ---------------------------------------


def test_sqlite_locked_by_another_process_is_an_outage(make_row: MakeRow, tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with SqliteStore(path, busy_timeout_s=0.02) as store:
        store.migrate()
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        writer = BatchedWriter(
            store, initial_backoff_s=0.01, max_backoff_s=0.05, spill_dir=tmp_path
        )
        writer.start()
        rows = [make_row(i) for i in range(20)]
        for row in rows:
            writer.record(row)
        wait_for(lambda: writer.stats().failures >= 5)
        other.execute("ROLLBACK")
        other.close()
        assert writer.flush(timeout=10)
        assert [r.id for r in store.rows()] == [r.id for r in rows]
        assert writer.close() is True
    assert writer.stats().spilled == 0
    assert spilled(tmp_path) == []


@pytest.mark.postgres
def test_postgres_table_locked_is_an_outage(pg_url: str, make_row: MakeRow, tmp_path: Path) -> None:
    with PostgresStore(pg_url + "%20-clock_timeout%3D50") as store:
        store.migrate()
        with psycopg.connect(pg_url) as other:
            other.execute("LOCK TABLE freehold_ledger IN ACCESS EXCLUSIVE MODE")
            writer = BatchedWriter(
                store, initial_backoff_s=0.01, max_backoff_s=0.05, spill_dir=tmp_path
            )
            writer.start()
            rows = [make_row(i) for i in range(20)]
            for row in rows:
                writer.record(row)
            wait_for(lambda: writer.stats().failures >= 5)
        # the lock ends with the other connection's transaction
        assert writer.flush(timeout=10)
        assert [r.id for r in store.rows()] == [r.id for r in rows]
        assert writer.close() is True
    assert spilled(tmp_path) == []


class Proxy:
    """A TCP relay to PostgreSQL that can be cut (the server becomes unreachable) and
    restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            self._listener.close()
            self._listener = None
        for sock in self._open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._open = []


@pytest.mark.postgres
def test_postgres_unreachable_is_an_outage(pg_url: str, make_row: MakeRow, tmp_path: Path) -> None:
    params: dict[str, Any] = psycopg.conninfo.conninfo_to_dict(pg_url)
    proxy = Proxy((str(params.get("host", "127.0.0.1")), int(params.get("port", 5432))))
    proxy.start()
    relayed = psycopg.conninfo.make_conninfo(pg_url, host="127.0.0.1", port=proxy.port)
    try:
        with PostgresStore(relayed, connect_timeout_s=2) as store:
            store.migrate()
            writer = BatchedWriter(
                store, initial_backoff_s=0.01, max_backoff_s=0.05, spill_dir=tmp_path
            )
            writer.start()
            writer.record(make_row(0))
            assert writer.flush(timeout=10)
            proxy.cut()
            rows = [make_row(i) for i in range(1, 20)]
            for row in rows:
                writer.record(row)
            wait_for(lambda: writer.stats().failures >= 5)
            assert writer.stats().spilled == 0
            proxy.start()  # the same port again
            assert writer.flush(timeout=15)
            assert [r.id for r in store.rows()] == [make_row(i).id for i in range(20)]
            assert writer.close() is True
    finally:
        proxy.cut()
    assert spilled(tmp_path) == []
