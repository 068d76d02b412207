"""Gateway overhead: the same zero-latency upstream called directly and through freehold
(and, with --vs-litellm, through the LiteLLM proxy), interleaved in one run.

    python benchmarks/gateway_overhead.py [--seconds 1.5] [--rounds 3]
        [--vs-litellm /path/to/litellm-venv] [--vs-freehold CHECKOUT] [--with-deployments]

Prints, per mode (whole / stream) and concurrency (1, 16, 64): requests/s, p50 and p99
latency, p50 time to first chunk, and the added p50 latency and RPS ratio vs the upstream.
Every target serves from its own process; this script is the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import uvloop
import yaml

from freehold.testing.gateway_process import start_serve
from freehold.testing.servers import free_port

BODY = b'{"model": "bench", "messages": [{"role": "user", "content": "Say hello."}]}'
STREAM_BODY = (
    b'{"model": "bench", "stream": true, "stream_options": {"include_usage": true},'
    b' "messages": [{"role": "user", "content": "Say hello."}]}'
)


@dataclass
class Target:
    name: str
    url: str
    key: str
    process: subprocess.Popen[bytes] | None = None


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    ttfc: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


async def wait_ready(url: str, key: str, within_s: float = 90) -> None:
    deadline = time.monotonic() + within_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(
                    url + "/chat/completions",
                    data=BODY,
                    headers={"content-type": "application/json", "authorization": f"Bearer {key}"},
                ) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


async def one(
    session: aiohttp.ClientSession, target: Target, stream: bool, samples: Samples
) -> None:
    headers = {"content-type": "application/json", "authorization": f"Bearer {target.key}"}
    start = time.perf_counter()
    try:
        async with session.post(
            target.url + "/chat/completions", data=STREAM_BODY if stream else BODY, headers=headers
        ) as response:
            if stream:
                first = None
                async for _ in response.content.iter_any():
                    if first is None:
                        first = time.perf_counter()
                samples.ttfc.append(((first or time.perf_counter()) - start) * 1000)
            else:
                await response.read()
            if response.status != 200:
                samples.errors += 1
                return
    except aiohttp.ClientError:
        samples.errors += 1
        return
    samples.latencies.append((time.perf_counter() - start) * 1000)


async def burst(
    target: Target, stream: bool, concurrency: int, seconds: float, samples: Samples
) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(one(session, target, stream, Samples()) for _ in range(concurrency)))
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one(session, target, stream, samples)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        samples.seconds += time.perf_counter() - start


async def measure(targets: list[Target], seconds: float, rounds: int) -> None:
    for target in targets:
        await wait_ready(target.url, target.key)
    header = (
        f"{'mode':<7}{'conc':>5}  {'target':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'ttfc p50':>10}{'added p50':>11}{'added ttfc':>11}{'rps ratio':>10}{'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for stream in (False, True):
        for concurrency in (1, 16, 64):
            results = {t.name: Samples() for t in targets}
            for _ in range(rounds):
                for target in targets:
                    await burst(target, stream, concurrency, seconds, results[target.name])
            base = results[targets[0].name]
            for target in targets:
                s = results[target.name]
                p50 = pct(s.latencies, 0.5)
                ttfc = pct(s.ttfc, 0.5) if stream else float("nan")
                added = p50 - pct(base.latencies, 0.5)
                added_ttfc = ttfc - pct(base.ttfc, 0.5) if stream else float("nan")
                ratio = s.rps / base.rps if base.rps else float("nan")
                print(
                    f"{'stream' if stream else 'whole':<7}{concurrency:>5}  {target.name:<10}"
                    f"{s.rps:>9.0f}{p50:>9.2f}{pct(s.latencies, 0.99):>9.2f}{ttfc:>10.2f}"
                    f"{added:>11.2f}{added_ttfc:>11.2f}{ratio:>10.3f}{s.errors:>7}"
                )
            print()


def start_targets(
    workdir: Path, litellm: Path | None, baseline: Path | None = None, reliable: bool = False
) -> list[Target]:
    upstream_port, freehold_port = free_port(), free_port()
    python = sys.executable
    upstream = Target("upstream", f"http://127.0.0.1:{upstream_port}/v1", "sk-upstream")
    upstream.process = spawn(
        [
            python,
            "-m",
            "uvicorn",
            "freehold.testing.fast_upstream:app",
            "--port",
            str(upstream_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
    )
    config = workdir / "freehold.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "ledger": f"sqlite:///{workdir / 'ledger.db'}",
                "models": [
                    {
                        "name": "bench",
                        "backend": "openai",
                        "base_url": upstream.url,
                        "api_key": "sk-upstream",
                        "price": {"input_per_mtok": 1, "output_per_mtok": 2},
                    }
                ],
            }
        )
    )
    freehold = Target("freehold", f"http://127.0.0.1:{freehold_port}/v1", "sk-client")
    freehold.process = start_serve(freehold_port, config=config, log_level="warning")
    targets = [upstream, freehold]
    if reliable:  # the same model as two deployments, with retries and a breaker
        spec = yaml.safe_load(config.read_text())
        model = spec["models"][0]
        model["deployments"] = [
            {"name": "a", "base_url": model.pop("base_url"), "api_key": "sk-upstream"},
            {"name": "b", "base_url": upstream.url, "api_key": "sk-upstream"},
        ]
        model["retry"] = {"attempts": 3, "backoff_s": 0.1, "max_backoff_s": 2}
        model["breaker"] = {"failures": 5, "cooldown_s": 30}
        spec["ledger"] = f"sqlite:///{workdir / 'ledger-reliable.db'}"
        reliable_config = workdir / "freehold-reliable.yaml"
        reliable_config.write_text(yaml.safe_dump(spec))
        port = free_port()
        target = Target("reliable", f"http://127.0.0.1:{port}/v1", "sk-client")
        target.process = start_serve(port, config=reliable_config, log_level="warning")
        targets.append(target)
    if baseline is not None:  # another checkout of freehold, e.g. the last release
        port = free_port()
        target = Target("baseline", f"http://127.0.0.1:{port}/v1", "sk-client")
        env = {**os.environ, "PYTHONPATH": str(baseline / "src")}
        target.process = start_serve(port, config=config, log_level="warning", env=env)
        targets.append(target)
    if litellm is not None:
        port = free_port()
        lconfig = workdir / "litellm.yaml"
        lconfig.write_text(
            yaml.safe_dump(
                {
                    "model_list": [
                        {
                            "model_name": "bench",
                            "litellm_params": {
                                "model": "openai/bench",
                                "api_base": upstream.url,
                                "api_key": "sk-upstream",
                            },
                        }
                    ]
                }
            )
        )
        env = {
            **os.environ,
            "LITELLM_MASTER_KEY": "sk-litellm-bench",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        target = Target("litellm", f"http://127.0.0.1:{port}/v1", "sk-litellm-bench")
        target.process = spawn(
            [
                str(litellm / "bin" / "litellm"),
                "--config",
                str(lconfig),
                "--port",
                str(port),
                "--num_workers",
                "1",
            ],
            env=env,
        )
        targets.append(target)
    return targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one burst")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved bursts per target")
    parser.add_argument(
        "--vs-litellm",
        type=Path,
        default=None,
        metavar="VENV",
        help="a virtualenv with 'litellm[proxy]' installed",
    )
    parser.add_argument(
        "--vs-freehold",
        type=Path,
        default=None,
        metavar="CHECKOUT",
        help="another checkout of freehold (its src/ is imported), measured as 'baseline'",
    )
    parser.add_argument(
        "--with-deployments",
        action="store_true",
        help="also measure the model as two deployments with retries and a breaker ('reliable')",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = start_targets(Path(tmp), args.vs_litellm, args.vs_freehold, args.with_deployments)
        try:
            print(
                f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
                f"{args.rounds} rounds × {args.seconds}s bursts per target and cell\n"
            )
            uvloop.run(measure(targets, args.seconds, args.rounds))
        finally:
            for target in targets:
                if target.process is not None:
                    target.process.terminate()
                    target.process.wait(timeout=30)


if __name__ == "__main__":
    main()
