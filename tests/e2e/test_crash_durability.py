"""kill -9 mid-load loses no answered request's row: a real ``freehold serve`` in front of a
fast upstream, several clients sending whole and streamed requests, SIGKILL while they run,
a restart on the same ledger, and then exactly one row for every request whose client got a
complete 200 (the whole body, or a stream up to ``[DONE]``). For SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from freehold.ledger import open_store
from freehold.testing import fast_upstream
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.ledger import stored_ids
from freehold.testing.servers import ServerThread, free_port

CHAT = "/v1/chat/completions"
CLIENTS = 6
#: Requests answered before the kill (the load runs on, the kill lands mid-flight).
ANSWERED_BEFORE_KILL = 300


@pytest.fixture(scope="module")
def upstream() -> Any:
    with ServerThread(fast_upstream.app) as server:
        yield server


class Load:
    """Client threads sending requests until stopped; the ids of complete 200 answers."""

    def __init__(self, url: str) -> None:
        self.url = url + CHAT
        self.answered: list[str] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(CLIENTS)]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self, n: int) -> None:
        with httpx.Client(timeout=10) as client:
            i = 0
            while not self.stop.is_set():
                i += 1
                body = {"model": "fast", "messages": [{"role": "user", "content": f"c{n} r{i}"}]}
                try:
                    answered = self._call(client, body, stream=(n + i) % 2 == 0)
                except httpx.HTTPError:
                    time.sleep(0.01)  # the gateway is down: keep trying until stopped
                    continue
                if answered is not None:
                    with self._lock:
                        self.answered.append(answered)

    def _call(self, client: httpx.Client, body: dict[str, Any], *, stream: bool) -> str | None:
        if not stream:
            response = client.post(self.url, json=body)
            complete = response.status_code == 200 and bool(response.json()["choices"])
            return response.headers["x-freehold-request-id"] if complete else None
        with client.stream("POST", self.url, json={**body, "stream": True}) as response:
            if response.status_code != 200:
                return None
            done = any(line == "data: [DONE]" for line in response.iter_lines())
            return response.headers["x-freehold-request-id"] if done else None


def serve(config: Path, log: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("ab") as out:
        process = start_serve(port, config=config, env=env, output=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout_s=30)
    except RuntimeError as exc:
        process.kill()
        raise RuntimeError(f"{exc}:\n{log.read_text(errors='replace')}") from None
    return process, url


def crash_and_recover(tmp_path: Path, ledger: str, upstream_url: str) -> None:
    journal = tmp_path / "journal"
    config = tmp_path / "freehold.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "ledger": ledger,
                "journal": {"dir": str(journal)},
                "models": [{"name": "fast", "backend": "openai", "base_url": upstream_url + "/v1"}],
            }
        )
    )
    env = {**os.environ, "FREEHOLD_HOME": str(tmp_path / "home")}
    log = tmp_path / "serve.log"
    process, url = serve(config, log, env)
    load = Load(url).start()
    try:
        deadline = time.monotonic() + 20
        while len(load.answered) < ANSWERED_BEFORE_KILL:
            assert time.monotonic() < deadline, f"too few answers:\n{log.read_text()}"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        load.join()
        if process.poll() is None:
            process.kill()
            process.wait()
    answered = list(load.answered)
    assert len(answered) == len(set(answered)) >= ANSWERED_BEFORE_KILL

    store = open_store(ledger)
    try:
        before = {row.id for row in store.rows()}
        lost_without_journal = len(set(answered) - before)
        process, url = serve(config, log, env)  # replays the dead process's journal
        try:
            ids = stored_ids(store, answered, timeout_s=15)
            missing = set(answered) - set(ids)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    finally:
        store.close()
    assert not missing, f"{len(missing)} of {len(answered)} answered requests have no row"
    assert len(ids) == len(set(ids))  # no row written twice
    if lost_without_journal:  # what the store lacked at the kill came from the journal
        assert "replaying" in log.read_text()
    assert list(journal.glob("*/seg-*.jsonl")) == []  # every segment settled and deleted


def test_kill_9_loses_no_answered_row_sqlite(tmp_path: Path, upstream: ServerThread) -> None:
    crash_and_recover(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", upstream.url)


@pytest.mark.postgres
def test_kill_9_loses_no_answered_row_postgres(
    tmp_path: Path, upstream: ServerThread, pg_url: str
) -> None:
    crash_and_recover(tmp_path, pg_url, upstream.url)
