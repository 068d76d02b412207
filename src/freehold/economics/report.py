"""``build_report(rows, models)``: what the gateway's traffic cost and earned (pure).

Reads ledger rows through :class:`ReportRow`, the few attributes it needs (the ledger's
``LedgerRow`` has them all), so this stage never imports the ledger.

Which rows count
  * ``requests``, tokens and **spend** cover every row: money spent on a failed call, an
    escalated candidate or a repair is money spent. Client errors (4xx, 499 and 422
    ``validation_failed`` included) and server errors (5xx) are counted apart.
  * An **answer** is a row with status < 400. Per-answer figures (local share, cost per
    answer, the counterfactuals) cover answers only; failed rows are spend, not answers.
  * The **local share** is the answers whose served model is configured ``locality: local``;
    a served model missing from the config counts as not local.
  * The **escalation rate** is the routed rows (``route`` set) whose ``attempt_log`` holds
    more than one attempt, over all routed rows, whatever their status.
  * A **correct** answer is an answer whose ``validation`` is ``pass``. The **validated
    rate** is the correct answers over the rows validators judged (``validation`` not empty,
    a 422 ``validation_failed`` included). Without judged rows there are "no validated
    answers" and no accuracy is invented: the rate, the cost per correct answer and the
    utility are null with that reason.

Cost per correct answer
  * **now**: all spend ÷ correct answers (and ÷ answers, as cost per answer).
  * **all_strongest**: every answer re-priced at the highest-priced remote model (input +
    output USD per million tokens; ties go to the dearer output, then the name).
  * **all_local**: every answer re-priced at the highest-priced local model's token prices.
    Local models are usually free or energy-priced; a counterfactual cannot measure the
    generation time energy pricing needs, so it counts token prices only (zero unless set)
    and is then a lower bound that leaves electricity out.
  A counterfactual re-prices each answer's tokens: those of its last ``attempt_log`` entry
  (the candidate that answered, repairs included) or the row's own when it has no log,
  assuming the other model would use as many tokens, answer once, never fail, and be right
  as often as today: its cost per correct answer divides by today's correct answers, so it
  is the *cost per answer at today's accuracy*. It is null, with a reason, when no model of
  that locality is configured. Each row is priced like the gateway prices a call
  (:func:`freehold.core.money.cost_usd`, exact to 1e-9 USD); quotients are rounded
  half-even to 1e-9 USD.

Utility of inference, per route: ``U = A · R / L^k`` with ``A`` the route's validated rate,
``L`` the p50 time to first token of its answers in seconds (nearest rank, as ``freehold
ledger``), ``R`` the value of a correct answer and ``k`` the latency exponent, both per
route, default ``R = 1`` and ``k = 1`` (so U is correct answers' worth per second waited).
Routes are grouped by name (``NAME`` of ``NAME; policy=…``); requests to a plain model
group under ``-``. U is null with a reason when there are no validated answers, no time to
first token, or a p50 of zero with ``k > 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from freehold.config.schema import ModelSettings
from freehold.core.money import NANO, ZERO, Price, cost_usd, format_usd
from freehold.core.stats import percentile

#: The group of requests sent to a plain model rather than a route.
DIRECT = "-"
NO_VALIDATED = "no validated answers"
DEFAULT_VALUE = 1.0
DEFAULT_LATENCY_EXPONENT = 1.0


class ReportRow(Protocol):
    """The ledger columns the report reads (``freehold.ledger.LedgerRow`` satisfies it)."""

    @property
    def ts(self) -> datetime: ...
    @property
    def served_model(self) -> str | None: ...
    @property
    def prompt_tokens(self) -> int: ...
    @property
    def completion_tokens(self) -> int: ...
    @property
    def cost_usd(self) -> Decimal: ...
    @property
    def ttft_ms(self) -> float | None: ...
    @property
    def status(self) -> int: ...
    @property
    def route(self) -> str: ...
    @property
    def validation(self) -> str: ...
    @property
    def attempt_log(self) -> Sequence[Mapping[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class UtilityParams:
    """A route's value of a correct answer (R) and latency exponent (k)."""

    value: float = DEFAULT_VALUE
    latency_exponent: float = DEFAULT_LATENCY_EXPONENT


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` of ``of``; the rate is None when ``of`` is zero."""

    count: int = 0
    of: int = 0

    @property
    def rate(self) -> float | None:
        return self.count / self.of if self.of else None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "of": self.of, "rate": self.rate}


@dataclass(frozen=True, slots=True)
class Spend:
    """Requests, tokens and spend of one served model or route."""

    name: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    spend: Decimal

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "spend_usd": format_usd(self.spend),
        }


@dataclass(frozen=True, slots=True)
class Scenario:
    """Today's cost, or a counterfactual's; money is None (with ``reason``) when unavailable."""

    name: str
    model: str | None
    spend: Decimal | None
    per_answer: Decimal | None
    per_correct_answer: Decimal | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        def usd(value: Decimal | None) -> str | None:
            return None if value is None else format_usd(value)

        return {
            "model": self.model,
            "spend_usd": usd(self.spend),
            "cost_per_answer_usd": usd(self.per_answer),
            "cost_per_correct_answer_usd": usd(self.per_correct_answer),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class RouteUtility:
    """U = A·R / L^k of one route."""

    route: str
    accuracy: Rate
    ttft_p50_ms: float | None
    params: UtilityParams
    utility: float | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "validated_accuracy": self.accuracy.to_json(),
            "ttft_p50_ms": self.ttft_p50_ms,
            "value": self.params.value,
            "latency_exponent": self.params.latency_exponent,
            "utility": self.utility,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Report:
    requests: int = 0
    answers: int = 0
    client_errors: int = 0
    server_errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    spend: Decimal = ZERO
    by_model: tuple[Spend, ...] = ()
    by_route: tuple[Spend, ...] = ()
    local: Rate = Rate()
    escalation: Rate = Rate()
    validated: Rate = Rate()
    scenarios: tuple[Scenario, ...] = ()
    utility: tuple[RouteUtility, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def correct(self) -> int:
        return self.validated.count

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: money as fixed-point text (nine decimals), rates as count/of/rate."""
        return {
            "requests": self.requests,
            "answers": self.answers,
            "client_errors": self.client_errors,
            "server_errors": self.server_errors,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "spend_usd": format_usd(self.spend),
            "spend_by_model": {s.name: s.to_json() for s in self.by_model},
            "spend_by_route": {s.name: s.to_json() for s in self.by_route},
            "local_share": self.local.to_json(),
            "escalation_rate": self.escalation.to_json(),
            "validated_rate": self.validated.to_json(),
            "correct_answers": self.correct,
            "cost_per_correct_answer": {s.name: s.to_json() for s in self.scenarios},
            "utility": {u.route: u.to_json() for u in self.utility},
            "notes": list(self.notes),
        }


def route_name(route: str) -> str:
    """``NAME`` of the ledger's ``NAME; policy=…``; :data:`DIRECT` for a plain model."""
    return route.split(";", 1)[0].strip() or DIRECT


def _divide(amount: Decimal | None, count: int) -> Decimal | None:
    if amount is None or count == 0:
        return None
    return (amount / count).quantize(NANO, rounding=ROUND_HALF_EVEN)


def _spend(name: str, rows: Sequence[ReportRow]) -> Spend:
    return Spend(
        name=name,
        requests=len(rows),
        prompt_tokens=sum(r.prompt_tokens for r in rows),
        completion_tokens=sum(r.completion_tokens for r in rows),
        spend=sum((r.cost_usd for r in rows), ZERO),
    )


def _groups(rows: Sequence[ReportRow], key: Any) -> tuple[Spend, ...]:
    by: dict[str, list[ReportRow]] = {}
    for row in rows:
        by.setdefault(key(row), []).append(row)
    return tuple(sorted((_spend(k, g) for k, g in by.items()), key=lambda s: (-s.spend, s.name)))


def _validated(rows: Sequence[ReportRow]) -> Rate:
    judged = [r for r in rows if r.validation]
    return Rate(sum(1 for r in judged if r.validation == "pass" and r.status < 400), len(judged))


def answer_tokens(row: ReportRow) -> tuple[int, int]:
    """The prompt and completion tokens of the attempt that answered (the last in the log)."""
    if row.attempt_log:
        last = row.attempt_log[-1]
        return int(last.get("prompt_tokens") or 0), int(last.get("completion_tokens") or 0)
    return row.prompt_tokens, row.completion_tokens


def dearest(models: Iterable[ModelSettings], locality: str) -> ModelSettings | None:
    """The highest-priced model of ``locality`` (input + output, then output, then name)."""
    pool = [m for m in models if m.locality == locality]
    if not pool:
        return None
    return min(
        pool,
        key=lambda m: (
            -(m.price.input_per_mtok + m.price.output_per_mtok),
            -m.price.output_per_mtok,
            m.name,
        ),
    )


def _counterfactual(
    name: str, model: ModelSettings | None, answers: Sequence[ReportRow], correct: int, where: str
) -> Scenario:
    if model is None:
        return Scenario(name, None, None, None, None, f"no {where} model configured")
    price: Price = model.price.to_price()
    spend = sum((cost_usd(price, *answer_tokens(r)) for r in answers), ZERO)
    reason = None if correct else NO_VALIDATED
    return Scenario(
        name, model.name, spend, _divide(spend, len(answers)), _divide(spend, correct), reason
    )


def _utility(name: str, rows: Sequence[ReportRow], params: UtilityParams) -> RouteUtility:
    accuracy = _validated(rows)
    ttfts = [r.ttft_ms for r in rows if r.status < 400 and r.ttft_ms is not None]
    p50 = percentile(ttfts, 50)
    a = accuracy.rate
    if a is None:
        return RouteUtility(name, accuracy, p50, params, None, NO_VALIDATED)
    if p50 is None:
        return RouteUtility(name, accuracy, p50, params, None, "no time to first token")
    if p50 == 0 and params.latency_exponent > 0:
        return RouteUtility(name, accuracy, p50, params, None, "p50 time to first token is 0")
    latency = (p50 / 1000) ** params.latency_exponent
    return RouteUtility(name, accuracy, p50, params, a * params.value / latency)


def _notes(strong: ModelSettings | None, local: ModelSettings | None) -> tuple[str, ...]:
    notes = [
        "spend counts every row; answers are rows with status < 400; correct = validation pass",
        "counterfactuals re-price each answer's tokens (its last attempt) at one model's "
        "prices, assuming as many tokens, one attempt, no failures and today's accuracy: "
        "their cost per correct answer is the cost per answer at today's accuracy",
    ]
    if local is not None and local.energy is None:
        notes.append(f"all_local is the highest-priced local model, {local.name}, at its prices")
    elif local is not None:
        notes.append(
            f"all_local is {local.name} at its token prices: it is priced by energy, which a "
            "counterfactual cannot measure, so all_local leaves electricity out (a lower bound)"
        )
    if strong is not None:
        notes.append(f"all_strongest is the highest-priced remote model, {strong.name}")
    return tuple(notes)


def build_report(
    rows: Iterable[ReportRow],
    models: Sequence[ModelSettings],
    utility: Mapping[str, UtilityParams] | None = None,
    default: UtilityParams = UtilityParams(),
) -> Report:
    """The report over ``rows`` priced with the configured ``models``; ``utility`` gives a
    route's R and k by route name, ``default`` the rest."""
    items = list(rows)
    answers = [r for r in items if r.status < 400]
    local_names = {m.name for m in models if m.locality == "local"}
    routed = [r for r in items if r.route]
    validated = _validated(items)
    strong, local = dearest(models, "remote"), dearest(models, "local")
    spend = sum((r.cost_usd for r in items), ZERO)
    now = Scenario(
        "now",
        None,
        spend,
        _divide(spend, len(answers)),
        _divide(spend, validated.count),
        None if validated.count else NO_VALIDATED,
    )
    by_route: dict[str, list[ReportRow]] = {}
    for row in items:
        by_route.setdefault(route_name(row.route), []).append(row)
    chosen = utility or {}
    return Report(
        requests=len(items),
        answers=len(answers),
        client_errors=sum(1 for r in items if 400 <= r.status < 500),
        server_errors=sum(1 for r in items if r.status >= 500),
        prompt_tokens=sum(r.prompt_tokens for r in items),
        completion_tokens=sum(r.completion_tokens for r in items),
        spend=spend,
        by_model=_groups(items, lambda r: r.served_model or DIRECT),
        by_route=_groups(items, lambda r: route_name(r.route)),
        local=Rate(sum(1 for r in answers if r.served_model in local_names), len(answers)),
        escalation=Rate(sum(1 for r in routed if len(r.attempt_log) > 1), len(routed)),
        validated=validated,
        scenarios=(
            now,
            _counterfactual("all_strongest", strong, answers, validated.count, "remote"),
            _counterfactual("all_local", local, answers, validated.count, "local"),
        ),
        utility=tuple(
            _utility(name, group, chosen.get(name, default))
            for name, group in sorted(by_route.items())
        ),
        notes=_notes(strong, local),
    )
