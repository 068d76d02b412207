"""Keys, budgets and rate limits through real ``freehold serve`` processes: a budget holds
under 500 concurrent requests, also across two replicas sharing Redis and a PostgreSQL
ledger; revocation is immediate everywhere; the admin API is for the master key only."""

from __future__ import annotations

import asyncio
import secrets
import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from freehold.ledger import open_store
from freehold.ledger.base import LedgerRow
from freehold.testing.servers import ServerThread

from .conftest import Gateway, MakeClient, StartGateway

MASTER = "master-key-for-tests-0123456789"
ADMIN = {"authorization": f"Bearer {MASTER}"}
CHAT = "/v1/chat/completions"
# The mock counts words: prompt "<marker> n<i>" is 2 tokens, the reply "You said: <marker>
# n<i>" 4; at cloud-big's $2.5/$10 per Mtok that is 2*2.5 + 4*10 = $45e-6 a request.
COST = Decimal("0.000045")


def with_keys(store: str | None = None, ledger: str | None = None) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["auth"] = {"master_key": MASTER}
        if store is not None:
            config["budgets"] = {"store": store}
        if ledger is not None:
            config["ledger"] = ledger

    return edit


def create_key(gateway: Gateway, **body: Any) -> dict[str, Any]:
    response = httpx.post(gateway.url + "/admin/keys", json={"name": "t", **body}, headers=ADMIN)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def upstream_calls(upstream: ServerThread, marker: str) -> int:
    received = upstream._server.config.app.state.requests  # type: ignore[attr-defined]
    return sum(marker in str(r["body"]) for r in received)


async def burst(urls: list[str], key: str, marker: str, n: int) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        return await asyncio.gather(
            *(
                client.post(
                    urls[i % len(urls)] + CHAT,
                    json={
                        "model": "cloud-big",
                        "max_tokens": 8,
                        "messages": [{"role": "user", "content": f"{marker} n{i}"}],
                    },
                    headers={"authorization": f"Bearer {key}"},
                )
                for i in range(n)
            )
        )


def settled_spend(gateway: Gateway, key_id: str) -> tuple[Decimal, int, int]:
    """The key's settled spend, requests and tokens, once every hold is settled (settlement
    runs just after each response)."""
    deadline = time.monotonic() + 10
    while True:
        line = httpx.get(gateway.url + f"/admin/keys/{key_id}", headers=ADMIN).json()["usage"]
        if Decimal(line["held_usd"]) == 0:
            return Decimal(line["spend_usd"]), line["requests"], line["tokens"]
        assert time.monotonic() < deadline, f"holds never settled: {line}"
        time.sleep(0.05)


def check_burst(
    responses: list[httpx.Response], upstream: ServerThread, marker: str, budget: Decimal
) -> list[httpx.Response]:
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert all(r.status_code == 429 for r in refused), {
        (r.status_code, r.text[:300]) for r in refused if r.status_code != 429
    }
    assert all(r.json()["error"]["code"] == "budget_exceeded" for r in refused)
    # every refusal happened before the upstream: it saw exactly the admitted requests
    assert upstream_calls(upstream, marker) == len(ok)
    assert len(ok) * COST <= budget
    # worst-case holds are ~3.5x the actual cost, so concurrency admits fewer than 100 at
    # once; settlements free room for later ones
    assert len(ok) >= 25
    return ok


def test_500_concurrent_requests_never_overspend_one_key(
    start_gateway: StartGateway, openai_upstream: ServerThread
) -> None:
    gateway = start_gateway(with_keys())
    budget = COST * 100
    key = create_key(gateway, budget_usd=str(budget), tags=["team=ml"])
    marker = f"budget-{secrets.token_hex(4)}"
    responses = asyncio.run(burst([gateway.url], key["key"], marker, 500))
    ok = check_burst(responses, openai_upstream, marker, budget)
    spent, requests, _ = settled_spend(gateway, key["id"])
    assert spent == COST * len(ok) <= budget
    assert requests == len(ok)
    rows = [r for r in wait_rows(gateway.rows, 500) if r.key_id == key["id"]]
    assert len(rows) == 500
    assert sum(r.cost_usd for r in rows) == spent
    assert sorted({r.status for r in rows}) == [200, 429]
    assert all(r.error_type == "budget_exceeded" for r in rows if r.status == 429)


