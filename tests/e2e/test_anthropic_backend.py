"""The real `openai` client against `freehold serve` in front of an Anthropic Messages mock."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest

from freehold.testing.servers import ServerThread

from .conftest import UPSTREAM_KEY, Gateway, MakeClient

TOOLS = [
    {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up", "parameters": {"type": "object"}},
    }
]


def recorded(upstream: ServerThread) -> dict:
    return upstream._server.config.app.state.requests[-1]  # type: ignore[attr-defined]


def test_whole_answer_through_anthropic(
    make_client: MakeClient, gateway: Gateway, anthropic_upstream: ServerThread
) -> None:
    raw = make_client(gateway).chat.completions.with_raw_response.create(
        model="claude",
        messages=[
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "hello there"},
        ],
        max_tokens=100,
        temperature=0.5,
        stop=["END"],
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "You said: hello there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    # input: "be kind" 2 + "hello there" 2; output: 4 words
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 4)
    assert raw.headers["x-freehold-model"] == "claude"
    # 4 × $3/M + 4 × $15/M = $0.000072
    assert raw.headers["x-freehold-cost-usd"] == "0.000072000"

    sent = recorded(anthropic_upstream)
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == UPSTREAM_KEY
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    assert sent["body"]["model"] == "claude-sonnet-4"
    assert sent["body"]["system"] == "be kind"
    assert sent["body"]["max_tokens"] == 100
    assert sent["body"]["stop_sequences"] == ["END"]

    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.served_model, row.prompt_tokens, row.completion_tokens) == ("claude", 4, 4)
    assert row.cost_usd == Decimal("0.000072")
    assert row.status == 200


def test_stream_through_anthropic_with_usage(make_client: MakeClient, gateway: Gateway) -> None:
    raw = make_client(gateway).chat.completions.with_raw_response.create(
        model="claude",
        messages=[{"role": "user", "content": "[[words:6]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "w0 w1 w2 w3 w4 w5"
    assert chunks[0].choices[0].delta.role == "assistant"
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens) == (0, 6)
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.prompt_tokens, row.completion_tokens, row.stream) == (0, 6, True)
    assert row.cost_usd == Decimal("0.00009")


def test_tool_calls_through_anthropic(
    make_client: MakeClient, gateway: Gateway, anthropic_upstream: ServerThread
) -> None:
    c = make_client(gateway)
    whole = c.chat.completions.create(
        model="claude",
        messages=[{"role": "user", "content": "find cats [[tool]]"}],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "lookup"}},
    )
    call = whole.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == ("lookup", '{"echo":"find cats"}')
    assert whole.choices[0].finish_reason == "tool_calls"
    body = recorded(anthropic_upstream)["body"]
    assert body["tools"] == [
        {"name": "lookup", "description": "Look up", "input_schema": {"type": "object"}}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "lookup"}

    arguments, ids = "", []
    for chunk in c.chat.completions.create(
        model="claude",
        messages=[{"role": "user", "content": "find cats [[tool]]"}],
        tools=TOOLS,
        stream=True,
    ):
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if delta.id:
                ids.append(delta.id)
            arguments += (delta.function.arguments or "") if delta.function else ""
    assert len(ids) == 1
    assert arguments == '{"echo":"find cats"}'

    # the tool's result goes back as a tool_result block
    c.chat.completions.create(
        model="claude",
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "find cats"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": "lookup", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "3 cats"},
        ],
    )
    turns = recorded(anthropic_upstream)["body"]["messages"]
    assert turns[-1]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": call.id,
        "content": "3 cats",
    }


def test_anthropic_refusals_pass_through(make_client: MakeClient, gateway: Gateway) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        make_client(gateway).chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "x [[status:429]]"}]
        )
    assert caught.value.response.headers["retry-after"] == "1"
    with pytest.raises(openai.AuthenticationError) as denied:
        make_client(gateway).chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "x [[status:401]]"}]
        )
    assert UPSTREAM_KEY not in denied.value.response.text
    with pytest.raises(openai.InternalServerError) as overloaded:
        make_client(gateway).chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "x [[status:529]]"}]
        )
    assert overloaded.value.status_code == 502


def test_unsupported_parameter_is_a_clear_400(make_client: MakeClient, gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        make_client(gateway).chat.completions.create(
            model="claude", messages=[{"role": "user", "content": "x"}], n=2
        )
    error = caught.value.response.json()["error"]
    assert (error["code"], error["param"]) == ("unsupported_parameter", "n")
