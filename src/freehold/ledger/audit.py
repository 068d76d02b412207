"""``audit(rows)``: the data perimeter's record over ledger rows, and its checks (pure).

Each row's ``perimeter`` dict is what the gateway's perimeter wrote for that request
(``{}`` when it did not run): finding kinds and counts, categories, the sensitivity
``label``, the strictest ``policy`` applied, ``redacted`` values, the ``outcome`` and every
model the request reached (``egress``: model, locality, jurisdiction, ``inside``). Never a
sensitive value.

Rows without a perimeter record count in ``requests`` and ``without_perimeter`` only; the
label, policy and outcome tallies cover the rows that have one, a missing value counting as
``"none"``. A request *with findings* has at least one finding kind or category; the
egress summary covers those requests only. The audit fails closed: an egress entry not
marked ``inside: true`` counts as having left the perimeter. The checks are only what the
ledger can prove; whether a redacted request's original values stayed home is not among
them, because the ledger never holds them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from freehold.ledger.base import LedgerRow

#: Request ids listed per failed check (the violation count is always complete).
MAX_IDS = 20
#: Tally key for a missing label, policy, outcome, locality or jurisdiction.
NONE = "none"

SECRET_STAYED = "no secret-level request left the perimeter"
LOCAL_ONLY_STAYED = "local_only requests stayed inside"
BLOCKED_REACHED_NONE = "blocked requests reached no model"
CHECKS = (SECRET_STAYED, LOCAL_ONLY_STAYED, BLOCKED_REACHED_NONE)


@dataclass(frozen=True, slots=True)
class FindingCount:
    """One finding kind: requests where it was found, and values found in all of them."""

    requests: int
    values: int

    def to_json(self) -> dict[str, int]:
        return {"requests": self.requests, "values": self.values}


@dataclass(frozen=True, slots=True)
class Egress:
    """One model that requests with findings reached, and what reached it (request counts)."""

    model: str
    locality: str
    jurisdiction: str
    inside: bool
    requests: int
    findings: dict[str, int]
    categories: dict[str, int]
    policies: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "locality": self.locality,
            "jurisdiction": self.jurisdiction,
            "inside": self.inside,
            "requests": self.requests,
            "findings": dict(self.findings),
            "categories": dict(self.categories),
            "policies": dict(self.policies),
        }


@dataclass(frozen=True, slots=True)
class Check:
    """A rule over the ledger: passed, how many requests broke it, the first MAX_IDS of them."""

    name: str
    passed: bool
    violations: int
    request_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "violations": self.violations,
            "request_ids": list(self.request_ids),
        }


@dataclass(frozen=True, slots=True)
class Audit:
    """The perimeter over a set of rows; mappings are sorted by key, egress outside first."""

    requests: int = 0
    without_perimeter: int = 0
    with_findings: int = 0
    findings: dict[str, FindingCount] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    policies: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    egress: tuple[Egress, ...] = ()
    checks: tuple[Check, ...] = ()

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "without_perimeter": self.without_perimeter,
            "with_findings": self.with_findings,
            "findings": {kind: f.to_json() for kind, f in self.findings.items()},
            "categories": dict(self.categories),
            "labels": dict(self.labels),
            "policies": dict(self.policies),
            "outcomes": dict(self.outcomes),
            "egress": [e.to_json() for e in self.egress],
            "checks": [c.to_json() for c in self.checks],
        }


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value else NONE


def _findings(perimeter: Mapping[str, Any]) -> dict[str, int]:
    """Finding kind -> count, keeping only positive integer counts."""
    raw = perimeter.get("findings")
    if not isinstance(raw, Mapping):
        return {}
    return {
        str(kind): count
        for kind, count in raw.items()
        if isinstance(count, int) and not isinstance(count, bool) and count > 0
    }


def _categories(perimeter: Mapping[str, Any]) -> list[str]:
    raw = perimeter.get("categories")
    if not isinstance(raw, list | tuple):
        return []
    return sorted({item for item in raw if isinstance(item, str) and item})


def _egress(perimeter: Mapping[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(model, locality, jurisdiction, inside) per entry; inside only when marked ``true``."""
    raw = perimeter.get("egress")
    if not isinstance(raw, list | tuple):
        return []
    return [
        (
            _text(entry.get("model")),
            _text(entry.get("locality")),
            _text(entry.get("jurisdiction")),
            entry.get("inside") is True,
        )
        for entry in raw
        if isinstance(entry, Mapping)
    ]


def _left(perimeter: Mapping[str, Any]) -> bool:
    return any(not inside for *_, inside in _egress(perimeter))


def _check(name: str, offenders: list[str]) -> Check:
    return Check(name, not offenders, len(offenders), tuple(offenders[:MAX_IDS]))


def _sorted(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items()))


def audit(rows: Iterable[LedgerRow]) -> Audit:
    """Audit ``rows`` (in ledger order); an empty input passes every check with zero counts."""
    items = list(rows)
    finding_requests: Counter[str] = Counter()
    finding_values: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    policies: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    reached: dict[tuple[str, str, str, bool], list[Mapping[str, Any]]] = {}
    offenders: dict[str, list[str]] = {name: [] for name in CHECKS}
    without = with_findings = 0
    for row in items:
        perimeter = row.perimeter if isinstance(row.perimeter, Mapping) else {}
        if not perimeter:
            without += 1
            continue
        label, policy = _text(perimeter.get("label")), _text(perimeter.get("policy"))
        labels[label] += 1
        policies[policy] += 1
        outcomes[_text(perimeter.get("outcome"))] += 1
        found = _findings(perimeter)
        cats = _categories(perimeter)
        categories.update(cats)
        finding_requests.update(found.keys())
        finding_values.update(found)
        if found or cats:
            with_findings += 1
            for target in dict.fromkeys(_egress(perimeter)):  # once per request and model
                reached.setdefault(target, []).append(perimeter)
        if label == "secret" and _left(perimeter):
            offenders[SECRET_STAYED].append(row.id)
        if policy == "local_only" and _left(perimeter):
            offenders[LOCAL_ONLY_STAYED].append(row.id)
        if policy == "block" and _egress(perimeter):
            offenders[BLOCKED_REACHED_NONE].append(row.id)
    egress = [
        Egress(
            model=model,
            locality=locality,
            jurisdiction=jurisdiction,
            inside=inside,
            requests=len(group),
            findings=_sorted(Counter(kind for p in group for kind in _findings(p))),
            categories=_sorted(Counter(cat for p in group for cat in _categories(p))),
            policies=_sorted(Counter(_text(p.get("policy")) for p in group)),
        )
        for (model, locality, jurisdiction, inside), group in reached.items()
    ]
    egress.sort(key=lambda e: (e.inside, -e.requests, e.model, e.locality, e.jurisdiction))
    return Audit(
        requests=len(items),
        without_perimeter=without,
        with_findings=with_findings,
        findings={
            kind: FindingCount(finding_requests[kind], finding_values[kind])
            for kind in sorted(finding_requests)
        },
        categories=_sorted(categories),
        labels=_sorted(labels),
        policies=_sorted(policies),
        outcomes=_sorted(outcomes),
        egress=tuple(egress),
        checks=tuple(_check(name, offenders[name]) for name in CHECKS),
    )
