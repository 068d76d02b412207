"""A local GGUF served in-process by llama.cpp, through `freehold serve` and the `openai`
client: templating, generation, streaming, JSON mode, energy pricing, queueing and
cancellation on a tiny model the test writes itself; loading that silences no other thread
and prints nothing of llama.cpp's at the default level; sampling input llama.cpp would
crash on refused with 400. (The real small model's tests are in test_smollm2.py.)"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import free_port

from .conftest import Gateway, MakeClient, StartGateway

pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")

from freehold.config.schema import ModelSettings
from freehold.providers.llamacpp import load
from freehold.testing.tiny_gguf import write_tiny_llama

WATTS, USD_PER_KWH = Decimal(300), Decimal("0.25")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stops on its own now and then (biased towards its end tokens)."""
    return write_tiny_llama(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def chatty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pure random weights and a long context: generates until max_tokens."""
    return write_tiny_llama(
        tmp_path_factory.mktemp("gguf") / "chatty.gguf",
        stop_bias=0,
        close_bias=0,
        context_length=8192,
        seed=5,
    )


def local_gateway(start_gateway: StartGateway, path: Path, **model: Any) -> Gateway:
    def edit(config: dict[str, Any]) -> None:
        config["models"].append(
            {
                "name": "local",
                "backend": "llamacpp",
                "path": str(path),
                "threads": 2,
                "n_ctx": model.pop("n_ctx", 1024),
                "locality": "local",
                "jurisdiction": "on-prem",
                "energy": {"watts": str(WATTS), "usd_per_kwh": str(USD_PER_KWH)},
                **model,
            }
        )

    return start_gateway(edit)


def ask(client: openai.OpenAI, **fields: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model="local", messages=[{"role": "user", "content": "Say something nice."}], **fields
    )


def test_whole_and_streamed_answers_agree_and_are_ledgered(
    start_gateway: StartGateway, make_client: MakeClient, tiny: Path
) -> None:
    gateway = local_gateway(start_gateway, tiny)
    client = make_client(gateway)
    whole_raw = ask(client, seed=7, temperature=0, max_tokens=24)
    whole = whole_raw.parse()
    assert whole.model == "local"
    assert whole.usage.prompt_tokens > 5  # the ChatML template's markers are counted
    # llama.cpp may overshoot max_tokens by a few while it completes a UTF-8 character
    assert 0 < whole.usage.completion_tokens <= 24 + 3
    stream_raw = ask(
        client,
        seed=7,
        temperature=0,
        max_tokens=24,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream_raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == (whole.choices[0].message.content or "")
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (
        whole.usage.prompt_tokens,
        whole.usage.completion_tokens,
    )

    for raw, usage in ((whole_raw, whole.usage), (stream_raw, chunks[-1].usage)):
        row = gateway.row(raw.headers["x-freehold-request-id"])
        assert (row.served_model, row.status, row.cost_basis) == ("local", 200, "energy")
        assert (row.prompt_tokens, row.completion_tokens) == (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
        # energy cost: watts × generation time, and generation took at most the whole latency
        ceiling = WATTS * Decimal(row.latency_ms) / 1000 / Decimal(3_600_000) * USD_PER_KWH
        assert 0 < row.cost_usd <= ceiling
    assert (
        Decimal(whole_raw.headers["x-freehold-cost-usd"])
        == gateway.row(whole_raw.headers["x-freehold-request-id"]).cost_usd
    )


def test_same_seed_same_answer(
    start_gateway: StartGateway, make_client: MakeClient, chatty: Path
) -> None:
    client = make_client(local_gateway(start_gateway, chatty))
    first = ask(client, seed=11, temperature=0.9, max_tokens=16).parse()
    again = ask(client, seed=11, temperature=0.9, max_tokens=16).parse()
    other = ask(client, seed=12, temperature=0.9, max_tokens=16).parse()
    assert first.choices[0].message.content == again.choices[0].message.content
    assert first.choices[0].message.content != other.choices[0].message.content
    assert first.choices[0].finish_reason == "length"
    assert 16 <= first.usage.completion_tokens <= 16 + 3


def test_json_mode_is_grammar_constrained(
    start_gateway: StartGateway, make_client: MakeClient, tiny: Path
) -> None:
    client = make_client(local_gateway(start_gateway, tiny))
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    for response_format in (
        {"type": "json_object"},
        {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
    ):
        reply = ask(client, seed=3, max_tokens=300, response_format=response_format).parse()
        assert reply.choices[0].finish_reason == "stop"
        value = json.loads(reply.choices[0].message.content or "")
        assert isinstance(value, dict)
        if response_format["type"] == "json_schema":
            assert isinstance(value["n"], int)


def test_a_full_queue_answers_503_with_retry_after(
    start_gateway: StartGateway, make_client: MakeClient, chatty: Path
) -> None:
    gateway = local_gateway(start_gateway, chatty, workers=1, max_queue=0, n_ctx=8192)
    client = make_client(gateway)
    stream = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "go"}], max_tokens=6000, stream=True
    )
    next(iter(stream))  # the only worker is generating now
    refused = httpx.post(
        gateway.url + "/v1/chat/completions",
        timeout=10,
        json={"model": "local", "messages": [{"role": "user", "content": "me too"}]},
    )
    stream.close()
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "service_unavailable"
    row = gateway.row(refused.headers["x-freehold-request-id"])
    assert (row.status, row.error_type) == (503, "service_unavailable")


def test_a_client_that_goes_away_stops_generation_and_frees_the_worker(
    start_gateway: StartGateway, make_client: MakeClient, chatty: Path
) -> None:
    gateway = local_gateway(start_gateway, chatty, workers=1, max_queue=4, n_ctx=8192)
    with httpx.stream(
        "POST",
        gateway.url + "/v1/chat/completions",
        timeout=10,
        json={
            "model": "local",
            "stream": True,
            "max_tokens": 7000,
            "messages": [{"role": "user", "content": "go on forever"}],
        },
    ) as response:
        request_id = response.headers["x-freehold-request-id"]
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
    # the connection is closed: generation must stop well before 7,000 tokens
    row = gateway.row(request_id, timeout=20)
    assert (row.status, row.error_type) == (499, "client_disconnected")
    assert 0 < row.completion_tokens < 7000
    # and the single worker takes the next request
    reply = make_client(gateway).chat.completions.create(
        model="local", messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert reply.usage is not None and reply.usage.completion_tokens <= 4 + 3


def test_unsupported_parameters_are_refused(
    start_gateway: StartGateway, make_client: MakeClient, tiny: Path
) -> None:
    client = make_client(local_gateway(start_gateway, tiny))
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, n=2)
    assert caught.value.response.json()["error"]["param"] == "n"


def test_prompt_longer_than_the_context_is_a_400(
    start_gateway: StartGateway, make_client: MakeClient, tiny: Path
) -> None:
    client = make_client(local_gateway(start_gateway, tiny, n_ctx=256))
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="local", messages=[{"role": "user", "content": "word " * 300}]
        )
    assert caught.value.response.json()["error"]["code"] == "context_length_exceeded"


def test_zero_config_serves_the_pulled_models(tmp_path: Path, tiny: Path) -> None:
    """`freehold serve` with no config serves every GGUF in $FREEHOLD_HOME/models."""
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    shutil.copy(tiny, home / "models" / "Tiny-Chat-F32.gguf")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FREEHOLD_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
    }
    env["FREEHOLD_HOME"] = str(home)
    port = free_port()
    process = start_serve(port, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout_s=30)
        client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=30)
        try:
            assert [m.id for m in client.models.list()] == ["Tiny-Chat-F32"]  # as written
            reply = client.chat.completions.create(
                model="Tiny-Chat-F32", messages=[{"role": "user", "content": "hi"}], max_tokens=8
            )
            # and, being the only name that matches ignoring case, as the old lower-case name
            lower = client.chat.completions.create(
                model="tiny-chat-f32", messages=[{"role": "user", "content": "hi"}], max_tokens=8
            )
        finally:
            client.close()
        assert reply.usage is not None and reply.usage.prompt_tokens > 0
        assert lower.usage is not None and lower.usage.prompt_tokens == reply.usage.prompt_tokens
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


#: Loads a model in a worker thread (three times over) while the main thread keeps writing
#: numbered lines to stdout and stderr, until the loads are done.
WRITE_WHILE_LOADING = """
import sys, threading
from freehold.config.schema import ModelSettings
from freehold.providers.llamacpp import load

settings = ModelSettings(name="m", backend="llamacpp", path=sys.argv[1], threads=1, n_ctx=256)
loaded = threading.Event()

def loader():
    for _ in range(3):
        load(settings).close()
    loaded.set()

thread = threading.Thread(target=loader)
thread.start()
count = 0
while not loaded.is_set() or count < 100:
    print(f"out {count}", flush=True)
    sys.stderr.write(f"err {count}\\n")
    sys.stderr.flush()
    count += 1
thread.join()
print(f"wrote {count}", flush=True)
"""


def test_loading_a_model_silences_no_other_thread(tiny: Path) -> None:
    """llama-cpp-python's quiet mode points fds 1 and 2 at /dev/null while a model loads,
    losing what other threads print then (uvicorn's start-up lines); freehold's loading
    must not, and llama.cpp's own lines must not appear either."""
    done = subprocess.run(
        [sys.executable, "-c", WRITE_WHILE_LOADING, str(tiny)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    *out, last = done.stdout.splitlines()
    count = int(last.removeprefix("wrote "))
    assert out == [f"out {i}" for i in range(count)]
    assert done.stderr.splitlines() == [f"err {i}" for i in range(count)]


def test_llama_cpp_lines_go_to_the_debug_log(tmp_path: Path, tiny: Path) -> None:
    """Routed to logging, not dropped: `--log-level debug` shows llama.cpp's own lines."""
    config = tmp_path / "freehold.yaml"
    model = {"name": "local", "backend": "llamacpp", "path": str(tiny), "threads": 1}
    config.write_text(
        yaml.safe_dump({"ledger": f"sqlite:///{tmp_path / 'l.db'}", "models": [model]})
    )
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = start_serve(port, config=config, output=output, log_level="debug")
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, process, timeout_s=30)
            body = {
                "model": "local",
                "max_tokens": 2,
                "messages": [{"role": "user", "content": "hi"}],
            }
            assert (
                httpx.post(url + "/v1/chat/completions", json=body, timeout=30).status_code == 200
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    lines = log.read_text(errors="replace").splitlines()
    loader = [line for line in lines if "llama_model_loader" in line]
    assert loader and all(" DEBUG freehold.llama_cpp: " in line for line in loader)
    assert any("Application startup complete" in line for line in lines)


def json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}


#: sampling input that would crash the gateway (a grammar llama.cpp cannot parse is used as
#: a null grammar) or give a 500, if passed to llama.cpp as sent
CHOKING = {
    "empty-enum": {"response_format": json_schema({"enum": []})},
    "empty-anyOf": {"response_format": json_schema({"anyOf": []})},
    "bad-items": {"response_format": json_schema({"type": "array", "items": 5})},
    "no-such-token": {"logit_bias": {"999999": 5}},
    "not-a-token": {"logit_bias": {"abc": 5}},
    "too-big": {"logit_bias": {"3": 500}},
    "not-a-number": {"logit_bias": {"3": "x"}},
    "not-an-object": {"logit_bias": [3]},
}


def test_sampling_input_that_llama_cpp_would_choke_on_is_a_400(
    start_gateway: StartGateway, tiny: Path
) -> None:
    gateway = local_gateway(start_gateway, tiny)
    body = {"model": "local", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
    for case, fields in CHOKING.items():
        refused = httpx.post(gateway.url + "/v1/chat/completions", json=body | fields, timeout=30)
        assert refused.status_code == 400, (case, refused.text)
        assert refused.json()["error"]["param"].startswith(next(iter(fields))), case
        row = gateway.row(refused.headers["x-freehold-request-id"])
        assert (row.status, row.error_type) == (400, "invalid_request"), case
    # the gateway and its only worker are still there
    assert (
        httpx.post(gateway.url + "/v1/chat/completions", json=body, timeout=30).status_code == 200
    )
    assert "Traceback" not in gateway.log()


def test_a_file_llama_cpp_cannot_load_is_refused_with_its_reasons(
    tmp_path: Path, tiny: Path
) -> None:
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(tiny.read_bytes()[:100_000])  # the header, half of the tensors
    settings = ModelSettings(name="m", backend="llamacpp", path=str(cut), threads=1)
    with pytest.raises(ValueError, match="Failed to load model") as caught:
        load(settings)
    assert "llama_model_load: error loading model" in str(caught.value)
