"""The data perimeter's recall, per kind, end to end: the recall corpus
(:mod:`freehold.testing.recall_corpus`: 3,400 requests, one sensitive value each, 34 kinds of
PII, credentials and custom terms in many written forms and every place of a request) goes
through ``freehold serve`` to a recording mock upstream.

- ``block``: a value is caught when its request is refused (403). Each request's carrier
  alone scans clean (:func:`test_carriers_alone_are_clean`), so a refusal is the value's;
  nothing of a refused request reaches the mock.
- ``redact``: a value is caught when no part of it, in any JSON form, reaches the mock.

Recall must reach 99.5% for every kind under both policies; ``-s`` prints the table. At 100
values a kind that means none missed."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from freehold.perimeter.checksums import (
    insee_valid,
    luhn_valid,
    mod97_valid,
    steuer_id_valid,
    verhoeff_valid,
)
from freehold.perimeter.scan import Scanner, ScanOptions, scan_request
from freehold.testing.recall_corpus import PLACES, SPECS, body_text, exposed, recall_cases
from freehold.testing.sensitive_corpus import CUSTOM_TERMS, Case
from freehold.testing.servers import ServerThread

from .conftest import Gateway, StartGateway

CHAT = "/v1/chat/completions"
PER_KIND = 100
MIN_RECALL = 0.995
CASES = recall_cases(PER_KIND)


def perimeter(policy: str) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["perimeter"] = {
            "custom_terms": list(CUSTOM_TERMS),
            "policy": {key: policy for key in ("pii", "secrets", "custom")},
        }

    return edit


@pytest.fixture
def received(openai_upstream: ServerThread) -> Iterator[list[dict[str, Any]]]:
    """What the remote upstream receives during one test."""
    app: Any = openai_upstream._server.config.app
    requests: list[dict[str, Any]] = app.state.requests
    requests.clear()
    yield requests
    requests.clear()


def tag(index: int) -> str:
    return f"recall-{index}"


async def send(gateway: Gateway, cases: list[Case]) -> list[httpx.Response]:
    """Every case, 32 at a time; each body's ``user`` says which case it is."""
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(32)

        async def one(index: int, case: Case) -> httpx.Response:
            async with semaphore:
                body = {**case.body("cloud-big"), "user": tag(index)}
                try:
                    return await client.post(gateway.url + CHAT, json=body)
                except httpx.TransportError:
                    # a pooled connection the server closed as it idled (keep-alive race
                    # on a loaded machine): send again, as the OpenAI clients do
                    return await client.post(gateway.url + CHAT, json=body)

        return await asyncio.gather(*(one(i, c) for i, c in enumerate(cases)))


def by_tag(received: list[dict[str, Any]]) -> dict[str, str]:
    """The body the mock received for each case, as JSON text."""
    return {r["body"].get("user", ""): body_text(r["body"]) for r in received}


def report(policy: str, caught: dict[int, bool]) -> list[str]:
    """Print recall per kind; the kinds under :data:`MIN_RECALL`, with their misses."""
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    misses: dict[str, list[str]] = {}
    for index, ok in caught.items():
        kind = CASES[index].kinds[0]
        totals[kind] += 1
        hits[kind] += ok
        if not ok:
            misses.setdefault(kind, []).append(CASES[index].name)
    print(f"\nrecall under {policy}, through the gateway ({len(caught):,} values)")
    print(f"{'kind':<26} {'values':>6} {'caught':>6} {'recall':>8}")
    for kind in totals:
        print(f"{kind:<26} {totals[kind]:>6} {hits[kind]:>6} {hits[kind] / totals[kind]:>8.1%}")
    print(f"{'all':<26} {len(caught):>6} {sum(hits.values()):>6}")
    return [
        f"{kind} {hits[kind]}/{totals[kind]}: {', '.join(misses[kind][:5])}"
        for kind in totals
        if hits[kind] / totals[kind] < MIN_RECALL
    ]


def test_the_corpus_covers_every_kind_in_every_place() -> None:
    assert len(CASES) >= 3000
    kinds = Counter(kind for case in CASES for kind in case.kinds)
    assert set(kinds) == set(SPECS) and min(kinds.values()) >= 60
    for case in CASES:
        assert len(case.kinds) == len(case.values) == 1, case.name
    places = {(c.kinds[0], c.name.split("/")[-2]) for c in CASES}
    assert places == {(kind, place) for kind in SPECS for place in PLACES}
    variants = {(c.kinds[0], c.name.split("/")[1].split(":")[0]) for c in CASES}
    assert len(variants) >= 5 * len(SPECS)
    values = [v for c in CASES for v in c.values if c.kinds != ("custom",)]
    assert len(set(values)) == len(values), "values repeat"
    checks = {
        "card": luhn_valid,
        "iban": lambda v: mod97_valid(v.upper()),
        "de_steuer_id": steuer_id_valid,
        "fr_insee": insee_valid,
        "in_aadhaar": verhoeff_valid,
    }
    for case in CASES:
        check = checks.get(case.kinds[0])
        assert check is None or check(re.sub(r"[ .-]", "", case.values[0])), case.name


def test_carriers_alone_are_clean() -> None:
    """Every request with its value taken out scans clean with the gateway's detectors: a
    refusal under ``block`` is then the value's doing."""
    scanner = Scanner(ScanOptions(custom_terms=CUSTOM_TERMS))
    blank = recall_cases(PER_KIND, blank=True)
    assert [c.name.split("/")[0] for c in blank] == [c.name.split("/")[0] for c in CASES]
    noisy = [
        f"{case.name}: {sorted({f.finding.kind for f in found})}"
        for case in blank
        if (found := scan_request(scanner, case.body("x")))
    ]
    assert noisy == [], f"{len(noisy)} carriers have findings: {noisy[:10]}"


def test_block_recall_per_kind(start_gateway: StartGateway, received: list[dict[str, Any]]) -> None:
    gateway = start_gateway(perimeter("block"))
    responses = asyncio.run(send(gateway, CASES))
    assert {r.status_code for r in responses} <= {200, 403}
    refused = {i for i, r in enumerate(responses) if r.status_code == 403}
    assert {responses[i].json()["error"]["code"] for i in refused} <= {"sensitive_data_blocked"}
    # nothing of a refused request reached the upstream; every other one did, once
    bodies = by_tag(received)
    assert len(received) == len(CASES) - len(refused)
    assert set(bodies) == {tag(i) for i in range(len(CASES)) if i not in refused}
    under = report("block", {i: i in refused for i in range(len(CASES))})
    assert under == [], f"kinds under {MIN_RECALL:.1%} recall under block: {under}"


def test_redact_recall_per_kind(
    start_gateway: StartGateway, received: list[dict[str, Any]]
) -> None:
    gateway = start_gateway(perimeter("redact"))
    responses = asyncio.run(send(gateway, CASES))
    assert {r.status_code for r in responses} == {200}, {
        r.text[:200] for r in responses if r.status_code != 200
    }
    bodies = by_tag(received)
    assert len(received) == len(CASES)
    assert set(bodies) == {tag(i) for i in range(len(CASES))}
    caught = {i: not exposed(bodies[tag(i)], case.values[0]) for i, case in enumerate(CASES)}
    under = report("redact", caught)
    assert under == [], f"kinds under {MIN_RECALL:.1%} recall under redact: {under}"
