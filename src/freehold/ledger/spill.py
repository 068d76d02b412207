"""The spill file: rows the store did not take, kept as JSON lines for a person to replay.

Each line is one ``LedgerRow.to_json()`` object, readable with ``LedgerRow.from_json``. The
file is created on first use in the spill directory, named with the time and the process
id, and appended to (then ``fsync``-ed) for the process's life.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson

from freehold.ledger.base import LedgerRow

log = logging.getLogger("freehold.ledger")


def spill_line(row: LedgerRow) -> bytes:
    """The row as one spill line; values no JSON encoder takes are written as text."""
    try:
        data = row.to_json()
    except (ArithmeticError, TypeError, ValueError):  # a cost no decimal context can round
        data = {name: getattr(row, name) for name in row.__slots__ if name != "text"}
    try:
        return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # an int beyond 64 bits, a lone surrogate
        return json.dumps(data, default=str, separators=(",", ":")).encode() + b"\n"


class SpillFile:
    """Appends rows to ``ledger-spill-<time>-<pid>.jsonl`` in ``directory`` (None: no file)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.path: Path | None = None
        self._lock = threading.Lock()

    def append(self, rows: Sequence[LedgerRow]) -> Path | None:
        """Append ``rows`` durably; the file's path, or None when there is no spill
        directory or the file cannot be written (logged)."""
        if self.directory is None or not rows:
            return None
        lines = b"".join(spill_line(row) for row in rows)
        with self._lock:
            try:
                path = self._path()
                with path.open("ab") as out:
                    out.write(lines)
                    out.flush()
                    os.fsync(out.fileno())
            except OSError:
                log.exception("ledger: cannot write the spill file in %s", self.directory)
                return None
        return path

    def _path(self) -> Path:
        if self.path is None:
            assert self.directory is not None
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            self.path = self.directory / f"ledger-spill-{stamp}-{os.getpid()}.jsonl"
        return self.path
