"""Reliability: how many requests succeed, and how fast, when an upstream fails.

    python benchmarks/reliability.py [--requests 500] [--rates 0 0.1 0.3 0.5]

For each failure rate, upstream A fails that share of its calls (500, 503 and 429 in turn;
the 429s with ``Retry-After: 0``) and upstream B never does (both are
:mod:`freehold.testing.flaky` servers over the mock upstream, in this process). Three
setups of one model behind ``freehold serve``, each sent the same ``--requests`` whole
answers 16 at a time:

* ``A, no retry``: one deployment (A), ``retry.attempts: 1`` (freehold's default);
* ``A, 3 attempts``: one deployment (A), ``retry.attempts: 3``;
* ``A+B, 3 attempts``: two deployments, a retry goes to the other one.

Prints the success rate and the p50/p99 latency of each cell.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from freehold.testing.flaky import Faults, flaky_app
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import ServerThread, free_port

RETRY = {"attempts": 3, "backoff_s": 0.05, "max_backoff_s": 1}


def model(url_a: str, url_b: str, setup: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "m", "backend": "openai", "timeout_s": 10}
    if setup == "A+B, 3 attempts":
        spec["deployments"] = [{"name": "a", "base_url": url_a}, {"name": "b", "base_url": url_b}]
    else:
        spec["base_url"] = url_a
    if setup != "A, no retry":
        spec["retry"] = RETRY
    return spec


async def run(url: str, requests: int) -> tuple[int, list[float]]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hello there"}]}
    latencies: list[float] = []
    ok = 0
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=16)) as client:
        semaphore = asyncio.Semaphore(16)

        async def one() -> None:
            nonlocal ok
            async with semaphore:
                started = time.perf_counter()
                response = await client.post(url + "/v1/chat/completions", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                ok += response.status_code == 200

        await asyncio.gather(*(one() for _ in range(requests)))
    return ok, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.1, 0.3, 0.5])
    args = parser.parse_args()
    setups = ["A, no retry", "A, 3 attempts", "A+B, 3 attempts"]
    print(f"{'failure rate':>12}  {'setup':<18}{'success':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for rate in args.rates:
        for setup in setups:
            a = Faults(fail_rate=rate, statuses=(500, 503, 429), seed=7)
            b = Faults(seed=8)
            with (
                ServerThread(flaky_app(a)) as up_a,
                ServerThread(flaky_app(b)) as up_b,
                tempfile.TemporaryDirectory() as tmp,
            ):
                config = Path(tmp) / "freehold.yaml"
                spec = model(up_a.url + "/v1", up_b.url + "/v1", setup)
                config.write_text(
                    yaml.safe_dump({"ledger": f"sqlite:///{tmp}/l.db", "models": [spec]})
                )
                port = free_port()
                process = start_serve(port, config=config, log_level="warning")
                try:
                    url = f"http://127.0.0.1:{port}"
                    wait_until_up(url, process, timeout_s=30)
                    ok, latencies = asyncio.run(run(url, args.requests))
                finally:
                    process.terminate()
                    process.wait(timeout=30)
            latencies.sort()
            p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
            print(
                f"{rate:>12.0%}  {setup:<18}{ok / args.requests:>9.1%}"
                f"{statistics.median(latencies):>9.1f}{p99:>9.1f}"
            )


if __name__ == "__main__":
    main()