def wait_rows(read: Any, count: int, timeout: float = 10.0) -> list[LedgerRow]:
    deadline = time.monotonic() + timeout
    while True:
        rows: list[LedgerRow] = read()
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.redis
def test_two_replicas_share_one_budget_through_redis_and_postgres(
    start_gateway: StartGateway, openai_upstream: ServerThread, redis_url: str, pg_url: str
) -> None:
    edit = with_keys(store=redis_url, ledger=pg_url)
    first, second = start_gateway(edit), start_gateway(edit)
    budget = COST * 100
    key = create_key(first, budget_usd=str(budget))
    marker = f"replicas-{secrets.token_hex(4)}"
    responses = asyncio.run(burst([first.url, second.url], key["key"], marker, 500))
    ok = check_burst(responses, openai_upstream, marker, budget)
    # both replicas served some of the admitted requests
    served_by = {r.headers["x-freehold-request-id"] for r in ok}
    assert len(served_by) == len(ok)
    spent, requests, _ = settled_spend(second, key["id"])
    assert requests == len(ok)
    assert spent == COST * len(ok) <= budget

    def pg_rows() -> list[LedgerRow]:
        store = open_store(pg_url)
        try:
            return [r for r in store.rows() if r.key_id == key["id"]]
        finally:
            store.close()

    rows = wait_rows(pg_rows, 500)
    assert len(rows) == 500
    assert len({r.id for r in rows}) == 500
    assert {r.id for r in rows if r.status == 200} == served_by
    # no double counting: the ledger and the budget store agree to the nano-dollar
    assert sum(r.cost_usd for r in rows) == spent


