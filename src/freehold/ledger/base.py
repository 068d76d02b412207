"""The ledger's row and the small interface every store implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from freehold.core.money import format_usd

#: Column order of exports (``freehold ledger export``).
FIELDS = (
    "id",
    "ts",
    "key_id",
    "requested_model",
    "served_model",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "status",
    "error_type",
    "route",
    "usage_estimated",
    "stream",
    "cost_basis",
    "validation",
    "verdicts",
    "attempts",
    "decision",
    "attempt_log",
    "perimeter",
)


@dataclass(frozen=True, slots=True)
class TextRecord:
    """A request's prompt and the answer of the model that answered it first."""

    request_id: str
    model: str
    prompt: str
    answer: str


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One request, answered or failed.

    ``status`` is the HTTP status the request ended with (for a stream that failed after
    its 200 header, the status of the error). ``ttft_ms`` is the time to the first content
    chunk of a stream, and equals ``latency_ms`` for a non-streaming answer. ``cost_usd``
    is exact to 1e-9 USD; ``cost_basis`` says how it was priced: ``tokens`` (tokens × the
    model's prices) or ``energy`` (a local model's watts × its measured generation time).
    ``validation`` is ``pass`` or ``fail`` when validators ran (else empty), ``verdicts``
    their judgements (validator, passed, reason), and ``attempts`` the calls made (repairs
    included; tokens and cost are their sum). A routed request records its ``decision``
    (policy, choice, scores) and ``attempt_log``: every candidate tried, in order, with its
    tokens, cost, calls and validation. ``perimeter`` is the data perimeter's audit of the
    request: finding types and counts, the sensitivity label, the policy applied and the egress
    decision (model, locality, jurisdiction), never a sensitive value.
    """

    id: str
    ts: datetime  # UTC, timezone-aware
    key_id: str | None
    requested_model: str | None
    served_model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    latency_ms: float
    ttft_ms: float | None
    status: int
    error_type: str | None
    route: str
    usage_estimated: bool
    stream: bool
    cost_basis: str = "tokens"
    validation: str = ""
    verdicts: tuple[dict[str, Any], ...] = ()
    attempts: int = 1
    decision: dict[str, Any] = field(default_factory=dict)
    attempt_log: tuple[dict[str, Any], ...] = ()
    perimeter: dict[str, Any] = field(default_factory=dict)
    text: TextRecord | None = None
    """Prompt and answer, kept only with ``training.keep_text``; never exported."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ISO-8601 timestamp, cost as fixed-point text (no text)."""
        out = asdict(self)
        del out["text"]
        out["ts"] = self.ts.isoformat()
        out["cost_usd"] = format_usd(self.cost_usd)
        out["verdicts"] = list(self.verdicts)
        out["attempt_log"] = list(self.attempt_log)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerRow:
        """The inverse of :meth:`to_json` (reads exports and spill files back)."""
        values = {name: data[name] for name in FIELDS if name in data}
        ts = datetime.fromisoformat(str(values["ts"]))
        values["ts"] = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
        values["cost_usd"] = Decimal(str(values["cost_usd"]))
        for name in ("verdicts", "attempt_log"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Feedback:
    """A judgement of one answer (``POST /v1/feedback``): a score in 0..1 and who gave it."""

    id: str
    request_id: str
    ts: datetime
    score: float
    source: str


class LedgerError(Exception):
    """A ledger store could not be opened, read or written."""


class LedgerNotFound(LedgerError):
    """Opened for reading only, and there is no ledger at that location yet."""

    def __init__(self, location: str) -> None:
        super().__init__(f"no ledger at {location} yet")
        self.location = location


class LedgerStore(Protocol):
    """A database holding ledger rows. Methods are blocking; callers run them off the loop."""

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns that version."""

    def write(self, rows: Sequence[LedgerRow]) -> None:
        """Insert rows in one transaction (all or none); a row whose id is already stored
        is skipped, so writing a row twice (a retry, a journal replay) keeps one."""

    def probe(self) -> None:
        """Raise unless the store takes a write now: a write of the store's own that leaves
        no trace (what tells an outage from a row the store refuses)."""

    def rows(self, since: datetime | None = None) -> list[LedgerRow]:
        """Every row (ts ≥ since), oldest first."""

    def write_feedback(self, items: Sequence[Feedback]) -> None:
        """Insert feedback in one transaction."""

    def feedback(self) -> list[Feedback]:
        """All feedback, oldest first."""

    def texts(self) -> list[TextRecord]:
        """Every kept prompt and answer."""

    def close(self) -> None: ...
