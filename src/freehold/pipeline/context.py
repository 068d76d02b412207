"""RequestContext: everything one request accumulates on its way through the pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from freehold.auth.enforcer import Ticket
from freehold.auth.keys import KeyRecord
from freehold.config.schema import ModelSettings
from freehold.core.errors import FreeholdError
from freehold.core.money import ZERO, cost_usd, energy_cost_usd, format_usd
from freehold.core.types import ChatRequest, Usage
from freehold.ledger.base import TextRecord
from freehold.pipeline.fleet import Call
from freehold.pipeline.perimeter_gate import Inspection


@dataclass(slots=True)
class RequestContext:
    request_id: str
    key_id: str | None
    ts: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)
    request: ChatRequest | None = None
    requested_model: str | None = None
    served_model: str | None = None
    route: str = ""
    usage: Usage | None = None
    cost: Decimal = ZERO
    cost_basis: str = "tokens"
    validation: str = ""
    verdicts: tuple[dict[str, Any], ...] = ()
    attempts: int = 1
    first_chunk_at: float | None = None
    status: int = 200
    error: FreeholdError | None = None
    error_type: str | None = None
    decision: dict[str, Any] = field(default_factory=dict)
    """A route's choice and the scores behind it."""
    text: TextRecord | None = None
    """The prompt and first answer, when the ledger keeps texts for training."""
    tried: list[dict[str, Any]] = field(default_factory=list)
    """Candidates a route tried before the current one (each attempt's tokens and cost)."""
    key: KeyRecord | None = None
    """The caller's virtual key, when keys are enabled."""
    ticket: Ticket | None = None
    """The request's budget hold, from admission to settlement."""
    budget_headers: dict[str, str] = field(default_factory=dict)
    """What is left of the caller's budgets and rate limits, for the response."""
    sensitivity: str | None = None
    """The request's ``x-freehold-sensitivity`` header."""
    perimeter: Inspection | None = None
    """What the data perimeter found and decided."""
    calls: list[Call] = field(default_factory=list)
    """Every upstream call, retries included, in order."""
    fallback: str | None = None
    """The fallback model that answered (or was last tried), when the model failed."""
    calls_from: int = 0
    """Where the current candidate's calls start in :attr:`calls`."""

    def perimeter_audit(self) -> dict[str, Any]:
        """The ledger's perimeter record (empty when the perimeter did not run)."""
        return self.perimeter.audit() if self.perimeter is not None else {}

    def elapsed_ms(self, at: float | None = None) -> float:
        return ((at if at is not None else time.perf_counter()) - self.started) * 1000.0

    def settle(self, usage: Usage, model: ModelSettings) -> None:
        """The request's usage, and its cost: by energy when the model is priced so and
        reported its generation time, else tokens × the model's prices."""
        self.usage = usage
        if model.energy is not None and usage.compute_s is not None:
            self.cost = energy_cost_usd(
                model.energy.watts, model.energy.usd_per_kwh, usage.compute_s
            )
            self.cost_basis = "energy"
        else:
            price = model.price.to_price()
            self.cost = cost_usd(price, usage.prompt_tokens, usage.completion_tokens)
            self.cost_basis = "tokens"

    def attempt(self) -> dict[str, Any]:
        """The current candidate's attempt, as the ledger keeps it."""
        usage = self.usage
        return {
            "model": self.served_model,
            "prompt_tokens": usage.prompt_tokens if usage else 0,
            "completion_tokens": usage.completion_tokens if usage else 0,
            "cost_usd": format_usd(self.cost),
            "calls": self.attempts,
            "validation": self.validation,
            "error": self.error_type,
            **self._upstream(),
        }

    def _upstream(self) -> dict[str, Any]:
        """The current candidate's upstream calls, when :func:`_worth_listing`:
        ``{"upstream": [{deployment, kind, ms, status, error}, …]}``."""
        calls = self.calls[self.calls_from :]
        return {"upstream": [c.to_dict() for c in calls]} if _worth_listing(calls) else {}

    def retried(self) -> bool:
        """Whether the request's calls are worth listing in the ledger's attempt log."""
        return _worth_listing(self.calls)

    def escalate(self) -> None:
        """Close the current candidate's attempt and start afresh for the next one."""
        self.tried.append(self.attempt())
        self.calls_from = len(self.calls)
        self.usage, self.cost, self.cost_basis = None, ZERO, "tokens"
        self.validation, self.verdicts, self.attempts = "", (), 1
        self.error, self.error_type, self.status = None, None, 200

    def totals(self) -> tuple[int, int, Decimal, int]:
        """Prompt tokens, completion tokens, cost and upstream calls (retries and repairs
        included) over every attempt."""
        prompt = sum(int(a["prompt_tokens"]) for a in self.tried)
        completion = sum(int(a["completion_tokens"]) for a in self.tried)
        cost = sum((Decimal(a["cost_usd"]) for a in self.tried), ZERO) + self.cost
        calls = len(self.calls) or sum(int(a["calls"]) for a in self.tried) + self.attempts
        if self.usage is not None:
            prompt += self.usage.prompt_tokens
            completion += self.usage.completion_tokens
        return prompt, completion, cost, calls

    def fail(self, error: FreeholdError) -> None:
        self.error = error
        self.status = error.status
        self.error_type = error.kind


def _worth_listing(calls: list[Call]) -> bool:
    """More than one call, or one to a deployment other than a model's first unnamed one
    (``0``): a plain model's single call says nothing the row does not."""
    return len(calls) > 1 or any(c.deployment != "0" for c in calls)
