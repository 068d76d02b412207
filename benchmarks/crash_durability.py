"""Rows lost to kill -9: answered requests with no ledger row after the gateway is killed
mid-load and restarted on the same ledger, with the journal on and off, on SQLite and
PostgreSQL.

    python benchmarks/crash_durability.py [--rounds 5] [--concurrency 32] [--seconds 2]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--no-postgres]

Each round starts ``freehold serve`` in front of a zero-latency upstream (its own process),
sends whole and streamed requests from ``--concurrency`` clients, sends SIGKILL to the
gateway after a random 0.5–1.5 × ``--seconds`` of load, restarts it on the same ledger (and
journal), and counts the requests whose client got a complete 200 (the whole body; a stream
up to ``[DONE]``) that have no row, and any row written twice. Each PostgreSQL round uses a
fresh schema.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import yaml

from freehold.ledger import open_store
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.ledger import stored_ids
from freehold.testing.servers import free_port

CHAT = "/v1/chat/completions"


@dataclass
class Round:
    answered: int
    missing: int
    doubled: int


async def load(url: str, concurrency: int, seconds: float, answered: list[str]) -> None:
    """Clients sending requests for ``seconds``, collecting the ids of complete answers."""
    deadline = time.monotonic() + seconds

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        i = 0
        while time.monotonic() < deadline:
            i += 1
            stream = (n + i) % 2 == 0
            body = {
                "model": "fast",
                "stream": stream,
                "messages": [{"role": "user", "content": "x"}],
            }
            try:
                async with session.post(url + CHAT, json=body) as response:
                    data = await response.read()
                    if response.status != 200:
                        continue
                    complete = data.endswith(b"data: [DONE]\n\n") if stream else b"choices" in data
                    if complete:
                        answered.append(response.headers["x-freehold-request-id"])
            except (TimeoutError, aiohttp.ClientError):
                await asyncio.sleep(0.01)

    timeout = aiohttp.ClientTimeout(total=10)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(client(n, session) for n in range(concurrency)))


def serve(config: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("ab") as out:
        process = start_serve(port, config=config, output=out, log_level="warning")
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process, timeout_s=60)
    return process, url


def one_round(
    workdir: Path, ledger: str, journal: bool, upstream: str, args: argparse.Namespace
) -> Round:
    config = workdir / "freehold.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "ledger": ledger,
                "journal": {"enabled": journal, "dir": str(workdir / "journal")},
                "models": [{"name": "fast", "backend": "openai", "base_url": upstream + "/v1"}],
            }
        )
    )
    log = workdir / "serve.log"
    process, url = serve(config, log)
    answered: list[str] = []
    kill_after = random.uniform(0.5, 1.5) * args.seconds

    async def run() -> None:
        task = asyncio.create_task(load(url, args.concurrency, kill_after + 0.5, answered))
        await asyncio.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
        await task

    asyncio.run(run())
    process.wait()
    process, _ = serve(config, log)  # a journal left behind is replayed here
    store = open_store(ledger)
    try:
        ids = stored_ids(store, answered, timeout_s=5, poll_s=0.1)
        missing = set(answered) - set(ids)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        store.close()
    return Round(len(answered), len(missing), len(ids) - len(set(ids)))


def postgres_schema(url: str) -> tuple[str, str] | None:
    """A fresh schema and a ledger URL that uses it; None when PostgreSQL is unreachable."""
    import psycopg

    schema = f"freehold_crash_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError:
        return None
    separator = "&" if "?" in url else "?"
    return schema, f"{url}{separator}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def round_in(store: str, journal: bool, args: argparse.Namespace, upstream: str) -> Round:
    """One round on a fresh SQLite file or PostgreSQL schema."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if store == "sqlite":
            return one_round(workdir, f"sqlite:///{workdir / 'ledger.db'}", journal, upstream, args)
        made = postgres_schema(args.postgres)
        assert made is not None
        schema, ledger = made
        try:
            return one_round(workdir, ledger, journal, upstream, args)
        finally:
            drop_schema(args.postgres, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=2.0, help="mean load before the kill")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    upstream_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "freehold.testing.fast_upstream:app", "--port",
         str(upstream_port), "--log-level", "warning", "--no-access-log"],
    )  # fmt: skip
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    results: dict[tuple[str, bool], list[Round]] = {}
    stores = ["sqlite"]
    if not args.no_postgres:
        probe = postgres_schema(args.postgres)
        if probe is None:
            print(f"PostgreSQL unreachable at {args.postgres}: its rows are skipped")
        else:
            drop_schema(args.postgres, probe[0])
            stores.append("postgresql")
    try:
        wait_until_up(upstream_url, upstream, timeout_s=30)  # it answers any path
        for _ in range(args.rounds):
            for store in stores:
                for journal in (False, True):
                    outcome = round_in(store, journal, args, upstream_url)
                    results.setdefault((store, journal), []).append(outcome)
    finally:
        upstream.terminate()
        upstream.wait()

    print(
        f"\npython {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.rounds} kill -9 "
        f"rounds per cell, {args.concurrency} clients (half streaming), kill after "
        f"{0.5 * args.seconds:g}-{1.5 * args.seconds:g} s of load\n"
    )
    header = (
        f"{'store':<12}{'journal':<9}{'rounds':>7}{'answered':>10}{'missing':>9}"
        f"{'missing %':>11}{'worst round':>13}{'doubled':>9}"
    )
    print(header)
    print("-" * len(header))
    for (store, journal), rounds in results.items():
        answered = sum(r.answered for r in rounds)
        missing = sum(r.missing for r in rounds)
        worst = max(r.missing / r.answered if r.answered else 0.0 for r in rounds)
        print(
            f"{store:<12}{'on' if journal else 'off':<9}{len(rounds):>7}{answered:>10}"
            f"{missing:>9}{100 * missing / max(answered, 1):>10.2f}%{100 * worst:>12.2f}%"
            f"{sum(r.doubled for r in rounds):>9}"
        )


if __name__ == "__main__":
    main()
