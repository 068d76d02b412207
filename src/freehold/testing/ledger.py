"""Ledger helpers for tests and benchmarks: an in-memory sink that keeps every row it is
given, and waiting for a store to hold the rows of given requests."""

from __future__ import annotations

import time
from collections.abc import Iterable

from freehold.ledger.base import LedgerRow, LedgerStore


class MemoryLedger:
    def __init__(self) -> None:
        self.rows: list[LedgerRow] = []

    def record(self, row: LedgerRow) -> None:
        self.rows.append(row)


def stored_ids(
    store: LedgerStore, expected: Iterable[str], timeout_s: float, poll_s: float = 0.05
) -> list[str]:
    """The ids of every row in ``store`` (duplicates kept), read once all of ``expected`` are
    there or once ``timeout_s`` has passed, whichever comes first."""
    wanted = set(expected)
    deadline = time.monotonic() + timeout_s
    while True:
        ids = [row.id for row in store.rows()]
        if wanted <= set(ids) or time.monotonic() > deadline:
            return ids
        time.sleep(poll_s)
