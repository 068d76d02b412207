"""The ledger's local journal: every recorded row is on disk before its response ends.

``append(row)`` writes the row as one JSON line to the process's active *segment* file with
a single ``os.write`` (plus ``fdatasync`` when ``fsync`` is on). A killed process loses
nothing it appended: the data is in the kernel's page cache, which outlives the process
(``fsync`` makes it survive a power loss too). The batched writer tells the journal when rows
have reached the store or the spill file (``settle``); a segment that has been rotated away
(by size or row count) and whose rows are all settled is deleted, as is a fully settled
active segment older than ``max_segment_age_s`` (so that quiet traffic does not keep a
long tail of stored rows to replay).

Ownership: a process holds an exclusive ``flock`` on each of its segments for as long as the
file exists (the kernel drops it when the process dies, however it dies). ``adopt_dead()``
takes the lock of every segment it can, so it claims only the segments of dead processes,
never those of a live one sharing the directory (replicas, workers); its rows are then
written again (the stores skip ids they already hold, so a replay never doubles a row). A
segment is created under a temporary name and renamed once locked, so no other process
ever sees it unlocked. A torn last line (a crash in the middle of a write) is skipped with a
warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from freehold.ledger.base import LedgerRow, TextRecord

log = logging.getLogger("freehold.ledger")

SEGMENT_GLOB = "seg-*.jsonl"
_TEMP_PREFIX = ".tmp-"
#: A temporary file older than this is a leftover of a process that died creating it.
_STALE_TEMP_S = 60.0


@dataclass(eq=False, slots=True)
class Segment:
    """One journal file this process holds (locked) until every row in it is settled."""

    path: Path
    fd: int
    appended: int = 0
    size: int = 0
    settled: int = 0
    retired: bool = False  # no more appends: deleted once settled == appended
    created: float = field(default_factory=time.monotonic)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact, and read back by Decimal(str)
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(row: LedgerRow) -> bytes | None:
    """The row as one JSON line (its prompt and answer included), or None when no JSON
    encoder can represent it."""
    try:
        return orjson.dumps(row, default=_default, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # an int beyond 64 bits, a lone surrogate, a key that is not a str
        pass
    try:
        data = row.to_json()
        data["text"] = None if row.text is None else asdict(row.text)
        return json.dumps(data, default=str, separators=(",", ":")).encode() + b"\n"
    except (TypeError, ValueError):
        return None


def decode(line: bytes) -> LedgerRow:
    """A row from an :func:`encode` line; ValueError (or KeyError, TypeError) if malformed."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        data = json.loads(line)  # what only the fallback encoder wrote
    row = LedgerRow.from_json(data)
    text = data.get("text")
    return row if not text else replace(row, text=TextRecord(**text))


def parse(data: bytes, source: Path) -> list[LedgerRow]:
    """The rows of a segment's content; a torn last line or a malformed line is skipped
    with a warning."""
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a complete line
    if tail:
        log.warning(
            "ledger journal %s: skipped a torn last line (%d bytes, written as the process died)",
            source,
            len(tail),
        )
    rows = []
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            rows.append(decode(line))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ledger journal %s: skipped line %d, not a row: %s", source, number, exc)
    return rows


