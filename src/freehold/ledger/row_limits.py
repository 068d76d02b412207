"""What a ledger row may hold: the bounds of every store's columns, checked before a write.

A row's numbers come in part from upstream answers, which are untrusted. Whatever the
request path lets through, a row the stores could not keep (a count beyond a 64-bit
column, a negative or absurd cost, a latency that is not a number) is named here, so the
writer spills it alone instead of failing the batch it travels in.
"""

from __future__ import annotations

import math
from decimal import Decimal

from freehold.core.money import NANO
from freehold.ledger.base import LedgerRow

#: PostgreSQL ``BIGINT`` (and SQLite ``INTEGER``): token counts and nano-dollars.
MAX_BIGINT = 2**63 - 1
#: PostgreSQL ``INTEGER``: status and attempts.
MAX_INT = 2**31 - 1
#: The largest cost a ``BIGINT`` of nano-dollars holds (about 9.2 billion USD).
MAX_COST_USD = Decimal(MAX_BIGINT) * NANO

_COUNTS = (
    ("prompt_tokens", MAX_BIGINT),
    ("completion_tokens", MAX_BIGINT),
    ("status", MAX_INT),
    ("attempts", MAX_INT),
)


def _shown(value: object) -> str:
    """A value fit for a log line (a huge int is not printed whole)."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an int of {value.bit_length()} bits"
    return repr(value)[:60]


def _finite(value: float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond any float
        return False


def row_problem(row: LedgerRow) -> str | None:
    """Why no store can keep ``row``, or None when it is within every column's bounds."""
    for name, top in _COUNTS:
        value = getattr(row, name)
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{name} is not an integer: {_shown(value)}"
        if not 0 <= value <= top:
            return f"{name} {_shown(value)} is outside 0..{top}"
    cost = row.cost_usd
    if not isinstance(cost, Decimal) or not cost.is_finite():
        return f"cost_usd is not a finite decimal: {_shown(cost)}"
    if cost < 0:
        return f"cost_usd {cost} is negative"
    if cost > MAX_COST_USD:
        return f"cost_usd {_shown(cost)} is above {MAX_COST_USD}"
    for name in ("latency_ms", "ttft_ms"):
        value = getattr(row, name)
        if value is None and name == "ttft_ms":
            continue
        if not isinstance(value, int | float) or not _finite(value):
            return f"{name} is not a finite number: {_shown(value)}"
    return None
