"""Deployments, retries and circuit breakers end to end: ``freehold serve`` in front of two
real mock upstreams (:mod:`freehold.testing.flaky`) that fail, slow down or hang on
purpose, whole answers and streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from freehold.testing.flaky import Faults, flaky_app
from freehold.testing.servers import ServerThread

from .conftest import Gateway, StartGateway

CHAT = "/v1/chat/completions"


@pytest.fixture
def pair() -> Iterator[tuple[Faults, Faults, str, str]]:
    """Two upstreams: (faults of A, faults of B, URL of A, URL of B)."""
    a, b = Faults(seed=1), Faults(seed=2)
    with ServerThread(flaky_app(a)) as up_a, ServerThread(flaky_app(b)) as up_b:
        yield a, b, up_a.url + "/v1", up_b.url + "/v1"


def model(url_a: str, url_b: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "gpt",
        "backend": "openai",
        "deployments": [
            {"name": "a", "base_url": url_a, "api_key": "env:UPSTREAM_KEY"},
            {"name": "b", "base_url": url_b, "api_key": "env:UPSTREAM_KEY"},
        ],
        "timeout_s": 5,
        **extra,
    }


def with_model(spec: dict[str, Any]) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["models"].append(spec)

    return edit


def body(text: str = "hello there", *, stream: bool = False) -> dict[str, Any]:
    return {"model": "gpt", "messages": [{"role": "user", "content": text}], "stream": stream}


def streamed_ok(response: httpx.Response) -> bool:
    lines = response.text.strip().split("\n\n")
    return response.status_code == 200 and lines[-1] == "data: [DONE]"


async def send_many(gateway: Gateway, n: int, *, stream: bool) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(i: int) -> httpx.Response:
            async with semaphore:
                return await client.post(gateway.url + CHAT, json=body(f"q {i}", stream=stream))

        return await asyncio.gather(*(one(i) for i in range(n)))


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_retries_hide_a_deployment_failing_30_percent(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str], stream: bool
) -> None:
    a, _b, url_a, url_b = pair
    a.fail_rate, a.statuses = 0.3, (500, 503, 429)
    spec = model(url_a, url_b, retry={"attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.05})
    gateway = start_gateway(with_model(spec))
    responses = asyncio.run(send_many(gateway, 2000, stream=stream))
    ok = sum(streamed_ok(r) if stream else r.status_code == 200 for r in responses)
    print(f"\n{'streamed' if stream else 'whole'}: {ok}/2000 succeeded; A failed {a.failed}")
    assert a.failed >= 200  # the faults were real
    assert ok / 2000 >= 0.999
    retried = [r for r in responses if r.headers.get("x-freehold-attempts") not in (None, "1")]
    assert retried and all(r.headers["x-freehold-deployment"] == "b" for r in retried)
    row = gateway.row(retried[0].headers["x-freehold-request-id"])
    assert row.attempts == int(retried[0].headers["x-freehold-attempts"])
    [attempt] = row.attempt_log
    calls = attempt["upstream"]
    assert calls[0]["deployment"] == "a" and calls[0]["status"] in (502, 503, 429)
    assert calls[-1]["deployment"] == "b" and calls[-1]["kind"] == "retry"
    assert calls[-1]["status"] == 200 and calls[-1]["error"] is None


def test_without_retries_the_same_faults_fail_requests(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, _, url_a, url_b = pair
    a.fail_rate = 0.3
    gateway = start_gateway(with_model(model(url_a, url_b)))
    responses = asyncio.run(send_many(gateway, 200, stream=False))
    failed = sum(r.status_code != 200 for r in responses)
    assert failed == a.failed > 10


def test_a_breaker_cuts_an_always_failing_deployment_and_recovers(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, _b, url_a, url_b = pair
    a.fail_rate = 1.0
    spec = model(
        url_a,
        url_b,
        retry={"attempts": 2, "backoff_s": 0},
        breaker={"failures": 3, "cooldown_s": 1},
    )
    gateway = start_gateway(with_model(spec))
    with httpx.Client(timeout=10) as client:
        for _ in range(50):
            assert client.post(gateway.url + CHAT, json=body()).status_code == 200
        assert a.received == 3  # then the breaker opened: no traffic
        ready = client.get(gateway.url + "/health/ready").json()
        states = {d["deployment"]: d for d in ready["models"]["gpt"]}
        assert states["a"]["breaker"] == "open" and states["a"]["last_error"].startswith("502")
        assert states["b"]["breaker"] == "closed"
        time.sleep(1.1)  # the cooldown: one probe, which fails: open again
        for _ in range(20):
            assert client.post(gateway.url + CHAT, json=body()).status_code == 200
        assert a.received == 4
        a.fail_rate = 0.0  # the deployment recovers
        time.sleep(1.1)
        for _ in range(20):
            assert client.post(gateway.url + CHAT, json=body()).status_code == 200
        assert a.received >= 4 + 8  # the probe closed the breaker: it takes its share again
        ready = client.get(gateway.url + "/health/ready").json()
        assert {d["breaker"] for d in ready["models"]["gpt"]} == {"closed"}


def test_when_every_breaker_is_open_requests_get_503_and_ready_says_so(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, b, url_a, url_b = pair
    a.fail_rate = b.fail_rate = 1.0
    spec = model(url_a, url_b, breaker={"failures": 1, "cooldown_s": 30})

    def only_gpt(config: dict[str, Any]) -> None:
        config["models"] = [spec]  # ready means: some deployment of some model can serve

    gateway = start_gateway(only_gpt)
    with httpx.Client(timeout=10) as client:
        assert client.get(gateway.url + "/health/ready").status_code == 200
        for _ in range(2):
            assert client.post(gateway.url + CHAT, json=body()).status_code == 502
        cut = client.post(gateway.url + CHAT, json=body())
        assert cut.status_code == 503 and cut.json()["error"]["code"] == "circuit_open"
        assert int(cut.headers["retry-after"]) >= 1
        assert a.received + b.received == 2
        ready = client.get(gateway.url + "/health/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        assert client.get(gateway.url + "/health").status_code == 200  # alive all the same


def test_retry_after_is_honoured(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, _, url_a, _ = pair
    a.fail_rate, a.statuses, a.retry_after = 1.0, (429,), "1"
    spec = {
        "name": "gpt",
        "backend": "openai",
        "base_url": url_a,
        "retry": {"attempts": 2, "backoff_s": 0, "max_backoff_s": 0},
    }
    gateway = start_gateway(with_model(spec))
    started = time.perf_counter()
    response = httpx.post(gateway.url + CHAT, json=body(), timeout=10)
    elapsed = time.perf_counter() - started
    assert response.status_code == 429 and a.received == 2
    assert elapsed >= 1.0  # waited the upstream's Retry-After, beyond max_backoff_s
    assert response.headers["x-freehold-attempts"] == "2"


def test_a_retry_after_beyond_the_deadline_is_not_waited(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, _, url_a, _ = pair
    a.fail_rate, a.statuses, a.retry_after = 1.0, (429,), "60"
    spec = {"name": "gpt", "backend": "openai", "base_url": url_a, "timeout_s": 2,
            "retry": {"attempts": 3}}  # fmt: skip
    gateway = start_gateway(with_model(spec))
    started = time.perf_counter()
    response = httpx.post(gateway.url + CHAT, json=body(), timeout=10)
    assert response.status_code == 429 and a.received == 1
    assert time.perf_counter() - started < 1.5


def test_client_errors_are_not_retried(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, b, url_a, url_b = pair
    a.fail_rate = b.fail_rate = 1.0
    a.statuses = b.statuses = (400,)
    gateway = start_gateway(with_model(model(url_a, url_b, retry={"attempts": 3})))
    response = httpx.post(gateway.url + CHAT, json=body(), timeout=10)
    assert response.status_code == 400 and a.received + b.received == 1


def test_weights_split_the_load(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, b, url_a, url_b = pair
    spec = model(url_a, url_b)
    spec["deployments"][0]["weight"] = 3
    gateway = start_gateway(with_model(spec))
    responses = asyncio.run(send_many(gateway, 2000, stream=False))
    assert {r.status_code for r in responses} == {200}
    assert abs(a.received / 2000 - 0.75) <= 0.05 and a.received + b.received == 2000


def test_least_busy_avoids_a_slow_deployment(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, b, url_a, url_b = pair
    a.delay_s = 0.5
    gateway = start_gateway(with_model(model(url_a, url_b, balance="least_busy")))
    responses = asyncio.run(send_many(gateway, 200, stream=False))
    assert {r.status_code for r in responses} == {200}
    assert b.received >= 4 * a.received, (a.received, b.received)


def test_a_hanging_deployment_costs_at_most_the_first_byte_timeout(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, _b, url_a, url_b = pair
    a.hang_s = 30
    spec = model(url_a, url_b, retry={"attempts": 2, "backoff_s": 0},
                 timeouts={"first_byte_s": 0.5, "total_s": 5})  # fmt: skip
    spec["balance"] = "weighted"
    spec["deployments"][0]["weight"] = 100  # A first
    gateway = start_gateway(with_model(spec))
    started = time.perf_counter()
    response = httpx.post(gateway.url + CHAT, json=body(stream=True), timeout=10)
    elapsed = time.perf_counter() - started
    assert streamed_ok(response)
    assert response.headers["x-freehold-deployment"] == "b"
    assert response.headers["x-freehold-attempts"] == "2"
    assert elapsed < 0.5 + 1.0


def test_a_model_is_inside_the_perimeter_only_if_every_deployment_is(
    start_gateway: StartGateway, pair: tuple[Faults, Faults, str, str]
) -> None:
    a, b, url_a, url_b = pair
    spec = model(url_a, url_b)
    spec["deployments"][0]["locality"] = "local"  # B stays remote

    def edit(config: dict[str, Any]) -> None:
        config["models"].append(spec)
        config["perimeter"] = {"policy": {"pii": "local_only"}}

    gateway = start_gateway(edit)
    response = httpx.post(gateway.url + CHAT, json=body("mail ana@example.org"), timeout=10)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_permitted_model"
    assert a.received + b.received == 0
