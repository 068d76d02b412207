"""The real `openai` client against `freehold serve` in front of an OpenAI-compatible mock."""

from __future__ import annotations

import signal
from decimal import Decimal

import openai
import pytest

from freehold.testing.servers import ServerThread

from .conftest import UPSTREAM_KEY, Gateway, MakeClient


def last_upstream_body(upstream: ServerThread) -> dict:
    return upstream._server.config.app.state.requests[-1]["body"]  # type: ignore[attr-defined]


def last_upstream_headers(upstream: ServerThread) -> dict:
    return upstream._server.config.app.state.requests[-1]["headers"]  # type: ignore[attr-defined]


def test_chat_whole_answer_headers_and_exact_ledger_row(
    make_client: MakeClient, gateway: Gateway
) -> None:
    raw = make_client(gateway).chat.completions.with_raw_response.create(
        model="cloud-big", messages=[{"role": "user", "content": "hello there friend"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "You said: hello there friend"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (3, 5)
    request_id = raw.headers["x-freehold-request-id"]
    assert request_id.startswith("req_")
    assert raw.headers["x-freehold-model"] == "cloud-big"
    # 3 × $2.5/M + 5 × $10/M = $0.0000575
    assert raw.headers["x-freehold-cost-usd"] == "0.000057500"

    row = gateway.row(request_id)
    assert row.requested_model == row.served_model == "cloud-big"
    assert (row.prompt_tokens, row.completion_tokens) == (3, 5)
    assert row.cost_usd == Decimal("0.0000575")
    assert row.status == 200 and row.error_type is None
    assert row.stream is False and row.usage_estimated is False
    assert row.route == ""
    assert row.key_id is not None and row.key_id.startswith("key-")
    assert "client-key-1" not in row.key_id
    assert row.latency_ms > 0 and row.ttft_ms is not None


def test_upstream_gets_its_own_key_and_model_name(
    make_client: MakeClient, gateway: Gateway, openai_upstream: ServerThread
) -> None:
    make_client(gateway).chat.completions.create(
        model="cloud-big", messages=[{"role": "user", "content": "hi"}]
    )
    headers = last_upstream_headers(openai_upstream)
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert last_upstream_body(openai_upstream)["model"] == "gpt-4o"


def test_parameters_pass_through(
    make_client: MakeClient, gateway: Gateway, openai_upstream: ServerThread
) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Look up",
                "parameters": {"type": "object"},
            },
        }
    ]
    make_client(gateway).chat.completions.create(
        model="cloud-big",
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        temperature=0.2,
        top_p=0.9,
        n=1,
        stop=["END"],
        seed=7,
        max_tokens=50,
        max_completion_tokens=40,
        user="u-1",
        metadata={"team": "a"},
        response_format={"type": "json_object"},
        tools=tools,
        tool_choice="auto",
        extra_body={"logit_bias": {"50256": -100}},
    )
    body = last_upstream_body(openai_upstream)
    assert body == {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "n": 1,
        "stop": ["END"],
        "seed": 7,
        "max_tokens": 50,
        "max_completion_tokens": 40,
        "user": "u-1",
        "metadata": {"team": "a"},
        "response_format": {"type": "json_object"},
        "tools": tools,
        "tool_choice": "auto",
        "logit_bias": {"50256": -100},
    }


def test_stream_with_usage(make_client: MakeClient, gateway: Gateway) -> None:
    raw = make_client(gateway).chat.completions.with_raw_response.create(
        model="cloud-big",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    request_id = raw.headers["x-freehold-request-id"]
    assert raw.headers["content-type"].startswith("text/event-stream")
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: one two three"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (3, 5)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"

    row = gateway.row(request_id)
    assert row.stream is True and row.status == 200
    assert (row.prompt_tokens, row.completion_tokens) == (3, 5)
    assert row.cost_usd == Decimal("0.0000575")
    assert row.ttft_ms is not None and 0 < row.ttft_ms <= row.latency_ms


def test_stream_without_usage_still_ledgers_usage(
    make_client: MakeClient, gateway: Gateway, openai_upstream: ServerThread
) -> None:
    raw = make_client(gateway).chat.completions.with_raw_response.create(
        model="cloud-big", messages=[{"role": "user", "content": "a b"}], stream=True
    )
    chunks = list(raw.parse())
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)
    # freehold asks the upstream for usage anyway, for the ledger
    assert last_upstream_body(openai_upstream)["stream_options"] == {"include_usage": True}
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.prompt_tokens, row.completion_tokens, row.usage_estimated) == (2, 4, False)


