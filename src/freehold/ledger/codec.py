"""A ledger row as the stores' columns, and back: one mapping for every SQL dialect.

The dialects differ only in how they keep a timestamp and a flag; those conversions are
passed in. Costs are integer nano-dollars; JSON-valued fields are JSON text.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from freehold.core.money import from_nanousd, to_nanousd
from freehold.ledger.base import FIELDS, LedgerRow

#: Column order of the ``freehold_ledger`` table: the row's fields, the cost as nano-dollars.
COLUMNS = tuple("cost_nusd" if name == "cost_usd" else name for name in FIELDS)

_JSON_TUPLES = ("verdicts", "attempt_log")


def to_columns(
    row: LedgerRow, ts: Callable[[datetime], Any], flag: Callable[[bool], Any]
) -> tuple[Any, ...]:
    """The row's values in :data:`COLUMNS` order."""
    return (
        row.id,
        ts(row.ts),
        row.key_id,
        row.requested_model,
        row.served_model,
        row.prompt_tokens,
        row.completion_tokens,
        to_nanousd(row.cost_usd),
        float(row.latency_ms),
        None if row.ttft_ms is None else float(row.ttft_ms),
        row.status,
        row.error_type,
        row.route,
        flag(row.usage_estimated),
        flag(row.stream),
        row.cost_basis,
        row.validation,
        orjson.dumps(list(row.verdicts)).decode(),
        row.attempts,
        orjson.dumps(row.decision).decode(),
        orjson.dumps(list(row.attempt_log)).decode(),
        orjson.dumps(row.perimeter).decode(),
    )


def from_columns(record: Sequence[Any], ts: Callable[[Any], datetime]) -> LedgerRow:
    """A row from values in :data:`COLUMNS` order."""
    values = dict(zip(COLUMNS, record, strict=True))
    values["cost_usd"] = from_nanousd(values.pop("cost_nusd"))
    values["ts"] = ts(values["ts"])
    values["usage_estimated"] = bool(values["usage_estimated"])
    values["stream"] = bool(values["stream"])
    values["decision"] = orjson.loads(values["decision"])
    values["perimeter"] = orjson.loads(values["perimeter"])
    for name in _JSON_TUPLES:
        values[name] = tuple(orjson.loads(values[name]))
    return LedgerRow(**values)


def probe_row() -> LedgerRow:
    """A plausible row with a unique id, written and deleted in one transaction by a store's
    ``probe()``: it exercises the same table, indexes and constraints as a real write."""
    return LedgerRow(
        id=f"freehold-probe-{secrets.token_hex(8)}",
        ts=datetime.now(UTC),
        key_id=None,
        requested_model=None,
        served_model=None,
        prompt_tokens=0,
        completion_tokens=0,
        cost_usd=Decimal(0),
        latency_ms=0.0,
        ttft_ms=None,
        status=0,
        error_type=None,
        route="",
        usage_estimated=False,
        stream=False,
    )
