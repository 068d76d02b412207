"""Process lifecycle: SIGTERM drains in-flight requests and the ledger; zero-config start;
a PostgreSQL ledger."""

from __future__ import annotations

import os
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from freehold.ledger import open_store
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import ServerThread, free_port

from .conftest import Gateway, StartGateway

CHAT = "/v1/chat/completions"


def test_sigterm_finishes_in_flight_requests_and_writes_every_row(
    start_gateway: StartGateway, openai_upstream: ServerThread
) -> None:
    gateway = start_gateway()
    marker = f"drain-{time.monotonic_ns()}"
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def call(i: int) -> None:
        body = {
            "model": "cloud-big",
            "stream": i % 2 == 1,
            "messages": [{"role": "user", "content": f"{marker} n{i} [[sleep:1.2]]"}],
        }
        response = httpx.post(gateway.url + CHAT, json=body, timeout=20)
        with lock:
            results.append((response.status_code, response.headers["x-freehold-request-id"]))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    # SIGTERM only once all 20 are waiting on the upstream (a busy machine starts threads late)
    received = openai_upstream._server.config.app.state.requests  # type: ignore[attr-defined]
    deadline = time.monotonic() + 15
    while sum(marker in str(r["body"]) for r in received) < 20:
        assert time.monotonic() < deadline, "the requests never all reached the upstream"
        time.sleep(0.02)
    assert gateway.stop() == 0  # drained, then a clean exit
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(status for status, _ in results) == [200] * 20
    rows = {row.id: row for row in gateway.rows()}
    assert set(rows) == {request_id for _, request_id in results}
    # "You said: <marker> n<i>": 4 words
    assert all(row.status == 200 and row.completion_tokens == 4 for row in rows.values())
    assert sum(row.stream for row in rows.values()) == 10


def test_zero_config_serve_starts_and_says_how_to_add_a_model(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "FREEHOLD_CONFIG"}
    env["FREEHOLD_HOME"] = str(tmp_path / "home")
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = start_serve(port, env=env, output=out)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, process, timeout_s=30)
            assert httpx.get(url + "/v1/models").json() == {"object": "list", "data": []}
            response = httpx.post(
                url + CHAT,
                json={"model": "anything", "messages": [{"role": "user", "content": "hi"}]},
            )
            assert response.status_code == 404
            message = response.json()["error"]["message"]
            assert "no models are configured" in message
            assert "freehold pull" in message and "--config" in message
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    text = log.read_text()
    assert "no models configured" in text
    assert "drop a GGUF file into $FREEHOLD_HOME/models" in text  # the zero-config way
    assert "ready on http://127.0.0.1:" in text and "models: none;" in text  # the summary
    ledger = tmp_path / "home" / "ledger.db"
    assert ledger.exists()
    store = open_store(f"sqlite:///{ledger}")
    try:
        (row,) = store.rows()
    finally:
        store.close()
    assert (row.status, row.error_type, row.requested_model) == (404, "model_not_found", "anything")


@pytest.mark.postgres
def test_postgres_ledger(start_gateway: StartGateway, pg_url: str) -> None:
    def use_postgres(config: dict[str, Any]) -> None:
        config["ledger"] = pg_url

    gateway: Gateway = start_gateway(use_postgres)
    gateway.ledger_url = pg_url
    ids = []
    for i in range(5):
        response = httpx.post(
            gateway.url + CHAT,
            json={"model": "cloud-big", "messages": [{"role": "user", "content": f"w{i} x"}]},
        )
        ids.append(response.headers["x-freehold-request-id"])
    bad = httpx.post(gateway.url + CHAT, json={"model": "nope", "messages": []})
    ids.append(bad.headers["x-freehold-request-id"])
    assert gateway.stop() == 0  # drained, then a clean exit
    rows = {row.id: row for row in gateway.rows()}
    assert set(rows) == set(ids)
    assert [rows[i].status for i in ids] == [200] * 5 + [400]
    # 2 prompt × $2.5/M + 4 completion × $10/M
    assert all(rows[i].cost_usd == Decimal("0.000045") for i in ids[:5])
