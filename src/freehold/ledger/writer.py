"""The batched ledger writer: the request path hands rows over, one thread writes them.

``record()`` appends the row to the local journal (one ``write``; see
:mod:`freehold.ledger.journal`), so it survives a killed process from the moment the call
returns, then puts it on a :class:`queue.SimpleQueue` (safe from the event loop and from any
thread; it never waits on the database). One writer thread takes rows off in batches (up to
``max_batch`` rows, or what arrived within ``flush_interval_s`` of the first) and writes each
batch in one transaction. On start, that thread first replays what dead processes left in
the journal.

A row no store could keep (:func:`~freehold.ledger.row_limits.row_problem`) is spilled alone
before the batch is written. When a batch fails, the store's probe tells an outage (retried
with exponential backoff, indefinitely while the writer runs: rows are delayed, never lost)
from a row the working store refuses (found by :func:`~freehold.ledger.isolation.isolate`,
spilled alone with one log line naming it; the rows around it are written).

``close(timeout)`` drains every row recorded before it. Rows the store still refuses when
the timeout runs out are appended to a JSONL spill file in ``spill_dir`` (one
``LedgerRow.to_json()`` object a line, readable with ``LedgerRow.from_json``), and the file
is named in an error log; without a ``spill_dir`` each such row is logged as JSON instead.
The writer does not own the store: whoever opened it closes it, after ``close()``.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from freehold.ledger.base import LedgerRow, LedgerStore
from freehold.ledger.isolation import isolate
from freehold.ledger.journal import Journal, Segment
from freehold.ledger.row_limits import row_problem
from freehold.ledger.spill import SpillFile, spill_line

log = logging.getLogger("freehold.ledger")

#: A row on its way to the store, with the journal segment to settle once it is there.
_Entry = tuple[LedgerRow, Segment | None]


class _Stop:
    """Queued by close(): everything before it is drained, then the thread ends."""


@dataclass(frozen=True, slots=True)
class _Flush:
    """Queued by flush(): set once every row queued before it has been handled."""

    done: threading.Event


_Item = _Entry | _Flush | _Stop


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counts since the writer was made: rows recorded, written to the store, spilled
    (refused ones included), and failed write attempts; rows refused by the store or its
    bounds, and rows replayed from dead processes' journals."""

    recorded: int
    written: int
    spilled: int
    failures: int
    refused: int = 0
    replayed: int = 0