@pytest.mark.redis
def test_revocation_is_immediate_on_every_replica(
    start_gateway: StartGateway, redis_url: str, make_client: MakeClient
) -> None:
    edit = with_keys(store=redis_url)
    first, second = start_gateway(edit), start_gateway(edit)
    key = create_key(first)
    clients = [make_client(g, key["key"]) for g in (first, second)]
    for client in clients:
        reply = client.chat.completions.create(
            model="cloud-big", messages=[{"role": "user", "content": "hi"}]
        )
        assert reply.choices[0].message.content == "You said: hi"
    revoked = httpx.post(second.url + f"/admin/keys/{key['id']}/revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked"]
    for gateway in (first, second):
        response = httpx.post(
            gateway.url + CHAT,
            json={"model": "cloud-big", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": f"Bearer {key['key']}"},
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert key["key"] not in response.text


def test_keys_are_required_scoped_and_rate_limited(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    import openai

    gateway = start_gateway(with_keys())
    body = {"model": "cloud-big", "messages": [{"role": "user", "content": "hi"}]}
    missing = httpx.post(gateway.url + CHAT, json=body)
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    scoped = create_key(gateway, models=["claude"], rpm=2)
    denied = httpx.post(
        gateway.url + CHAT, json=body, headers={"authorization": f"Bearer {scoped['key']}"}
    )
    assert denied.status_code == 403 and denied.json()["error"]["param"] == "model"
    client = make_client(gateway, scoped["key"])
    raw = client.chat.completions.with_raw_response.create(
        model="claude", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-ratelimit-remaining-requests"] == "1"
    client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "rate_limit_exceeded"
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 60


def test_streams_settle_at_their_end_and_headers_show_the_budget(
    start_gateway: StartGateway, make_client: MakeClient
) -> None:
    gateway = start_gateway(with_keys())
    key = create_key(gateway, budget_usd="1", budget_tokens=100_000)
    client = make_client(gateway, key["key"])
    raw = client.chat.completions.with_raw_response.create(
        model="cloud-big", max_tokens=8, messages=[{"role": "user", "content": "one two"}]
    )
    # whole answers report what is left after settlement: $1 - $45e-6
    assert raw.headers["x-freehold-budget-remaining-usd"] == "0.999955000"
    assert raw.headers["x-freehold-budget-remaining-tokens"] == str(100_000 - 6)
    stream = client.chat.completions.create(
        model="cloud-big",
        stream=True,
        messages=[{"role": "user", "content": "three four"}],
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "You said: three four"
    spent, requests, tokens = settled_spend(gateway, key["id"])
    assert (spent, requests, tokens) == (COST * 2, 2, 12)
    rows = wait_rows(gateway.rows, 2)
    stream_row = next(r for r in rows if r.stream)
    assert stream_row.key_id == key["id"] and stream_row.cost_usd == COST


def test_the_admin_api_is_for_the_master_key_only(start_gateway: StartGateway) -> None:
    gateway = start_gateway(with_keys())
    for headers in ({}, {"authorization": "Bearer nope"}):
        response = httpx.get(gateway.url + "/admin/keys", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
    created = create_key(gateway, budget_usd="5", period="day", tags=["team=a"])
    assert created["key"].startswith("fh-")
    listed = httpx.get(gateway.url + "/admin/keys", headers=ADMIN).json()["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert created["key"] not in str(listed)
    patched = httpx.patch(
        gateway.url + f"/admin/keys/{created['id']}",
        json={"budget_usd": None, "rpm": 10, "name": "renamed"},
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["budget_usd"], patched.json()["rpm"]) == (None, 10)
    assert patched.json()["name"] == "renamed"
    bad = [
        ("post", "/admin/keys", {"name": "x", "models": ["nope"]}, 400, "models"),
        ("post", "/admin/keys", {"name": "x", "tags": ["team"]}, 400, "tags"),
        ("post", "/admin/keys", {"name": "x", "budget_usd": -1}, 400, "budget_usd"),
        ("post", "/admin/keys", {"name": "x", "period": "week"}, 400, "period"),
        ("post", "/admin/keys", {"budget_usd": 1}, 400, "name"),
        ("patch", "/admin/keys/key_000000000000", {"rpm": 1}, 404, "id"),
    ]
    for method, path, body, status, param in bad:
        response = httpx.request(method, gateway.url + path, json=body, headers=ADMIN)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["param"] == param
    gone = httpx.delete(gateway.url + f"/admin/keys/{created['id']}", headers=ADMIN)
    assert gone.json()["revoked"] is not None
    report = httpx.get(gateway.url + "/admin/budget", headers=ADMIN).json()
    assert [(line["kind"], line["name"]) for line in report["lines"]] == [
        ("key", created["id"]),
        ("tag", "team=a"),
    ]


def test_the_admin_api_is_off_without_a_master_key(gateway: Gateway) -> None:
    response = httpx.get(gateway.url + "/admin/keys", headers=ADMIN)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admin_disabled"


@pytest.mark.redis
def test_a_free_model_on_redis_counts_every_request_and_leaves_no_hold(
    start_gateway: StartGateway, redis_url: str
) -> None:
    """A price-0 model holds 0 USD: every settlement must still release its hold and count
    the request (Redis once refused to release 0, so a token budget filled with holds)."""

    def edit(config: dict[str, Any]) -> None:
        with_keys(store=redis_url)(config)
        free = {**config["models"][0], "name": "free"}
        free["price"] = {"input_per_mtok": 0, "output_per_mtok": 0}
        config["models"].append(free)

    gateway = start_gateway(edit)
    budget = 200
    key = create_key(gateway, budget_tokens=budget)
    headers = {"authorization": f"Bearer {key['key']}"}
    statuses, refusal = [], ""
    for i in range(60):  # one at a time: nothing else is in flight when one is refused
        response = httpx.post(
            gateway.url + CHAT,
            json={
                "model": "free",
                "max_tokens": 8,
                "messages": [{"role": "user", "content": f"free n{i}"}],
            },
            headers=headers,
        )
        statuses.append(response.status_code)
        if response.status_code != 200:
            refusal = response.json()["error"]["message"]
            break
    ok = statuses.count(200)
    assert statuses == [200] * ok + [429], statuses
    # each answer is 6 tokens (2 prompt, 4 completion); the refusal came when the next
    # worst case no longer fit, with nothing held
    used = 6 * ok
    assert f"{budget} tokens per month: {used} used, 0 held by requests in flight" in refusal
    worst = int(refusal.split("could use up to ")[1].split(")")[0])
    assert used + worst > budget >= used - 6 + worst
    spent, requests, tokens = settled_spend(gateway, key["id"])
    assert (spent, requests, tokens) == (Decimal(0), ok, used)
    line = httpx.get(gateway.url + f"/admin/keys/{key['id']}", headers=ADMIN).json()["usage"]
    assert line["remaining_tokens"] == budget - used  # no token is held either
    rows = wait_rows(gateway.rows, ok + 1)
    assert sorted(r.status for r in rows) == [200] * ok + [429]
    assert all(r.cost_usd == 0 for r in rows)
