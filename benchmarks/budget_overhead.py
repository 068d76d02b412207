"""Budget enforcement overhead: freehold without keys, and with a virtual key, budgets and rate
limits on the embedded (SQLite) store and on Redis, in front of the same upstream (one that
answers at once, or after a fixed delay), interleaved in one run; then the enforcement alone,
in-process, for both stores.

    python benchmarks/budget_overhead.py [--seconds 2] [--rounds 4] [--concurrency 1,16]
        [--upstream-latency-ms 0,50] [--redis redis://127.0.0.1:6379/0]
        [--skip-http] [--skip-inprocess]

Table 1 (HTTP, once per upstream latency): per concurrency and target, requests/s, p50 and p99
latency, the added p50/p99 vs freehold without keys, and the gateway process's CPU time per
request (read from /proc: steadier than latency on a small shared machine). The upstream is
``freehold.testing.fast_upstream`` (0 ms), or the same app behind an ``asyncio.sleep`` of the
given latency (``delayed_upstream`` below, served by uvicorn from this file). With a 0 ms
upstream a small machine is CPU-saturated at concurrency 16, so the added latency there is
queueing (about concurrency × the added CPU per request); with a slower upstream the gateway
has idle time and the added p50 is the enforcement's own latency, as a user sees it. With a
delay, the clients' start times are spread over one upstream latency so that requests do not
arrive in lockstep.

Table 2 (in-process, no HTTP): per store, p50/p99 of estimate + ``Enforcer.identify`` +
``admit`` + ``settle`` per request, with ``concurrency`` tasks on one asyncio loop (uvloop),
and of each part (``estimate`` is the worst-case bound the gateway computes before ``admit``).
Between ``admit`` and ``settle`` each task waits for the simulated upstream (not timed): one
yield to the loop ("upstream 0"), or an ``asyncio.sleep`` of each nonzero upstream latency
(rows for concurrency > 1 only, start times spread as above). "cpu ms/req" is this process's
CPU time per request (with the SQLite store, its checkpoint thread's too). In a closed loop
with no upstream wait, at concurrency C a request waits for the other C - 1 in flight, so its
latency is about C × the CPU each costs: the concurrency-1 row, and the rows with an upstream
wait, are the enforcement's own latency.
The key has a large USD budget, rpm and tpm set, and one tag with its own budget, so every
request checks and holds two buckets and counts in a rate window. Redis keys are written
under a random prefix and deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop
import yaml

from freehold.api.body import parse_chat_request
from freehold.auth import admin
from freehold.auth.enforcer import Enforcer
from freehold.auth.estimate import Call, estimate
from freehold.auth.factory import open_auth_store
from freehold.config.schema import BudgetSettings, ModelSettings, TagBudget
from freehold.testing import fast_upstream
from freehold.testing.gateway_process import start_serve
from freehold.testing.servers import free_port
from gateway_overhead import Samples, Target, pct  # the same targets, samples and percentile

BODY = b'{"model": "bench", "messages": [{"role": "user", "content": "Say hello."}]}'
MASTER = "bench-master-" + secrets.token_hex(16)
MASTER_ENV = "FREEHOLD_BENCH_MASTER_KEY"
TAG = "team=bench"
PRICE = {"input_per_mtok": 1, "output_per_mtok": 2}
# Large enough never to refuse during a run: $1M per month, 100M requests and 10G tokens a
# minute (a worst-case hold here is ~4,100 tokens and ~$0.008).
KEY_LIMITS = {"budget_usd": "1000000", "rpm": 100_000_000, "tpm": 10_000_000_000}
TAG_BUDGETS = {TAG: {"budget_usd": "1000000"}}
UPSTREAM_DELAY_ENV = "FREEHOLD_BENCH_UPSTREAM_DELAY_MS"
_UPSTREAM_DELAY_S = float(os.environ.get(UPSTREAM_DELAY_ENV, "0")) / 1000


async def delayed_upstream(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``fast_upstream`` answering each request after $FREEHOLD_BENCH_UPSTREAM_DELAY_MS ms."""
    if scope["type"] == "http":
        await asyncio.sleep(_UPSTREAM_DELAY_S)
    await fast_upstream.app(scope, receive, send)


# -- HTTP ---------------------------------------------------------------------------------


