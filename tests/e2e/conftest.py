"""End-to-end fixtures: mock upstreams served for real, and ``freehold serve`` started as a
real process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from freehold.ledger import open_store
from freehold.ledger.base import LedgerRow
from freehold.testing import mock_anthropic, mock_openai
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import ServerThread, free_port

UPSTREAM_KEY = "sk-live-7Qm2xZ9pR4vT8kL1nB6cW0yE"


class Gateway:
    """A running ``freehold serve`` process."""

    def __init__(self, config: Path, ledger_path: Path, env: dict[str, str]) -> None:
        self.config = config
        self.ledger_url = f"sqlite:///{ledger_path}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = config.with_suffix(".log")
        self._log = self.log_path.open("wb")
        self.process = start_serve(self.port, config=config, env=env, output=self._log)
        try:
            wait_until_up(self.url, self.process, timeout_s=30)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}:\n{self.log()}") from None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a service manager would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        if not self._log.closed:
            self._log.close()
        return self.process.returncode

    def rows(self) -> list[LedgerRow]:
        store = open_store(self.ledger_url)
        try:
            return store.rows()
        finally:
            store.close()

    def wait_rows(self, count: int, timeout: float = 10.0) -> list[LedgerRow]:
        """The ledger's rows once it holds at least ``count`` (the writer batches them)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows()
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.05)

    def row(self, request_id: str, timeout: float = 5.0) -> LedgerRow:
        """The ledger row of one request, waiting for the batched writer to write it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.rows() if r.id == request_id]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no ledger row for {request_id}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def openai_upstream() -> Iterator[ServerThread]:
    with ServerThread(mock_openai.create_app()) as server:
        yield server


@pytest.fixture(scope="session")
def anthropic_upstream() -> Iterator[ServerThread]:
    with ServerThread(mock_anthropic.create_app()) as server:
        yield server


def base_config(openai_url: str, anthropic_url: str, ledger: Path) -> dict[str, Any]:
    return {
        "server": {"max_body_bytes": 200_000},
        "ledger": f"sqlite:///{ledger}",
        "models": [
            {
                "name": "cloud-big",
                "backend": "openai",
                "base_url": openai_url + "/v1",
                "api_key": "env:UPSTREAM_KEY",
                "upstream_model": "gpt-4o",
                "locality": "remote",
                "jurisdiction": "us",
                "price": {"input_per_mtok": 2.5, "output_per_mtok": 10.0},
                "timeout_s": 2,
            },
            {
                "name": "claude",
                "backend": "anthropic",
                "base_url": anthropic_url,
                "api_key": "env:UPSTREAM_KEY",
                "upstream_model": "claude-sonnet-4",
                "price": {"input_per_mtok": 3, "output_per_mtok": 15},
                "timeout_s": 2,
            },
        ],
    }


StartGateway = Callable[..., Gateway]


@pytest.fixture
def start_gateway(
    tmp_path: Path, openai_upstream: ServerThread, anthropic_upstream: ServerThread
) -> Iterator[StartGateway]:
    started: list[Gateway] = []

    def start(edit: Callable[[dict[str, Any]], None] | None = None) -> Gateway:
        ledger = tmp_path / f"ledger-{len(started)}.db"
        config = base_config(openai_upstream.url, anthropic_upstream.url, ledger)
        if edit is not None:
            edit(config)
        path = tmp_path / f"freehold-{len(started)}.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {**os.environ, "UPSTREAM_KEY": UPSTREAM_KEY, "FREEHOLD_HOME": str(tmp_path / "home")}
        gateway = Gateway(path, ledger, env)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway: StartGateway) -> Gateway:
    return start_gateway()


MakeClient = Callable[..., "openai.OpenAI"]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Real `openai` clients pointed at a gateway; closed after the test."""
    clients: list[openai.OpenAI] = []

    def make(gateway: Gateway, key: str = "client-key-1") -> openai.OpenAI:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0, timeout=10)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