def test_missing_upstream_usage_is_estimated_and_marked(
    make_client: MakeClient, gateway: Gateway
) -> None:
    raw = make_client(gateway).chat.completions.with_raw_response.create(
        model="cloud-big",
        messages=[{"role": "user", "content": "count me [[no-usage]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert row.usage_estimated is True
    assert row.completion_tokens == chunks[-1].usage.completion_tokens
    assert row.prompt_tokens == chunks[-1].usage.prompt_tokens > 0
    assert row.cost_usd > 0


def test_tool_calls_whole_and_streamed(make_client: MakeClient, gateway: Gateway) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    c = make_client(gateway)
    whole = c.chat.completions.create(
        model="cloud-big", messages=[{"role": "user", "content": "find x [[tool]]"}], tools=tools
    )
    call = whole.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup"
    assert call.function.arguments == '{"echo":"find x"}'
    assert whole.choices[0].finish_reason == "tool_calls"

    arguments = ""
    names = []
    for chunk in c.chat.completions.create(
        model="cloud-big",
        messages=[{"role": "user", "content": "find x [[tool]]"}],
        tools=tools,
        stream=True,
    ):
        for delta_call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if delta_call.function and delta_call.function.name:
                names.append(delta_call.function.name)
            arguments += (delta_call.function.arguments or "") if delta_call.function else ""
    assert names == ["lookup"]
    assert arguments == '{"echo":"find x"}'


def test_tool_results_reach_upstream(
    make_client: MakeClient, gateway: Gateway, openai_upstream: ServerThread
) -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": "rain"},
    ]
    make_client(gateway).chat.completions.create(model="cloud-big", messages=messages)
    assert last_upstream_body(openai_upstream)["messages"] == messages


@pytest.mark.parametrize(
    ("directive", "error", "status", "kind"),
    [
        ("[[status:429]]", openai.RateLimitError, 429, "upstream_rejected"),
        ("[[status:400]]", openai.BadRequestError, 400, "upstream_rejected"),
        ("[[status:500]]", openai.InternalServerError, 502, "upstream_error"),
        ("[[status:503]]", openai.InternalServerError, 502, "upstream_error"),
        ("[[garbage]]", openai.InternalServerError, 502, "upstream_error"),
        ("[[sleep:3]]", openai.APIStatusError, 504, "upstream_timeout"),
    ],
)
def test_upstream_failures(
    make_client: MakeClient,
    gateway: Gateway,
    directive: str,
    error: type[Exception],
    status: int,
    kind: str,
) -> None:
    with pytest.raises(error) as caught:
        make_client(gateway).chat.completions.create(
            model="cloud-big", messages=[{"role": "user", "content": f"x {directive}"}]
        )
    assert isinstance(caught.value, openai.APIStatusError)
    assert caught.value.status_code == status
    response = caught.value.response
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "Traceback" not in response.text
    assert UPSTREAM_KEY not in response.text
    if status == 429:
        assert "mock failure 429" in body["error"]["message"]
    row = gateway.row(response.headers["x-freehold-request-id"])
    assert (row.status, row.error_type) == (status, kind)
    assert row.cost_usd == 0


def test_stream_cut_midway_ends_with_error_event(make_client: MakeClient, gateway: Gateway) -> None:
    stream = make_client(gateway).chat.completions.with_raw_response.create(
        model="cloud-big", messages=[{"role": "user", "content": "a b c d [[cut]]"}], stream=True
    )
    received: list[object] = []

    def consume() -> None:
        for chunk in stream.parse():
            received.append(chunk)

    with pytest.raises(openai.APIError) as caught:
        consume()
    assert "closed the connection" in caught.value.message
    assert len(received) >= 2
    row = gateway.row(stream.headers["x-freehold-request-id"])
    assert row.status == 502 and row.error_type == "upstream_error"
    assert row.stream is True


def test_unreachable_upstream_is_502(make_client: MakeClient, start_gateway) -> None:  # type: ignore[no-untyped-def]
    from freehold.testing.servers import free_port

    def edit(config: dict) -> None:
        config["models"][0]["base_url"] = f"http://127.0.0.1:{free_port()}/v1"

    gw = start_gateway(edit)
    with pytest.raises(openai.InternalServerError) as caught:
        make_client(gw).chat.completions.create(
            model="cloud-big", messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == 502
    assert caught.value.response.json()["error"]["code"] == "upstream_unavailable"


def test_models_endpoint_lists_configured_models(make_client: MakeClient, gateway: Gateway) -> None:
    ids = [m.id for m in make_client(gateway).models.list()]
    assert ids == ["cloud-big", "claude"]


def test_secrets_stay_out_of_logs_and_ledger(make_client: MakeClient, gateway: Gateway) -> None:
    c = make_client(gateway, key="client-secret-key-XYZ")
    c.chat.completions.create(model="cloud-big", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.APIStatusError):
        c.chat.completions.create(
            model="cloud-big", messages=[{"role": "user", "content": "x [[status:401]]"}]
        )
    assert gateway.stop() in (0, -signal.SIGTERM)
    text = gateway.log()
    exported = "\n".join(str(r.to_json()) for r in gateway.rows())
    for secret in (UPSTREAM_KEY, "client-secret-key-XYZ"):
        assert secret not in text
        assert secret not in exported
