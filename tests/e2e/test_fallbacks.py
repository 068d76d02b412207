"""Fallbacks end to end: a model that fails hands the request to its fallbacks in order (on
any failure, or only on a too-long prompt), then to its last resort, whole and streamed;
the data perimeter and the budget hold cover every model a request may reach."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from freehold.config import parse_settings
from freehold.core.types import ChatRequest
from freehold.pipeline.budgeting import Budgeting
from freehold.providers.registry import ProviderRegistry
from freehold.testing.flaky import Faults, flaky_app
from freehold.testing.sensitive_corpus import sensitive_cases
from freehold.testing.servers import ServerThread

from .conftest import Gateway, StartGateway

CHAT = "/v1/chat/completions"


@pytest.fixture
def three() -> Iterator[tuple[list[Faults], list[ServerThread]]]:
    faults = [Faults(seed=n) for n in range(3)]
    servers = [ServerThread(flaky_app(f)) for f in faults]
    for server in servers:
        server.start()
    yield faults, servers
    for server in servers:
        server.stop()


def models(servers: list[ServerThread], **primary: Any) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["models"] += [
            {"name": "primary", "backend": "openai", "base_url": servers[0].url + "/v1",
             "timeout_s": 5, **primary},
            {"name": "second", "backend": "openai", "base_url": servers[1].url + "/v1",
             "timeout_s": 5},
            {"name": "local", "backend": "openai", "base_url": servers[2].url + "/v1",
             "locality": "local", "timeout_s": 5},
        ]  # fmt: skip

    return edit


def ask(model: str = "primary", text: str = "hello there", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def sse_ok(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.text.strip().endswith("data: [DONE]")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_failing_model_falls_back_in_order(
    start_gateway: StartGateway, three: tuple[list[Faults], list[ServerThread]], stream: bool
) -> None:
    faults, servers = three
    faults[0].fail_rate = 1.0
    gateway = start_gateway(models(servers, fallbacks=["second"], degrade_to="local"))
    response = httpx.post(gateway.url + CHAT, json=ask(stream=stream), timeout=10)
    assert sse_ok(response) if stream else response.status_code == 200
    assert response.headers["x-freehold-fallback"] == "second"
    assert response.headers["x-freehold-model"] == "second"
    assert (faults[0].received, faults[1].received, faults[2].received) == (1, 1, 0)
    row = gateway.row(response.headers["x-freehold-request-id"])
    assert [a["model"] for a in row.attempt_log] == ["primary", "second"]
    assert row.attempt_log[0]["error"] == "upstream_error" and row.status == 200

    faults[1].fail_rate = 1.0  # both remote models down: the last resort answers
    response = httpx.post(gateway.url + CHAT, json=ask(stream=stream), timeout=10)
    assert sse_ok(response) if stream else response.status_code == 200
    assert response.headers["x-freehold-fallback"] == "local"
    faults[2].fail_rate = 1.0  # everything down: the last failure stands
    response = httpx.post(gateway.url + CHAT, json=ask(stream=stream), timeout=10)
    assert response.status_code == 502


def test_a_conditional_fallback_only_covers_its_failure(
    start_gateway: StartGateway, three: tuple[list[Faults], list[ServerThread]]
) -> None:
    faults, servers = three
    faults[0].fail_rate, faults[0].statuses = 1.0, (400,)
    faults[0].code = "context_length_exceeded"
    spec = {"fallbacks": [{"model": "second", "on": "context_length_exceeded"}]}
    gateway = start_gateway(models(servers, **spec))
    response = httpx.post(gateway.url + CHAT, json=ask(), timeout=10)
    assert response.status_code == 200 and response.headers["x-freehold-fallback"] == "second"
    faults[0].code = "invalid_value"  # another refusal: not covered, the 400 stands
    response = httpx.post(gateway.url + CHAT, json=ask(), timeout=10)
    assert response.status_code == 400 and "x-freehold-fallback" not in response.headers
    assert faults[1].received == 1


def test_no_fallback_reaches_a_model_outside_the_perimeter(
    start_gateway: StartGateway, three: tuple[list[Faults], list[ServerThread]]
) -> None:
    """A local model whose fallback is remote: under ``redact`` the remote fallback gets the
    prompt redacted (it is part of the plan from the start), under ``local_only`` it is
    never called."""
    faults, servers = three
    faults[2].fail_rate = 1.0  # the local model always fails
    cases = list(sensitive_cases(500))

    def edit(policy: str) -> Any:
        def apply(config: dict[str, Any]) -> None:
            models(servers)(config)
            local = next(m for m in config["models"] if m["name"] == "local")
            local["fallbacks"] = ["second"]
            config["perimeter"] = {
                "custom_terms": ["Project Bluebird", "ACME-7731"],
                "policy": {"pii": policy, "secrets": policy, "custom": policy},
            }

        return apply

    async def send(gateway: Gateway) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            semaphore = asyncio.Semaphore(16)

            async def one(case: Any) -> httpx.Response:
                async with semaphore:
                    return await client.post(gateway.url + CHAT, json=case.body("local"))

            return await asyncio.gather(*(one(c) for c in cases))

    gateway = start_gateway(edit("redact"))
    responses = asyncio.run(send(gateway))
    assert {r.status_code for r in responses} == {200}
    assert {r.headers["x-freehold-fallback"] for r in responses} == {"second"}
    received = servers[1]._server.config.app.state.requests  # type: ignore[attr-defined]
    sent = "\n".join(json.dumps(r["body"], ensure_ascii=False) for r in received)
    sent += "\n".join(json.dumps(r["body"]) for r in received)
    leaked = [v for c in cases for v in c.values if v in sent]
    assert len(received) == 500 and leaked == []

    received.clear()
    gateway = start_gateway(edit("local_only"))
    responses = asyncio.run(send(gateway))
    assert {r.status_code for r in responses} == {502}  # the local model's own failure
    assert received == []


def test_the_budget_hold_covers_the_fallbacks(
    three: tuple[list[Faults], list[ServerThread]],
) -> None:
    _, servers = three
    config: dict[str, Any] = {"models": []}
    models(servers, fallbacks=["second"], degrade_to="local")(config)
    settings = parse_settings(config, "c.yaml", {})
    budgeting = Budgeting(None, ProviderRegistry(settings.models), ())
    calls = budgeting.calls(ChatRequest.model_validate(ask()))
    assert calls is not None
    assert [c.model.name for c in calls] == ["primary", "second", "local"]


def test_retries_and_fallbacks_never_overspend_a_budget(
    start_gateway: StartGateway, three: tuple[list[Faults], list[ServerThread]]
) -> None:
    """300 concurrent requests on one key, to a model whose deployments fail half the time
    and which falls back to another: the settled spend stays within the budget and equals
    the ledger's sum."""
    faults, servers = three
    faults[0].fail_rate, faults[1].fail_rate = 0.5, 0.5
    master = "master-key-for-fallback-tests-0123"
    price = {"input_per_mtok": 2.5, "output_per_mtok": 10.0}

    def edit(config: dict[str, Any]) -> None:
        models(servers)(config)
        primary = next(m for m in config["models"] if m["name"] == "primary")
        del primary["base_url"]
        primary["deployments"] = [
            {"name": "a", "base_url": servers[0].url + "/v1"},
            {"name": "b", "base_url": servers[1].url + "/v1"},
        ]
        primary.update(price=price, retry={"attempts": 2, "backoff_s": 0}, fallbacks=["local"])
        next(m for m in config["models"] if m["name"] == "local")["price"] = price
        config["auth"] = {"master_key": master}

    gateway = start_gateway(edit)
    admin = {"authorization": f"Bearer {master}"}
    budget = Decimal("0.0045")  # about 100 answers of ~45 µ$
    created = httpx.post(
        gateway.url + "/admin/keys", json={"name": "t", "budget_usd": str(budget)}, headers=admin
    ).json()

    async def burst() -> list[httpx.Response]:
        headers = {"authorization": f"Bearer {created['key']}"}
        limits = httpx.Limits(max_connections=300)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        gateway.url + CHAT,
                        json=ask(text=f"spend n{i}", max_tokens=8),
                        headers=headers,
                    )
                    for i in range(300)
                )
            )

    responses = asyncio.run(burst())
    statuses = {r.status_code for r in responses}
    assert statuses <= {200, 429, 502}, statuses
    assert any(r.headers.get("x-freehold-fallback") == "local" for r in responses)
    usage = None
    for _ in range(200):
        usage = httpx.get(gateway.url + f"/admin/keys/{created['id']}", headers=admin).json()[
            "usage"
        ]
        if Decimal(usage["held_usd"]) == 0:
            break
        time.sleep(0.05)
    assert usage is not None and Decimal(usage["held_usd"]) == 0
    spent = Decimal(usage["spend_usd"])
    assert 0 < spent <= budget
    rows = [r for r in gateway.wait_rows(300) if r.key_id == created["id"]]
    assert sum(r.cost_usd for r in rows) == spent
