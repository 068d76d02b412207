"""The data perimeter on the request path: scan a request before routing, decide the policy
(the strictest of its findings' and its sensitivity label's), and say which models it may
reach.

- ``block``: 403 naming the finding types (never the values), before any model is called;
- ``local_only``: only models with ``locality: local`` or a ``jurisdiction`` in
  ``allowed_jurisdictions`` may answer; when none of the request's candidates may, it fails
  closed (403), it never falls back to another model;
- ``redact``: every value is replaced by a typed placeholder before the request leaves for a
  model outside the perimeter, and the originals are put back in the answer;
- ``allow``: nothing changes.

What happened is recorded for the ledger's audit (finding types and counts, label, policy,
where the request went), never the values.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freehold.config.schema import (
    SENSITIVITY_LABELS,
    ModelSettings,
    PerimeterPolicy,
    PerimeterSettings,
    RouteSettings,
)
from freehold.core.errors import InvalidRequest, PerimeterBlocked
from freehold.core.types import ChatRequest
from freehold.perimeter.redact import Redaction, redact_request
from freehold.perimeter.scan import Scanner, ScanOptions, scan_request

STRICTNESS: dict[str, int] = {"allow": 0, "redact": 1, "local_only": 2, "block": 3}
_CATEGORY_KEY = {"pii": "pii", "secret": "secrets", "custom": "custom"}


@dataclass(slots=True)
class Inspection:
    """What the perimeter found in one request and what it decided."""

    policy: PerimeterPolicy = "allow"
    findings: Counter[str] = field(default_factory=Counter)
    categories: set[str] = field(default_factory=set)
    label: str | None = None
    allowed: tuple[str, ...] | None = None
    """Jurisdictions a ``local_only`` request may reach besides local models."""
    redaction: Redaction | None = None
    egress: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = "not_sent"
    refusal: PerimeterBlocked | None = None
    """Set when the request must not go anywhere (the gateway raises it)."""

    def inside(self, model: ModelSettings) -> bool:
        """Whether ``model`` is inside the perimeter: local, or an allowed jurisdiction —
        every one of its deployments, since any of them may take the call."""
        allowed = self.allowed or ()
        return all(
            place.locality == "local"
            or (place.jurisdiction is not None and place.jurisdiction in allowed)
            for _, place in model.deployment_settings()
        )

    def permits(self, model: ModelSettings) -> bool:
        return self.policy != "local_only" or self.inside(model)

    def reach(self, model: ModelSettings) -> None:
        """Record that the request is sent to ``model``."""
        self.outcome = "sent"
        self.egress.append(
            {
                "model": model.name,
                "locality": model.locality,
                "jurisdiction": model.jurisdiction,
                "inside": self.inside(model),
            }
        )

    def audit(self) -> dict[str, Any]:
        """The ledger's record: types and counts, never values."""
        return {
            "findings": dict(sorted(self.findings.items())),
            "categories": sorted(self.categories),
            "label": self.label,
            "policy": self.policy,
            "redacted": sum(self.redaction.counts.values()) if self.redaction else 0,
            "outcome": self.outcome,
            "egress": list(self.egress),
        }


def _read_terms(settings: PerimeterSettings) -> tuple[str, ...]:
    terms = list(settings.custom_terms)
    if settings.custom_terms_file:
        text = Path(settings.custom_terms_file).expanduser().read_text(encoding="utf-8")
        terms.extend(line.strip() for line in text.splitlines() if line.strip())
    return tuple(terms)