def _reason(exc: BaseException) -> str:
    """An error's first line, bounded, for a log line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


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
        journal: Journal | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._store = store
        self._max_batch = max_batch
        self._interval = max(0.0, flush_interval_s)
        self._spill_file = SpillFile(spill_dir)
        self._journal = journal
        self._initial_backoff = initial_backoff_s
        self._max_backoff = max_backoff_s
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders record() against close()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._deadline: float | None = None  # set by close(): when retrying gives way to spilling
        self._wake = threading.Event()  # cuts a backoff pause short when close() is called
        self._give_up = False
        self._recorded = self._written = self._spilled = self._failures = 0
        self._refused = self._replayed = 0

    @property
    def journal(self) -> Journal | None:
        return self._journal

    # -- the request side ------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer thread (once); it replays dead processes' journals first."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the ledger writer is closed")
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run_started, name="freehold-ledger", daemon=True
            )
            self._thread.start()
        atexit.register(self._close_at_exit)

    def record(self, row: LedgerRow) -> None:
        """Journal ``row`` and queue it for writing; returns at once. Thread-safe and
        loop-safe."""
        with self._lock:
            if not self._closed:
                segment = self._journal.append(row) if self._journal is not None else None
                self._queue.put((row, segment))
                self._recorded += 1
                return
        log.error("ledger writer already closed: row %s goes to the spill file", row.id)
        self._spill([(row, None)])

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
        if self._journal is not None:
            self._journal.close()
        return self._spilled == 0

    def stats(self) -> WriterStats:
        return WriterStats(
            self._recorded,
            self._written,
            self._spilled,
            self._failures,
            self._refused,
            self._replayed,
        )

    def _close_at_exit(self) -> None:
        self.close()

    # -- the writer thread -----------------------------------------------------------------
    def _run_started(self) -> None:
        self._replay()
        self._run()

    def _run(self) -> None:
        while True:
            batch, flushed, stop = self._collect()
            if batch:
                self._commit(batch)
            if flushed is not None:
                flushed.set()
            if stop:
                return

    def _replay(self) -> None:
        """Write the rows that dead processes left in the journal, before any new row."""
        if self._journal is None:
            return
        try:
            adopted = self._journal.adopt_dead()
        except OSError as exc:
            log.error("ledger journal: cannot read %s: %s", self._journal.directory, exc)
            return
        if not adopted:
            return
        log.warning(
            "ledger journal: replaying %d row(s) left in %s by a stopped process",
            len(adopted),
            self._journal.directory,
        )
        self._replayed += len(adopted)
        for start in range(0, len(adopted), self._max_batch):
            self._commit(adopted[start : start + self._max_batch])

    def _collect(self) -> tuple[list[_Entry], threading.Event | None, bool]:
        """The next batch, and whether a flush marker or the stop marker ended it."""
        batch: list[_Entry] = []
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

    def _commit(self, batch: Sequence[_Entry]) -> None:
        """Write one batch: rows out of bounds are refused first; a failure is retried with
        backoff while the store is down, and split while it works; once close()'s time is
        up, what is left is spilled."""
        pending = self._screen(batch)
        delay = self._initial_backoff
        attempts = 0
        outage = False
        while pending and not self._give_up:
            try:
                self._write(pending)
            except Exception as exc:  # any store failure is retried or isolated, never fatal
                attempts += 1
                self._failures += 1
                pending = self._after_failure(pending, exc)
                if not pending:
                    break
                outage = True
                self._log_failure(exc, len(pending), attempts, delay)
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self._give_up = True
                    break
                self._pause(delay)
                delay = min(delay * 2, self._max_backoff)
            else:
                self._done(pending)
                pending = []
        if outage and not pending:
            log.info("ledger write succeeded after %d failed attempt(s)", attempts)
        self._spill(pending)

    def _screen(self, batch: Sequence[_Entry]) -> list[_Entry]:
        """The batch without the rows no store can keep (those are refused here)."""
        kept = []
        for entry in batch:
            problem = row_problem(entry[0])
            if problem is None:
                kept.append(entry)
            else:
                self._refuse(entry, problem)
        return kept

    def _write(self, entries: Sequence[_Entry]) -> None:
        self._store.write([row for row, _ in entries])

    def _probe(self) -> bool:
        """Whether the store takes a write now (a failure here means: it is down)."""
        try:
            self._store.probe()
        except Exception:  # whatever the store raises, it is not taking writes
            return False
        return True

    def _after_failure(self, entries: list[_Entry], exc: Exception) -> list[_Entry]:
        """After a failed write: the rows still to retry. While the store is down that is
        all of them; when it works, the batch is tried once more (a dropped connection, a
        lock that came free), then split to find and refuse the rows it will not take."""
        if not self._probe():
            return entries
        try:
            self._write(entries)
        except Exception as again:  # the same batch fails on a working store: find why
            if not self._probe():
                return entries
            found = isolate(entries, again, self._write, self._probe)
            self._done(found.written)
            for entry, error in found.refused:
                self._refuse(entry, f"refused by the store: {_reason(error)}")
            return found.unresolved
        self._done(entries)
        return []

    def _done(self, entries: Sequence[_Entry]) -> None:
        self._written += len(entries)
        if self._journal is not None:
            self._journal.settle(segment for _, segment in entries)

    def _refuse(self, entry: _Entry, reason: str) -> None:
        """Spill one row the store cannot keep, with one log line naming it and why."""
        row = entry[0]
        self._refused += 1
        self._spilled += 1
        path = self._spill_file.append([row])
        if path is not None:
            log.error("ledger: row %s not written (%s); appended to %s", row.id, reason, path)
            if self._journal is not None:
                self._journal.settle([entry[1]])
        else:
            log.error(
                "ledger: row %s not written (%s): %s",
                row.id,
                reason,
                spill_line(row).decode(errors="replace").rstrip(),
            )

    def _log_failure(self, exc: Exception, size: int, attempts: int, delay: float) -> None:
        if attempts == 1 or delay >= self._max_backoff:
            log.warning(
                "ledger write of %d row(s) failed (attempt %d), retrying: %s",
                size,
                attempts,
                _reason(exc),
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
        left: list[_Entry] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                left.append(item)
            elif isinstance(item, _Flush):
                item.done.set()
        self._queue.put(_Stop())  # the thread ends once its store call returns
        log.error("ledger writer did not drain within the close timeout")
        self._spill(left)

    # -- spilling ----------------------------------------------------------------------------
    def _spill(self, entries: Sequence[_Entry]) -> None:
        """Append rows to the spill file (or, with no spill_dir, to the error log). Their
        journal entries are settled only once the file holds them."""
        if not entries:
            return
        self._spilled += len(entries)
        rows = [row for row, _ in entries]
        path = self._spill_file.append(rows)
        if path is not None:
            log.error(
                "ledger: %d row(s) could not be written to the store; appended to %s",
                len(rows),
                path,
            )
            if self._journal is not None:
                self._journal.settle(segment for _, segment in entries)
            return
        for row in rows:
            line = spill_line(row).decode(errors="replace").rstrip()
            log.error("ledger row not written: %s", line)
