"""Untrusted upstream answers, end to end: the real `openai` client against `freehold serve`
in front of mock upstreams that cut streams (clean close, chunked end, TCP reset), answer a
stream request with HTML or JSON, send malformed answers or unbelievable usage, or quote
the gateway's upstream key in their errors. The client gets an error (never a stream that
looks complete, never a 500), and the ledger row says what happened."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
import yaml

from freehold.testing import mock_openai
from freehold.testing.servers import ServerThread

from .conftest import UPSTREAM_KEY, Gateway, MakeClient, base_config


@pytest.fixture(scope="module")
def socket_upstream() -> Iterator[mock_openai.SocketServer]:
    with mock_openai.SocketServer() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory,
    openai_upstream: ServerThread,
    anthropic_upstream: ServerThread,
    socket_upstream: mock_openai.SocketServer,
) -> Iterator[Gateway]:
    """One gateway for the module, with a third model ``sock`` behind the socket server."""
    root = tmp_path_factory.mktemp("faults")
    ledger = root / "ledger.db"
    config = base_config(openai_upstream.url, anthropic_upstream.url, ledger)
    sock = {**config["models"][0], "name": "sock", "base_url": socket_upstream.url + "/v1"}
    config["models"].append(sock)
    path = Path(root / "freehold.yaml")
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "UPSTREAM_KEY": UPSTREAM_KEY, "FREEHOLD_HOME": str(root / "home")}
    started = Gateway(path, ledger, env)
    yield started
    started.stop()


def ask(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


def raw_stream(gateway: Gateway, model: str, text: str) -> tuple[int, str, str]:
    """(status, request id, the whole SSE body) of a stream request, as bytes on the wire."""
    body = {"model": model, "messages": ask(text), "stream": True}
    with httpx.stream("POST", gateway.url + "/v1/chat/completions", json=body, timeout=10) as r:
        return r.status_code, r.headers["x-freehold-request-id"], r.read().decode()


CUTS = [
    pytest.param("cloud-big", "a b c d [[halt:2]]", id="chunked-end"),
    pytest.param("sock", "a b c d [[halt:2]]", id="clean-close"),
    pytest.param("sock", "a b c d [[halt:2]] [[chunked]] [[reset]]", id="tcp-reset"),
    pytest.param("sock", "a b c d [[halt:2]] [[reset]]", id="reset-of-close-delimited"),
    pytest.param("cloud-big", "a b c d [[cut]]", id="connection-dropped"),
    pytest.param("claude", "a b c d [[halt:2]]", id="anthropic-no-message-stop"),
]


@pytest.mark.parametrize(("model", "text"), CUTS)
def test_a_cut_stream_ends_with_an_error_and_a_502_row(
    make_client: MakeClient, gateway: Gateway, model: str, text: str
) -> None:
    stream = make_client(gateway).chat.completions.with_raw_response.create(
        model=model, messages=ask(text), stream=True
    )
    received: list[Any] = []

    def consume() -> None:
        for chunk in stream.parse():
            received.append(chunk)

    with pytest.raises(openai.APIError) as caught:
        consume()
    assert not isinstance(caught.value, openai.APIStatusError)  # the 200 had already left
    assert received  # some of the answer came first
    assert all(c.choices == [] or c.choices[0].finish_reason is None for c in received)
    row = gateway.row(stream.headers["x-freehold-request-id"])
    assert (row.status, row.error_type, row.stream) == (502, "upstream_error", True)

    status, request_id, sse = raw_stream(gateway, model, text)
    assert status == 200
    assert "[DONE]" not in sse
    last = orjson.loads(sse.strip().split("\n\n")[-1].removeprefix("data: "))
    assert last["error"]["code"] == "bad_gateway"
    assert gateway.row(request_id).status == 502


def test_a_malformed_first_content_chunk_fails_before_the_stream_begins(
    gateway: Gateway,
) -> None:
    """Chunks are held back until the first one with content, so an upstream whose first
    words are unusable gets a proper 502 (and could be retried), not a 200 cut short."""
    status, request_id, sse = raw_stream(gateway, "cloud-big", "a b [[malformed:content-int]]")
    assert status == 502
    assert orjson.loads(sse)["error"]["code"] == "bad_gateway"
    row = gateway.row(request_id)
    assert (row.status, row.error_type, row.stream) == (502, "upstream_error", True)


@pytest.mark.parametrize(
    ("model", "text", "kind"),
    [
        ("cloud-big", "hi [[garbage]]", "text/html"),
        ("cloud-big", "hi [[as-json]]", "application/json"),
        ("claude", "hi [[garbage]]", "text/html"),
        ("sock", "hi [[as-json]]", "application/json"),
    ],
)
def test_a_stream_answered_with_another_content_type_is_a_502(
    make_client: MakeClient, gateway: Gateway, model: str, text: str, kind: str
) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        make_client(gateway).chat.completions.create(model=model, messages=ask(text), stream=True)
    assert caught.value.status_code == 502
    error = caught.value.response.json()["error"]
    assert error["code"] == "bad_gateway"
    assert f"answered a stream request with '{kind}" in error["message"]
    row = gateway.row(caught.value.response.headers["x-freehold-request-id"])
    assert (row.status, row.error_type) == (502, "upstream_error")


@pytest.mark.parametrize(
    ("model", "text", "problem"),
    [
        ("cloud-big", "[[malformed:choice-int]]", "choices[0] is an integer"),
        ("cloud-big", "[[malformed:message-str]]", "choices[0].message is a string"),
        ("cloud-big", "[[malformed:tool-calls-int]]", "choices[0].message.tool_calls[0] is an"),
        ("cloud-big", "[[malformed:content-int]]", "choices[0].message.content is an integer"),
        ("claude", "[[malformed:block-int]]", "content[0] is an integer"),
        ("claude", "[[malformed:text-int]]", "content[0].text is an integer"),
        ("sock", "[[truncate]]", "closed the connection"),
    ],
)
def test_a_malformed_whole_answer_is_a_502_naming_the_problem(
    make_client: MakeClient, gateway: Gateway, model: str, text: str, problem: str
) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        make_client(gateway).chat.completions.create(model=model, messages=ask(f"hi {text}"))
    response = caught.value.response
    assert response.status_code == 502
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert (body["error"]["type"], body["error"]["code"]) == ("upstream_error", "bad_gateway")
    assert problem in body["error"]["message"]
    assert "Traceback" not in response.text
    row = gateway.row(response.headers["x-freehold-request-id"])
    assert (row.status, row.error_type, row.cost_usd) == (502, "upstream_error", 0)


@pytest.mark.parametrize("kind", ["huge", "negative", "float", "bool", "string"])
@pytest.mark.parametrize("model", ["cloud-big", "claude"])
def test_unbelievable_usage_is_estimated_and_never_costs_less_than_nothing(
    make_client: MakeClient, gateway: Gateway, model: str, kind: str
) -> None:
    client = make_client(gateway)
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=ask(f"one two [[usage:{kind}]]")
    )
    completion = raw.parse()
    assert completion.usage is not None
    assert 0 < completion.usage.prompt_tokens < 100
    cost = Decimal(raw.headers["x-freehold-cost-usd"])
    assert Decimal(0) < cost < Decimal("0.01")
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert row.status == 200 and row.usage_estimated is True
    assert row.prompt_tokens == completion.usage.prompt_tokens
    assert row.cost_usd == cost

    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=ask(f"one two [[usage:{kind}]]"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = chunks[-1].usage
    assert usage is not None and 0 < usage.prompt_tokens < 100


def key_pieces() -> list[str]:
    """Every 8-character piece of the upstream key."""
    return sorted({UPSTREAM_KEY[i : i + 8] for i in range(len(UPSTREAM_KEY) - 7)})


@pytest.mark.parametrize("form", ["whole", "stars", "dots", "padded", "ellipsis"])
@pytest.mark.parametrize("model", ["cloud-big", "claude"])
def test_an_upstream_quoting_the_key_leaks_none_of_it(
    make_client: MakeClient, gateway: Gateway, model: str, form: str
) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        make_client(gateway).chat.completions.create(
            model=model, messages=ask(f"x [[status:401]] [[key:{form}]]")
        )
    text = caught.value.response.text
    assert "mock failure 401" in text
    assert "***" in text  # the quoted key went, whole
    assert [p for p in key_pieces() if p in text] == []
    assert UPSTREAM_KEY[-4:] not in text
    row = gateway.row(caught.value.response.headers["x-freehold-request-id"])
    exported = orjson.dumps(row.to_json()).decode()
    assert [p for p in key_pieces() if p in exported] == []
    assert [p for p in key_pieces() if p in gateway.log()] == []
