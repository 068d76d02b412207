"""The batched ledger writer: the request path hands rows over, one thread writes them.

``record()`` only puts the row on a :class:`queue.SimpleQueue` (safe from the event loop and
from any thread; it never waits on the database). One writer thread takes rows off in
batches (up to ``max_batch`` rows, or what arrived within ``flush_interval_s`` of the first)
and writes each batch in one transaction. A failing store is retried with exponential
backoff, indefinitely while the writer runs, so an outage delays rows but does not lose them.

``close(timeout)`` drains every row recorded before it. Rows the store still refuses when
the timeout runs out are appended to a JSONL spill file in ``spill_dir`` (one
``LedgerRow.to_json()`` object a line, readable with ``LedgerRow.from_json``), and the file
is named in an error log; without a ``spill_dir`` each such row is logged as JSON instead.
The writer does not own the store: whoever opened it closes it, after ``close()``.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from freehold.ledger.base import LedgerRow, LedgerStore

log = logging.getLogger("freehold.ledger")


class _Stop:
    """Queued by close(): everything before it is drained, then the thread ends."""


@dataclass(frozen=True, slots=True)
class _Flush:
    """Queued by flush(): set once every row queued before it has been handled."""

    done: threading.Event


_Item = LedgerRow | _Flush | _Stop


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counts since the writer was made: rows recorded, written to the store, spilled, and
    failed write attempts."""

    recorded: int
    written: int
    spilled: int
    failures: int


class BatchedWriter:
    """Writes ledger rows to ``store`` from one background thread, in batches."""

    def __init__(
        self,
        store: LedgerStore,
        *,
        max_batch: int = 500,
        flush_interval_s: float = 0.05,
        spill_dir: Path | None = None,
        initial_backoff_s: float = 0.05,
        max_backoff_s: float = 5.0,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._store = store
        self._max_batch = max_batch
        self._interval = max(0.0, flush_interval_s)
        self._spill_dir = spill_dir
        self._initial_backoff = initial_backoff_s
        self._max_backoff = max_backoff_s
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders record() against close()
        self._spill_lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._deadline: float | None = None  # set by close(): when retrying gives way to spilling
        self._wake = threading.Event()  # cuts a backoff pause short when close() is called
        self._give_up = False
        self._spill_file: Path | None = None
        self._recorded = self._written = self._spilled = self._failures = 0

    # -- the request side ------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread (once)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="freehold-ledger", daemon=True)
            self._thread.start()
        atexit.register(self._close_at_exit)

    def record(self, row: LedgerRow) -> None:
        """Queue ``row`` for writing; returns at once. Thread-safe and loop-safe."""
        with self._lock:
            if not self._closed:
                self._queue.put(row)
                self._recorded += 1
                return
        log.error("ledger writer already closed: row %s goes to the spill file", row.id)
        self._spill([row])

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every row recorded so far is written (or spilled); False on timeout."""
        done = threading.Event()
        with self._lock:
            if self._closed:
                return True
            if self._thread is None:
                raise RuntimeError("flush() needs a started writer")
            self._queue.put(_Flush(done))
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> bool:
        """Write everything recorded, then stop. Rows still unwritten after ``timeout``
        seconds go to the spill file. True when every row reached the store."""
        with self._lock:
            if self._closed:
                return self._spilled == 0
            self._closed = True
            self._deadline = time.monotonic() + timeout
            self._queue.put(_Stop())
            thread = self._thread
        self._wake.set()
        atexit.unregister(self._close_at_exit)
        if thread is None:
            self._run()  # never started: drain here
        else:
            thread.join(timeout + 1.0)
            if thread.is_alive():
                self._abandon()
        return self._spilled == 0

    def stats(self) -> WriterStats:
        return WriterStats(self._recorded, self._written, self._spilled, self._failures)

    def _close_at_exit(self) -> None:
        self.close()

    # -- the writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch, flushed, stop = self._collect()
            if batch:
                self._commit(batch)
            if flushed is not None:
                flushed.set()
            if stop:
                return

    def _collect(self) -> tuple[list[LedgerRow], threading.Event | None, bool]:
        """The next batch, and whether a flush marker or the stop marker ended it."""
        batch: list[LedgerRow] = []
        item = self._queue.get()
        until = time.monotonic() + self._interval
        while True:
            if isinstance(item, _Stop):
                return batch, None, True
            if isinstance(item, _Flush):
                return batch, item.done, False
            batch.append(item)
            if len(batch) >= self._max_batch:
                return batch, None, False
            remaining = until - time.monotonic()
            try:
                item = self._queue.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                return batch, None, False

    def _commit(self, batch: list[LedgerRow]) -> None:
        """Write one batch, retrying with backoff; spill it once close()'s time is up."""
        delay = self._initial_backoff
        attempts = 0
        while not self._give_up:
            try:
                self._store.write(batch)
            except Exception as exc:  # any store failure is retried, never fatal
                attempts += 1
                self._failures += 1
                self._log_failure(exc, len(batch), attempts, delay)
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self._give_up = True
                    break
                self._pause(delay)
                delay = min(delay * 2, self._max_backoff)
            else:
                self._written += len(batch)
                if attempts:
                    log.info("ledger write succeeded after %d failed attempt(s)", attempts)
                return
        self._spill(batch)

    def _log_failure(self, exc: Exception, size: int, attempts: int, delay: float) -> None:
        if attempts == 1 or delay >= self._max_backoff:
            log.warning(
                "ledger write of %d row(s) failed (attempt %d), retrying: %s", size, attempts, exc
            )

    def _pause(self, delay: float) -> None:
        deadline = self._deadline
        if deadline is None:
            self._wake.wait(delay)  # close() sets the event, ending the pause early
        else:
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))

    def _abandon(self) -> None:
        """close() timed out with the thread still busy (a hanging store call, or a backlog
        too large to write in time): spill what is still queued."""
        self._give_up = True
        left: list[LedgerRow] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, LedgerRow):
                left.append(item)
            elif isinstance(item, _Flush):
                item.done.set()
        self._queue.put(_Stop())  # the thread ends once its store call returns
        log.error("ledger writer did not drain within the close timeout")
        self._spill(left)

    # -- spilling ----------------------------------------------------------------------------
    def _spill(self, rows: list[LedgerRow]) -> None:
        """Append rows to the spill file (or, with no spill_dir, to the error log)."""
        if not rows:
            return
        with self._spill_lock:
            self._spilled += len(rows)
            lines = b"".join(orjson.dumps(row.to_json()) + b"\n" for row in rows)
            if self._spill_dir is not None:
                try:
                    path = self._spill_path()
                    with path.open("ab") as out:
                        out.write(lines)
                        out.flush()
                        os.fsync(out.fileno())
                except OSError:
                    log.exception("ledger: cannot write the spill file; the rows follow")
                else:
                    log.error(
                        "ledger: %d row(s) could not be written to the store; appended to %s",
                        len(rows),
                        path,
                    )
                    return
            for line in lines.splitlines():
                log.error("ledger row not written: %s", line.decode())

    def _spill_path(self) -> Path:
        if self._spill_file is None:
            assert self._spill_dir is not None
            self._spill_dir.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            self._spill_file = self._spill_dir / f"ledger-spill-{stamp}-{os.getpid()}.jsonl"
        return self._spill_file