class PerimeterGate:
    def __init__(self, settings: PerimeterSettings, routes: Iterable[RouteSettings]) -> None:
        self._settings = settings
        self._routes = {r.name: r for r in routes}
        #: One thread for a detector too slow for the event loop (one: a spaCy pipeline
        #: is not meant to be called from several threads at once).
        self._worker = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="freehold-perimeter")
            if "names" in settings.detectors
            else None
        )
        patterns = {f"{i + 1}": p for i, p in enumerate(settings.custom_patterns)}
        self._scanner = Scanner(
            ScanOptions(
                families=frozenset(settings.detectors),
                entropy_threshold=settings.entropy_threshold,
                phone_regions=settings.phone_regions,
                custom_terms=_read_terms(settings),
                custom_patterns=patterns,
                secret_rule_files=settings.secret_rules,
                names_model=settings.names_model,
            )
        )

    async def inspect_async(
        self,
        request: ChatRequest,
        label: str | None,
        candidates: Sequence[ModelSettings],
    ) -> tuple[ChatRequest, Inspection]:
        """:meth:`inspect`, on the event loop when the detectors are fast (well under a
        millisecond), else (the ``names`` model: ~20 ms per KB) on the perimeter's one worker
        thread, so that other requests keep being served meanwhile."""
        if self._worker is None:
            return self.inspect(request, label, candidates)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self.inspect, request, label, candidates)

    def inspect(
        self,
        request: ChatRequest,
        label: str | None,
        candidates: Sequence[ModelSettings],
    ) -> tuple[ChatRequest, Inspection]:
        """Scan ``request`` and apply its policy: the request to send on (redacted where
        needed) and the inspection, whose ``refusal`` is set for ``block`` and for a
        ``local_only`` request none of whose ``candidates`` it may reach."""
        route = self._routes.get(request.model)
        override = route.perimeter if route is not None else None
        policies = self._settings.policy_for(override)
        result = Inspection(allowed=self._settings.jurisdictions_for(override))
        result.label = _label(label, request)
        body = request.model_dump(mode="json", exclude_unset=True, by_alias=True)
        located = scan_request(self._scanner, body)
        reasons: dict[str, PerimeterPolicy] = {}
        for item in located:
            kind, category = item.finding.kind, item.finding.category
            result.findings[kind] += 1
            result.categories.add(category)
            reasons[kind] = policies.get(kind, policies.get(_CATEGORY_KEY[category], "allow"))
        if result.label is not None:
            reasons[f"sensitivity {result.label}"] = policies.get(result.label, "allow")
        for policy in reasons.values():
            if STRICTNESS[policy] > STRICTNESS[result.policy]:
                result.policy = policy
        why = sorted(name for name, p in reasons.items() if p == result.policy)
        if result.policy == "block":
            result.outcome = "blocked"
            result.refusal = PerimeterBlocked(
                "The request was blocked by the data perimeter: it carries "
                f"{_describe(why)}. Remove it, or ask an administrator about the policy."
            )
            return request, result
        if result.policy == "local_only" and not any(result.permits(m) for m in candidates):
            result.outcome = "no_local_candidate"
            names = ", ".join(m.name for m in candidates)
            places = ", ".join(["local", *result.allowed]) if result.allowed else "local"
            result.refusal = PerimeterBlocked(
                f"The request carries {_describe(why)}, which may only go to models inside "
                f"the perimeter ({places}); {names} {'is' if len(candidates) == 1 else 'are'} "
                "not. Use a local model.",
                code="no_permitted_model",
            )
            return request, result
        if result.policy == "redact" and not all(result.inside(m) for m in candidates):
            redacted, redaction = redact_request(body, located)
            result.redaction = redaction
            request = ChatRequest.model_validate(redacted)
        return request, result


def _label(header: str | None, request: ChatRequest) -> str | None:
    value = header or (request.metadata or {}).get("sensitivity")
    if value is None:
        return None
    label = value.strip().lower()
    if label not in SENSITIVITY_LABELS:
        raise InvalidRequest(
            f"Unknown sensitivity {value!r}: use one of {', '.join(SENSITIVITY_LABELS)}.",
            param="x-freehold-sensitivity" if header else "metadata.sensitivity",
        )
    return label


def _describe(reasons: list[str]) -> str:
    kinds = [r for r in reasons if not r.startswith("sensitivity ")]
    labels = [r.removeprefix("sensitivity ") for r in reasons if r.startswith("sensitivity ")]
    parts = []
    if kinds:
        parts.append("sensitive data (" + ", ".join(kinds) + ")")
    if labels:
        parts.append("the sensitivity label " + ", ".join(labels))
    return " and ".join(parts) or "sensitive data"