async def wait_ready(url: str, within_s: float = 90) -> None:
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


async def create_key(base: str) -> str:
    """A virtual key with a budget, rpm/tpm and the budgeted tag, made with the admin API."""
    body = {"name": "bench", "tags": [TAG], **KEY_LIMITS}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            base + "/admin/keys", json=body, headers={"authorization": f"Bearer {MASTER}"}
        ) as response,
    ):
        data = await response.json()
        if response.status != 201:
            raise RuntimeError(f"creating a key on {base} failed: {data}")
    key: str = data["key"]
    return key


async def one(session: aiohttp.ClientSession, target: Target, samples: Samples) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {target.key}"}
    start = time.perf_counter()
    try:
        async with session.post(
            target.url + "/chat/completions", data=BODY, headers=headers
        ) as response:
            await response.read()
            if response.status != 200:
                samples.errors += 1
                return
    except aiohttp.ClientError:
        samples.errors += 1
        return
    samples.latencies.append((time.perf_counter() - start) * 1000)


async def burst(
    target: Target, concurrency: int, seconds: float, samples: Samples, spread_s: float = 0.0
) -> None:
    """``concurrency`` clients in a closed loop for ``seconds``; with ``spread_s``, client n
    starts n × spread_s / concurrency later, so that requests do not arrive in lockstep."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(one(session, target, Samples()) for _ in range(concurrency)))
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(n: int) -> None:
            await asyncio.sleep(n * spread_s / concurrency)
            while time.perf_counter() < deadline:
                await one(session, target, samples)

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        samples.seconds += time.perf_counter() - start


def cpu_seconds(process: subprocess.Popen[bytes] | None) -> float:
    """User + system CPU time of a process so far (Linux /proc; nan elsewhere)."""
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text() if process else ""
    except OSError:
        return float("nan")
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 13:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure_http(
    targets: list[Target],
    concurrencies: list[int],
    seconds: float,
    rounds: int,
    upstream_latency_ms: float,
) -> None:
    for target in targets:
        await wait_ready(target.url.removesuffix("/v1"))
        if target.key == "":
            target.key = await create_key(target.url.removesuffix("/v1"))
    header = (
        f"{'conc':>4}  {'target':<20}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'added p50':>11}{'added p99':>11}{'cpu ms/req':>12}{'errors':>8}"
    )
    print(
        f"HTTP, upstream latency {upstream_latency_ms:g} ms, whole responses, interleaved; "
        "added = vs freehold without keys"
    )
    print(header)
    print("-" * len(header))
    for concurrency in concurrencies:
        results = {t.name: Samples() for t in targets}
        cpu = dict.fromkeys(results, 0.0)
        for _ in range(rounds):
            for target in targets:
                before = cpu_seconds(target.process)
                await burst(
                    target, concurrency, seconds, results[target.name], upstream_latency_ms / 1000
                )
                cpu[target.name] += cpu_seconds(target.process) - before
        base = results[targets[0].name]
        base50, base99 = pct(base.latencies, 0.5), pct(base.latencies, 0.99)
        for target in targets:
            s = results[target.name]
            p50, p99 = pct(s.latencies, 0.5), pct(s.latencies, 0.99)
            # the warm-up requests of each burst are not in the samples: a small overcount
            per_request = cpu[target.name] * 1000 / max(1, len(s.latencies))
            print(
                f"{concurrency:>4}  {target.name:<20}{s.rps:>8.0f}{p50:>9.2f}{p99:>9.2f}"
                f"{p50 - base50:>11.2f}{p99 - base99:>11.2f}{per_request:>12.3f}{s.errors:>8}"
            )
        print()


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def start_targets(
    workdir: Path, redis_url: str, prefix: str, upstream_latency_ms: float
) -> list[Target]:
    upstream_port = free_port()
    upstream = Target("upstream", f"http://127.0.0.1:{upstream_port}/v1", "sk-upstream")
    if upstream_latency_ms > 0:
        app = [
            "--app-dir",
            str(Path(__file__).resolve().parent),
            "budget_overhead:delayed_upstream",
        ]
    else:
        app = ["freehold.testing.fast_upstream:app"]
    upstream.process = spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            *app,
            "--port",
            str(upstream_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env={**os.environ, UPSTREAM_DELAY_ENV: str(upstream_latency_ms)},
    )
    tag = f"{upstream_latency_ms:g}ms-"  # one set of files and Redis keys per latency
    variants: list[tuple[str, dict[str, Any]]] = [
        ("no keys", {}),
        (
            "keys+budget sqlite",
            {
                "auth": {"master_key": f"env:{MASTER_ENV}"},
                "budgets": {
                    "store": f"sqlite:///{workdir / f'budgets-{tag}.db'}",
                    "tags": TAG_BUDGETS,
                },
            },
        ),
        (
            "keys+budget redis",
            {
                "auth": {"master_key": f"env:{MASTER_ENV}"},
                "budgets": {"store": f"{redis_url}?prefix={prefix}{tag}", "tags": TAG_BUDGETS},
            },
        ),
    ]
    env = {**os.environ, MASTER_ENV: MASTER}
    targets = [upstream]
    for i, (name, extra) in enumerate(variants):
        config = workdir / f"freehold-{tag}{i}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "ledger": f"sqlite:///{workdir / f'ledger-{tag}{i}.db'}",
                    "models": [
                        {
                            "name": "bench",
                            "backend": "openai",
                            "base_url": upstream.url,
                            "api_key": "sk-upstream",
                            "price": PRICE,
                        }
                    ],
                    **extra,
                }
            )
        )
        port = free_port()
        # "" = make a virtual key once the server is up; without keys any token is accepted
        target = Target(name, f"http://127.0.0.1:{port}/v1", "" if extra else "sk-client")
        target.process = start_serve(port, config=config, env=env, log_level="warning")
        targets.append(target)
    return targets


# -- in-process ---------------------------------------------------------------------------

PARTS = ("estimate", "identify", "admit", "settle")


@dataclass
class Timings:
    total: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PARTS})
    seconds: float = 0.0
    cpu_seconds: float = 0.0


async def enforcement_burst(
    enforcer: Enforcer,
    authorization: str,
    concurrency: int,
    seconds: float,
    timings: Timings,
    request: Any,
    calls: list[Call],
    upstream_s: float = 0.0,
) -> None:
    """``concurrency`` tasks on this loop, each looping estimate → identify → admit →
    (the upstream call, not timed: one yield to the loop, or a sleep of ``upstream_s``) →
    settle, as the gateway does around every request; ms per request (the sum of the parts),
    and per part. With an upstream wait, task n starts n × upstream_s / concurrency later."""
    clock = time.perf_counter
    parts = timings.parts

    async def worker(n: int) -> None:
        await asyncio.sleep(n * upstream_s / concurrency)
        i = 0
        while clock() < deadline:
            i += 1
            t0 = clock()
            worst = estimate(request, calls)
            t1 = clock()
            key = await enforcer.identify(authorization)
            t2 = clock()
            ticket = await enforcer.admit(key, f"req-{n}-{i}", "bench", worst)
            t3 = clock()
            await asyncio.sleep(upstream_s)  # the upstream call: other requests run meanwhile
            t4 = clock()
            await enforcer.settle(ticket, worst.nusd // 100, 18)
            t5 = clock()
            if measuring:
                timings.total.append((t3 - t0 + t5 - t4) * 1000)
                parts["estimate"].append((t1 - t0) * 1000)
                parts["identify"].append((t2 - t1) * 1000)
                parts["admit"].append((t3 - t2) * 1000)
                parts["settle"].append((t5 - t4) * 1000)

    measuring = False
    deadline = clock() + min(0.2, seconds)  # warm-up: connections, statement cache
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    measuring = True
    start, cpu = clock(), time.process_time()
    deadline = start + seconds
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    timings.seconds += clock() - start
    timings.cpu_seconds += time.process_time() - cpu


async def measure_inprocess(
    workdir: Path,
    redis_url: str,
    prefix: str,
    concurrencies: list[int],
    seconds: float,
    rounds: int,
    upstream_latencies_ms: list[float],
) -> None:
    budgets = BudgetSettings(tags={TAG: TagBudget(budget_usd=Decimal("1000000"))})
    model = ModelSettings.model_validate(
        {"name": "bench", "backend": "openai", "base_url": "http://x/v1", "price": PRICE}
    )
    request = parse_chat_request(orjson.loads(BODY))
    calls = [Call(model)]
    stores = {
        "sqlite": open_auth_store(f"sqlite:///{workdir / 'inprocess-budgets.db'}"),
        "redis": open_auth_store(f"{redis_url}?prefix={prefix}inproc:"),
    }
    enforcers: dict[str, tuple[Enforcer, str]] = {}
    for name, store in stores.items():
        await store.migrate()
        enforcer = Enforcer(store, budgets)
        _, secret = await admin.create_key(
            store, "bench", enforcer.now(), KEY_LIMITS, tags=(TAG,), known_models=("bench",)
        )
        enforcers[name] = (enforcer, f"Bearer {secret}")
    header = (
        f"{'conc':>4}{'upstream':>10}  {'store':<8}{'req/s':>8}{'cpu ms/req':>12}"
        f"{'p50 ms':>9}{'p99 ms':>9}" + "".join(f"{p + ' p50/p99':>20}" for p in PARTS)
    )
    print(
        "In-process enforcement (estimate + identify + admit + settle per request), no HTTP; "
        "upstream = simulated wait between admit and settle (0 = one yield)"
    )
    print(header)
    print("-" * len(header))
    try:
        cells_to_run = [
            (concurrency, latency)
            for concurrency in concurrencies
            for latency in sorted({0.0, *upstream_latencies_ms})
            if latency == 0 or concurrency > 1
        ]
        for concurrency, latency in cells_to_run:
            results = {name: Timings() for name in stores}
            for _ in range(rounds):
                for name, (enforcer, authorization) in enforcers.items():
                    await enforcement_burst(
                        enforcer,
                        authorization,
                        concurrency,
                        seconds,
                        results[name],
                        request,
                        calls,
                        latency / 1000,
                    )
            for name, t in results.items():
                n = len(t.total)
                rps = n / t.seconds if t.seconds else 0.0
                cells = "".join(
                    f"{f'{pct(t.parts[p], 0.5):.3f} / {pct(t.parts[p], 0.99):.3f}':>20}"
                    for p in PARTS
                )
                print(
                    f"{concurrency:>4}{f'{latency:g} ms':>10}  {name:<8}{rps:>8.0f}"
                    f"{t.cpu_seconds * 1000 / max(1, n):>12.3f}"
                    f"{pct(t.total, 0.5):>9.3f}{pct(t.total, 0.99):>9.3f}{cells}"
                )
            print()
    finally:
        for store in stores.values():
            await store.aclose()


async def drop_redis_keys(redis_url: str, prefix: str) -> None:
    import redis.asyncio as redis

    client = redis.from_url(redis_url)
    try:
        batch = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        for i in range(0, len(batch), 1000):
            await client.delete(*batch[i : i + 1000])
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one burst")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved bursts per target")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(c) for c in text.split(",")],
        default=[1, 16],
        help="comma-separated concurrencies (default 1,16)",
    )
    parser.add_argument(
        "--upstream-latency-ms",
        type=lambda text: [float(c) for c in text.split(",")],
        default=[0.0],
        help="comma-separated upstream delays in ms: one HTTP table each, and in-process rows "
        "with that wait between admit and settle (default 0)",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process table")
    parser.add_argument("--skip-inprocess", action="store_true", help="only the HTTP table")
    args = parser.parse_args()
    prefix = f"fhbench-{secrets.token_hex(4)}:"
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.rounds} rounds × "
        f"{args.seconds}s bursts per target and cell\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        try:
            for latency in [] if args.skip_http else args.upstream_latency_ms:
                targets = start_targets(workdir, args.redis, prefix, latency)
                try:
                    uvloop.run(
                        measure_http(
                            targets[1:], args.concurrency, args.seconds, args.rounds, latency
                        )
                    )
                finally:
                    for target in targets:
                        if target.process is not None:
                            target.process.terminate()
                            target.process.wait(timeout=30)
            if not args.skip_inprocess:
                uvloop.run(
                    measure_inprocess(
                        workdir,
                        args.redis,
                        prefix,
                        args.concurrency,
                        args.seconds,
                        args.rounds,
                        args.upstream_latency_ms,
                    )
                )
        finally:
            uvloop.run(drop_redis_keys(args.redis, prefix))


if __name__ == "__main__":
    main()
