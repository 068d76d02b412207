"""An in-memory ledger sink for tests: keeps every row it is given."""

from __future__ import annotations

from freehold.ledger.base import LedgerRow


class MemoryLedger:
    def __init__(self) -> None:
        self.rows: list[LedgerRow] = []

    def record(self, row: LedgerRow) -> None:
        self.rows.append(row)
