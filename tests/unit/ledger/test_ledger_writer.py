"""The batched writer: batching, flush, draining close, retries, spilling, never blocking."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from freehold.ledger import BatchedWriter, LedgerRow
from freehold.ledger.sqlite import SqliteStore

MakeRow = Callable[..., LedgerRow]


class ListStore:
    """Keeps written rows in memory; fails (writes and probes) while ``failing`` is set or
    ``fail_next`` > 0 (counted down by writes); each write waits on ``gate`` first."""

    def __init__(self, fail_next: int = 0) -> None:
        self.written: list[LedgerRow] = []
        self.batches: list[int] = []
        self.attempts = 0
        self.fail_next = fail_next
        self.failing = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def migrate(self) -> int:
        return 1

    def write(self, rows: Sequence[LedgerRow]) -> None:
        self.entered.set()
        self.gate.wait()
        self.attempts += 1
        if self.failing or self.fail_next > 0:
            self.fail_next = max(0, self.fail_next - 1)
            raise ConnectionError("store down")
        self.written.extend(rows)
        self.batches.append(len(rows))

    def probe(self) -> None:
        if self.failing or self.fail_next > 0:
            raise ConnectionError("store down")

    def rows(self, since: datetime | None = None) -> list[LedgerRow]:
        return list(self.written)

    def close(self) -> None:
        pass


def spilled(spill_dir: Path) -> list[LedgerRow]:
    files = sorted(spill_dir.glob("ledger-spill-*.jsonl"))
    assert len(files) == 1, files
    return [LedgerRow.from_json(orjson.loads(line)) for line in files[0].read_bytes().splitlines()]


def test_rows_from_many_threads_are_all_written(tmp_path: Path, make_row: MakeRow) -> None:
    with SqliteStore(tmp_path / "ledger.db") as store:
        store.migrate()
        writer = BatchedWriter(store, max_batch=64, flush_interval_s=0.01)
        writer.start()

        def produce(n: int) -> None:
            for i in range(250):
                writer.record(make_row(n * 1000 + i))

        threads = [threading.Thread(target=produce, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert writer.close() is True
        ids = {row.id for row in store.rows()}
    assert ids == {make_row(n * 1000 + i).id for n in range(8) for i in range(250)}
    stats = writer.stats()
    assert (stats.recorded, stats.written, stats.spilled) == (2000, 2000, 0)


def test_rows_are_batched_up_to_max_batch(make_row: MakeRow) -> None:
    store = ListStore()
    writer = BatchedWriter(store, max_batch=100, flush_interval_s=0.05)
    for i in range(1000):
        writer.record(make_row(i))  # queued before the thread starts
    writer.start()
    assert writer.flush(timeout=5)
    assert [r.id for r in store.written] == [make_row(i).id for i in range(1000)]
    assert store.batches == [100] * 10
    writer.close()


def test_flush_waits_for_everything_recorded_so_far(make_row: MakeRow) -> None:
    store = ListStore()
    writer = BatchedWriter(store, flush_interval_s=10.0)  # flush must not wait for the timer
    writer.start()
    for i in range(10):
        writer.record(make_row(i))
    started = time.monotonic()
    assert writer.flush(timeout=5)
    assert time.monotonic() - started < 2
    assert len(store.written) == 10
    writer.record(make_row(10))
    assert writer.flush(timeout=5)
    assert len(store.written) == 11
    writer.close()


def test_close_drains_everything(make_row: MakeRow) -> None:
    store = ListStore()
    writer = BatchedWriter(store, max_batch=7)
    writer.start()
    for i in range(300):
        writer.record(make_row(i))
    assert writer.close() is True
    assert len(store.written) == 300
    assert writer.close() is True  # closing twice is harmless


def test_close_without_start_still_writes(make_row: MakeRow) -> None:
    store = ListStore()
    writer = BatchedWriter(store)
    writer.record(make_row(1))
    assert writer.close() is True
    assert [r.id for r in store.written] == ["req-00001"]


def test_flush_needs_a_started_writer() -> None:
    writer = BatchedWriter(ListStore())
    with pytest.raises(RuntimeError, match="started"):
        writer.flush(timeout=0.1)
    writer.close()


def test_a_failing_store_is_retried(
    make_row: MakeRow, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ListStore(fail_next=3)
    writer = BatchedWriter(store, initial_backoff_s=0.001, spill_dir=tmp_path)
    writer.start()
    with caplog.at_level(logging.INFO, logger="freehold.ledger"):
        writer.record(make_row(1))
        writer.record(make_row(2))
        assert writer.flush(timeout=5)
    assert [r.id for r in store.written] == ["req-00001", "req-00002"]
    assert store.attempts == 4
    assert writer.stats().failures == 3
    assert "retrying: store down" in caplog.text
    assert "succeeded after 3 failed attempt(s)" in caplog.text
    assert writer.close() is True
    assert list(tmp_path.iterdir()) == []


def test_rows_still_unwritten_at_close_are_spilled_exactly(
    make_row: MakeRow, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ListStore()
    spill_dir = tmp_path / "spill"
    writer = BatchedWriter(store, max_batch=3, initial_backoff_s=0.01, spill_dir=spill_dir)
    writer.start()
    first = [make_row(i) for i in range(4)]
    for row in first:
        writer.record(row)
    assert writer.flush(timeout=5)
    store.failing = True
    unwritten = [make_row(i, cost_usd=make_row(i).cost_usd * i) for i in range(4, 11)]
    for row in unwritten:
        writer.record(row)
    with caplog.at_level(logging.ERROR, logger="freehold.ledger"):
        assert writer.close(timeout=0.3) is False
    assert store.written == first
    assert spilled(spill_dir) == unwritten
    assert store.attempts > 3  # it retried before giving up
    (spill_file,) = spill_dir.iterdir()
    assert str(spill_file) in caplog.text
    assert writer.stats().spilled == len(unwritten)


def test_without_a_spill_dir_unwritten_rows_are_logged(
    make_row: MakeRow, caplog: pytest.LogCaptureFixture
) -> None:
    store = ListStore()
    store.failing = True
    writer = BatchedWriter(store, initial_backoff_s=0.01)
    writer.start()
    writer.record(make_row(42))
    with caplog.at_level(logging.ERROR, logger="freehold.ledger"):
        assert writer.close(timeout=0.1) is False
    assert '"id":"req-00042"' in caplog.text


def test_record_after_close_is_spilled(make_row: MakeRow, tmp_path: Path) -> None:
    writer = BatchedWriter(ListStore(), spill_dir=tmp_path)
    writer.start()
    writer.close()
    writer.record(make_row(9))
    assert spilled(tmp_path) == [make_row(9)]


def test_record_never_blocks_on_a_slow_store(make_row: MakeRow) -> None:
    store = ListStore()
    store.gate.clear()  # every write hangs until released
    writer = BatchedWriter(store, max_batch=500)
    writer.start()
    rows = [make_row(i) for i in range(20_000)]
    writer.record(rows[0])
    assert store.entered.wait(5)  # the writer thread is now stuck in the store
    started = time.monotonic()
    for row in rows[1:]:
        writer.record(row)
    assert time.monotonic() - started < 1.0
    store.gate.set()
    assert writer.close() is True
    assert len(store.written) == 20_000


def test_close_gives_up_on_a_hanging_store_and_loses_nothing(
    make_row: MakeRow, tmp_path: Path
) -> None:
    store = ListStore()
    store.gate.clear()
    writer = BatchedWriter(store, max_batch=5, spill_dir=tmp_path)
    writer.start()
    rows = [make_row(i) for i in range(20)]
    writer.record(rows[0])
    assert store.entered.wait(5)
    for row in rows[1:]:
        writer.record(row)
    started = time.monotonic()
    assert writer.close(timeout=0.2) is False
    assert time.monotonic() - started < 3
    store.gate.set()  # the hanging call returns; the writer thread then ends
    deadline = time.monotonic() + 5
    while len(store.written) + len(spilled(tmp_path)) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    written_ids = [r.id for r in store.written]
    spilled_ids = [r.id for r in spilled(tmp_path)]
    assert sorted(written_ids + spilled_ids) == sorted(r.id for r in rows)
    assert written_ids == ["req-00000"]
