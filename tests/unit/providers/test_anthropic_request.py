"""OpenAI requests → Anthropic Messages bodies: no server."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from freehold.core.errors import (
    InvalidRequest,
    UnsupportedParameter,
)
from freehold.core.types import ChatRequest
from freehold.providers import anthropic_request as wire

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def req(messages: list[dict[str, Any]], **fields: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "claude", "messages": messages, **fields})


def body_of(request: ChatRequest, *, stream: bool = False, default: int = 512) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(
        wire.request_body(request, "claude-up", default, stream=stream)
    )
    return result


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


# ---------------------------------------------------------------- request


def test_minimal_request_uses_upstream_model_and_default_max_tokens() -> None:
    body = body_of(req([user("hi")]), default=777)
    assert body == {"model": "claude-up", "max_tokens": 777, "messages": [user("hi")]}


def test_stream_flag_only_when_streaming() -> None:
    assert body_of(req([user("hi")]), stream=True)["stream"] is True
    assert "stream" not in body_of(req([user("hi")], stream=True), stream=False)


def test_system_and_developer_messages_join_into_top_level_system() -> None:
    body = body_of(
        req(
            [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
                user("hi"),
                {"role": "system", "content": "Late rule."},
            ]
        )
    )
    assert body["system"] == "Be brief.\n\nUse French.\n\nLate rule."
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_multi_turn_keeps_order_and_alternation() -> None:
    body = body_of(req([user("one"), {"role": "assistant", "content": "two"}, user("three")]))
    assert body["messages"] == [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
    ]


def test_consecutive_same_role_turns_merge_into_blocks() -> None:
    body = body_of(req([user("a"), user("b"), {"role": "assistant", "content": "c"}]))
    assert body["messages"][0] == {
        "role": "user",
        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
    }
    assert len(body["messages"]) == 2


def test_empty_text_and_empty_turns_are_dropped() -> None:
    body = body_of(req([user("a"), {"role": "assistant", "content": ""}, user("  "), user("b")]))
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]


def test_conversation_must_start_with_the_user() -> None:
    with pytest.raises(InvalidRequest) as info:
        wire.request_body(req([{"role": "assistant", "content": "hello"}]), "m", 10, stream=False)
    assert info.value.param == "messages"
    with pytest.raises(InvalidRequest):
        wire.request_body(req([{"role": "system", "content": "only"}]), "m", 10, stream=False)


def test_text_parts_and_images() -> None:
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"}},
    ]
    body = body_of(req([{"role": "user", "content": content}]))
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "what is this?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_bad_image_url_and_unknown_part_are_refused_with_param() -> None:
    ftp = {"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}
    with pytest.raises(InvalidRequest) as info:
        body_of(req([{"role": "user", "content": [ftp]}]))
    assert info.value.param == "messages[0].content[0].image_url.url"
    audio = {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}
    with pytest.raises(UnsupportedParameter) as unsupported:
        body_of(req([user("x"), {"role": "user", "content": [audio]}]))
    assert unsupported.value.param == "messages[1].content[0].type"


def test_tool_calls_and_results_become_tool_use_and_one_user_turn() -> None:
    messages = [
        user("weather in Paris and Rome?"),
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                call("call_a", "weather", '{"city": "Paris"}'),
                call("call_b", "weather", '{"city": "Rome"}'),
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "rain"}]},
        user("thanks"),
    ]
    body = body_of(req(messages, tools=TOOLS))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_a", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_b", "name": "weather", "input": {"city": "Rome"}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_a", "content": "sunny"},
        {
            "type": "tool_result",
            "tool_use_id": "call_b",
            "content": [{"type": "text", "text": "rain"}],
        },
        {"type": "text", "text": "thanks"},
    ]


def test_empty_tool_arguments_are_an_empty_input() -> None:
    messages = [user("go"), {"role": "assistant", "tool_calls": [call("c1", "ping", "")]}]
    assert body_of(req(messages))["messages"][1]["content"][0]["input"] == {}


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
def test_invalid_tool_arguments_are_refused_with_param(arguments: str) -> None:
    messages = [
        user("go"),
        {"role": "assistant", "tool_calls": [call("c0", "ping", "{}"), call("c1", "w", arguments)]},
    ]
    with pytest.raises(InvalidRequest) as info:
        body_of(req(messages))
    assert info.value.param == "messages[1].tool_calls[1].function.arguments"


def test_tool_message_needs_its_call_id() -> None:
    messages = [user("go"), {"role": "tool", "content": "result"}]
    with pytest.raises(InvalidRequest) as info:
        body_of(req(messages))
    assert info.value.param == "messages[1].tool_call_id"


def test_function_role_is_unsupported() -> None:
    with pytest.raises(UnsupportedParameter) as info:
        body_of(req([user("go"), {"role": "function", "name": "f", "content": "x"}]))
    assert info.value.param == "messages[1].role"


def test_tools_map_to_input_schema() -> None:
    bare = {"type": "function", "function": {"name": "now"}}
    body = body_of(req([user("hi")], tools=[*TOOLS, bare]))
    assert body["tools"] == [
        {
            "name": "weather",
            "description": "Weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            {"type": "tool", "name": "weather"},
        ),
    ],
)
def test_tool_choice(choice: Any, expected: dict[str, Any]) -> None:
    assert body_of(req([user("hi")], tools=TOOLS, tool_choice=choice))["tool_choice"] == expected


@pytest.mark.parametrize("choice", ["sometimes", {"type": "function", "function": {}}])
def test_bad_tool_choice_is_refused(choice: Any) -> None:
    with pytest.raises(InvalidRequest) as info:
        body_of(req([user("hi")], tools=TOOLS, tool_choice=choice))
    assert info.value.param == "tool_choice"


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    body = body_of(req([user("hi")], tools=TOOLS, parallel_tool_calls=False))
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert "parallel_tool_calls" not in body


def test_sampling_fields_map_and_unknown_fields_are_not_forwarded() -> None:
    request = req(
        [user("hi")],
        max_tokens=50,
        stop="END",
        temperature=0.5,
        top_p=0.9,
        user="u-42",
        seed=7,
        frequency_penalty=0.3,
        metadata={"k": "v"},
        response_format={"type": "text"},
    )
    body = body_of(request)
    assert body == {
        "model": "claude-up",
        "max_tokens": 50,
        "messages": [user("hi")],
        "stop_sequences": ["END"],
        "temperature": 0.5,
        "top_p": 0.9,
        "metadata": {"user_id": "u-42"},
    }


def test_max_completion_tokens_wins_and_stop_list_passes() -> None:
    body = body_of(req([user("hi")], max_tokens=50, max_completion_tokens=20, stop=["a", "b"]))
    assert body["max_tokens"] == 20
    assert body["stop_sequences"] == ["a", "b"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"temperature": 1.5}, "temperature"),
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"response_format": {"type": "json_schema", "json_schema": {}}}, "response_format"),
    ],
)
def test_unsupported_parameters(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedParameter) as info:
        body_of(req([user("hi")], **fields))
    assert info.value.param == param
    assert info.value.status == 400


def test_temperature_one_and_n_one_are_fine() -> None:
    assert body_of(req([user("hi")], temperature=1, n=1))["temperature"] == 1
