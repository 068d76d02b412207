"""The ledger: one row per request, kept in SQLite (default) or PostgreSQL.

``open_store(url)`` picks the store from the settings URL; ``BatchedWriter`` takes rows off
the request path and writes them in batches; ``summarise`` totals rows for reports. The
store modules themselves (and psycopg) are imported only when a URL asks for them.
"""

from freehold.core.stats import percentile
from freehold.ledger.base import (
    FIELDS,
    Feedback,
    LedgerError,
    LedgerNotFound,
    LedgerRow,
    LedgerStore,
    TextRecord,
)
from freehold.ledger.factory import describe, open_store
from freehold.ledger.summary import ModelSummary, Summary, summarise
from freehold.ledger.writer import BatchedWriter, WriterStats

__all__ = [
    "FIELDS",
    "BatchedWriter",
    "Feedback",
    "LedgerError",
    "LedgerNotFound",
    "LedgerRow",
    "LedgerStore",
    "ModelSummary",
    "Summary",
    "TextRecord",
    "WriterStats",
    "describe",
    "open_store",
    "percentile",
    "summarise",
]