class Journal:
    """Append-only segments in ``directory``, owned by this process."""

    def __init__(
        self,
        directory: Path,
        *,
        fsync: bool = False,
        max_segment_bytes: int = 4 * 1024 * 1024,
        max_segment_rows: int = 10_000,
        max_segment_age_s: float = 60.0,
    ) -> None:
        self.directory = directory
        self._fsync = fsync
        self._max_bytes = max(1, max_segment_bytes)
        self._max_rows = max(1, max_segment_rows)
        self._max_age = max_segment_age_s
        self._lock = threading.Lock()
        self._active: Segment | None = None
        self._held: set[Segment] = set()  # every segment still on disk and locked by us
        self._closed = False
        self._error_logged_at = -1e9

    # -- the request path ------------------------------------------------------------------
    def append(self, row: LedgerRow) -> Segment | None:
        """Write ``row`` to the active segment (one ``write``); the segment to settle once
        the row is stored, or None when it could not be journaled (logged)."""
        line = encode(row)
        if line is None:
            self._log_error(f"row {row.id} cannot be encoded as JSON; not journaled")
            return None
        with self._lock:
            if self._closed:
                return None
            try:
                segment = self._segment_for(len(line))
                self._write(segment, line)
            except OSError as exc:
                self._log_error(f"cannot append to the journal in {self.directory}: {exc}")
                return None
            segment.appended += 1
            if self._fsync:
                try:
                    os.fdatasync(segment.fd)
                except OSError as exc:
                    self._log_error(f"cannot fsync the journal in {self.directory}: {exc}")
            return segment

    def _segment_for(self, size: int) -> Segment:
        active = self._active
        if (
            active is None
            or active.appended >= self._max_rows
            or (active.size + size > self._max_bytes and active.appended > 0)
        ):
            active = self._rotate()
        return active

    def _write(self, segment: Segment, line: bytes) -> None:
        view = memoryview(line)
        while view:
            try:
                written = os.write(segment.fd, view)
            except OSError:
                if len(view) < len(line):  # part of the line is out: start a fresh file
                    self._retire_active()
                raise
            segment.size += written
            view = view[written:]

    def _rotate(self) -> Segment:
        """A new locked segment becomes the active one; the old one is retired."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # once per segment
        name = f"seg-{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        temp = self.directory / f"{_TEMP_PREFIX}{name}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
        fd = os.open(temp, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path = self.directory / name
            os.rename(temp, path)
            if self._fsync:
                self._sync_directory()
        except OSError:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        segment = Segment(path, fd)
        self._retire_active()
        self._held.add(segment)
        self._active = segment
        return segment

    def _retire_active(self) -> None:
        old, self._active = self._active, None
        if old is not None:
            old.retired = True
            if old.settled >= old.appended:
                self._held.discard(old)
                _delete(old)

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _log_error(self, message: str) -> None:
        """Log a journal failure, at most once a minute (the request goes on regardless)."""
        now = time.monotonic()
        if now - self._error_logged_at >= 60.0:
            self._error_logged_at = now
            log.error("ledger journal: %s", message)

    # -- the writer thread -----------------------------------------------------------------
    def settle(self, segments: Iterable[Segment | None]) -> None:
        """Rows of these segments (one entry per row) reached the store or the spill file."""
        counts = Counter(s for s in segments if s is not None)
        if not counts:
            return
        done = []
        with self._lock:
            if self._closed:
                return
            for segment, count in counts.items():
                segment.settled += count
                finished = segment.retired and segment.settled >= segment.appended
                if finished and segment in self._held:
                    self._held.discard(segment)
                    done.append(segment)
            active = self._active
            if (
                active is not None
                and active.settled >= active.appended
                and time.monotonic() - active.created >= self._max_age
            ):
                self._retire_active()  # quiet traffic: do not keep old rows to replay
        for segment in done:
            _delete(segment)

    def adopt_dead(self) -> list[tuple[LedgerRow, Segment]]:
        """Claim the segments of dead processes: their rows, each with the (locked, retired)
        segment to settle. Segments of live processes are left alone."""
        if not self.directory.is_dir():
            return []
        self._sweep_temporaries()
        adopted: list[tuple[LedgerRow, Segment]] = []
        for path in sorted(self.directory.glob(SEGMENT_GLOB)):
            claimed = _claim(path)
            if claimed is None:
                continue
            segment, rows = claimed
            with self._lock:
                if self._closed:
                    _release(segment)
                    break
                if not rows:
                    _delete(segment)
                    continue
                segment.appended = len(rows)
                self._held.add(segment)
            adopted.extend((row, segment) for row in rows)
        return adopted

    def _sweep_temporaries(self) -> None:
        """Delete temporary files left by processes that died while creating a segment."""
        for path in self.directory.glob(f"{_TEMP_PREFIX}*"):
            try:
                if time.time() - path.stat().st_mtime < _STALE_TEMP_S:
                    continue
            except FileNotFoundError:
                continue
            claimed = _claim(path)
            if claimed is not None:
                _delete(claimed[0])

    # -- shutting down -----------------------------------------------------------------------
    def pending(self) -> int:
        """Rows appended (or adopted) and not yet settled."""
        with self._lock:
            return sum(max(0, s.appended - s.settled) for s in self._held)

    def close(self) -> int:
        """Delete every settled segment and release the rest (replayed at the next start);
        returns how many rows those hold. Appends and settles after this do nothing."""
        with self._lock:
            self._closed = True
            held, self._held, self._active = self._held, set(), None
        left = 0
        for segment in held:
            if segment.settled >= segment.appended:
                _delete(segment)
            else:
                left += segment.appended - segment.settled
                _release(segment)
        if left:
            log.warning(
                "ledger journal: %d row(s) not yet in the ledger stay in %s; they are "
                "replayed at the next start",
                left,
                self.directory,
            )
        return left


def _claim(path: Path) -> tuple[Segment, list[LedgerRow]] | None:
    """Lock ``path`` if no live process holds it; its rows. None when it is live or gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        opened = os.fstat(fd)
        current = os.stat(path)  # deleted (or replaced) since we opened it: not ours to take
        if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
            raise FileNotFoundError(path)
        data = path.read_bytes()
    except OSError:  # BlockingIOError: a live process holds it
        os.close(fd)
        return None
    return Segment(path, fd, retired=True), parse(data, path)


def _delete(segment: Segment) -> None:
    """Remove the file, then drop the lock (so nobody can claim it in between)."""
    try:
        segment.path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("ledger journal: cannot delete %s: %s", segment.path, exc)
    _release(segment)


def _release(segment: Segment) -> None:
    with contextlib.suppress(OSError):
        os.close(segment.fd)
