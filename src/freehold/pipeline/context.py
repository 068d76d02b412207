"""RequestContext: everything one request accumulates on its way through the pipeline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from freehold.config.schema import ModelSettings
from freehold.core.errors import FreeholdError
from freehold.core.money import ZERO, cost_usd, energy_cost_usd
from freehold.core.types import ChatRequest, Usage


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

    def fail(self, error: FreeholdError) -> None:
        self.error = error
        self.status = error.status
        self.error_type = error.kind
