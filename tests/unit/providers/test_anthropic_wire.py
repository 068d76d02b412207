"""The pure OpenAI ⇄ Anthropic Messages mapping: no server."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from freehold.core.errors import (
    InvalidRequest,
    UnsupportedParameter,
    UpstreamError,
    UpstreamRejected,
)
from freehold.core.types import ChatRequest, Chunk
from freehold.providers import anthropic_wire as wire

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


# ---------------------------------------------------------------- answer


def message(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-up-2025",
        "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " world"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }
    return orjson.dumps({**base, **fields})


def test_parse_message_text_and_usage() -> None:
    result = wire.parse_message(message(), req([user("hi")]), "up")
    body = result.body
    assert body["id"] == "msg_01"
    assert body["object"] == "chat.completion"
    assert body["model"] == "claude-up-2025"
    assert isinstance(body["created"], int)
    assert abs(body["created"] - time.time()) < 5
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello world"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (10, 3)
    assert result.usage.estimated is False


def test_prompt_tokens_include_cache_writes_and_reads() -> None:
    usage = {
        "input_tokens": 5,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "output_tokens": 2,
    }
    result = wire.parse_message(message(usage=usage), req([user("hi")]), "up")
    assert result.usage.prompt_tokens == 1105
    assert result.body["usage"]["total_tokens"] == 1107


def test_parse_message_tool_use() -> None:
    content = [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
    ]
    result = wire.parse_message(
        message(content=content, stop_reason="tool_use"), req([user("hi")]), "up"
    )
    choice = result.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Let me check."
    (tool_call,) = choice["message"]["tool_calls"]
    assert tool_call["id"] == "toolu_1"
    assert tool_call["type"] == "function"
    assert tool_call["function"]["name"] == "weather"
    assert orjson.loads(tool_call["function"]["arguments"]) == {"city": "Paris"}


def test_only_tool_use_has_null_content() -> None:
    content = [{"type": "tool_use", "id": "t", "name": "now", "input": {}}]
    result = wire.parse_message(message(content=content), req([user("hi")]), "up")
    assert result.body["choices"][0]["message"]["content"] is None


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        (None, "stop"),
    ],
)
def test_finish_reasons(stop_reason: str | None, finish: str) -> None:
    result = wire.parse_message(message(stop_reason=stop_reason), req([user("hi")]), "up")
    assert result.body["choices"][0]["finish_reason"] == finish


def test_missing_usage_is_estimated_and_marked() -> None:
    raw = orjson.loads(message())
    del raw["usage"]
    result = wire.parse_message(orjson.dumps(raw), req([user("hello there friend")]), "up")
    assert result.usage.estimated is True
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens > 0
    assert result.body["usage"]["total_tokens"] == result.usage.total_tokens


@pytest.mark.parametrize(
    "raw",
    [
        b"<html>",
        b"[1]",
        orjson.dumps({"type": "message", "content": "text"}),
        message(content=[{"type": "tool_use", "id": "t", "name": "f", "input": "x"}]),
    ],
)
def test_malformed_messages_are_upstream_errors(raw: bytes) -> None:
    with pytest.raises(UpstreamError) as info:
        wire.parse_message(raw, req([user("hi")]), "up")
    assert info.value.status == 502


# ---------------------------------------------------------------- stream


def translate(items: list[dict[str, Any]], request: ChatRequest | None = None) -> list[Chunk]:
    translator = wire.StreamTranslator(request or req([user("hi")]), "up")
    chunks: list[Chunk] = []
    for item in items:
        assert not translator.finished
        chunks.extend(translator.feed(orjson.dumps(item)))
    assert translator.finished
    return chunks


START = {
    "type": "message_start",
    "message": {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": "claude-up-2025",
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 12, "cache_read_input_tokens": 8, "output_tokens": 1},
    },
}


def delta(index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": fields}


def block_start(index: int, **block: Any) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def finish(reason: str, output_tokens: int | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": reason}}
    if output_tokens is not None:
        event["usage"] = {"output_tokens": output_tokens}
    return event


STOP = {"type": "message_stop"}


def test_text_stream_chunks() -> None:
    chunks = translate(
        [
            START,
            block_start(0, type="text", text=""),
            {"type": "ping"},
            delta(0, type="text_delta", text="Hel"),
            delta(0, type="text_delta", text="lo"),
            {"type": "content_block_stop", "index": 0},
            finish("end_turn", 5),
            STOP,
        ]
    )
    data = [c.data for c in chunks]
    assert all(d["id"] == "msg_s" and d["object"] == "chat.completion.chunk" for d in data)
    assert all(d["model"] == "claude-up-2025" for d in data)
    assert len({d["created"] for d in data}) == 1
    assert data[0]["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]
    assert [d["choices"][0]["delta"] for d in data[1:3]] == [{"content": "Hel"}, {"content": "lo"}]
    assert data[3]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert data[4]["choices"] == []
    assert data[4]["usage"] == {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}
    assert len(chunks) == 5
    assert [c.usage is not None for c in chunks] == [False] * 4 + [True]
    final = chunks[-1].usage
    assert final is not None
    assert (final.prompt_tokens, final.completion_tokens, final.estimated) == (20, 5, False)


def test_tool_use_stream_counts_tool_calls_not_blocks() -> None:
    chunks = translate(
        [
            START,
            block_start(0, type="text", text=""),
            delta(0, type="text_delta", text="Checking."),
            {"type": "content_block_stop", "index": 0},
            block_start(1, type="tool_use", id="toolu_a", name="weather", input={}),
            delta(1, type="input_json_delta", partial_json=""),
            delta(1, type="input_json_delta", partial_json='{"city": '),
            delta(1, type="input_json_delta", partial_json='"Paris"}'),
            {"type": "content_block_stop", "index": 1},
            block_start(2, type="tool_use", id="toolu_b", name="weather", input={}),
            delta(2, type="input_json_delta", partial_json='{"city": "Rome"}'),
            {"type": "content_block_stop", "index": 2},
            finish("tool_use", 30),
            STOP,
        ]
    )
    deltas = [c.data["choices"][0]["delta"] for c in chunks if c.data["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert calls[0] == {
        "index": 0,
        "id": "toolu_a",
        "type": "function",
        "function": {"name": "weather", "arguments": ""},
    }
    assert calls[3] == {
        "index": 1,
        "id": "toolu_b",
        "type": "function",
        "function": {"name": "weather", "arguments": ""},
    }
    by_index: dict[int, str] = {}
    for item in calls:
        by_index[item["index"]] = by_index.get(item["index"], "") + item["function"]["arguments"]
    assert {i: orjson.loads(a) for i, a in by_index.items()} == {
        0: {"city": "Paris"},
        1: {"city": "Rome"},
    }
    assert len(calls) == 5  # the empty partial_json produced nothing
    assert chunks[-2].data["choices"][0]["finish_reason"] == "tool_calls"


def test_thinking_blocks_and_unknown_events_are_ignored() -> None:
    chunks = translate(
        [
            START,
            block_start(0, type="thinking", thinking=""),
            delta(0, type="thinking_delta", thinking="hmm"),
            delta(0, type="signature_delta", signature="sig"),
            {"type": "some_future_event"},
            block_start(1, type="text", text=""),
            delta(1, type="text_delta", text="ok"),
            finish("end_turn", 2),
            STOP,
        ]
    )
    contents = [c.data["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
    assert contents == ["ok"]


def test_stream_without_usage_is_estimated() -> None:
    start = {"type": "message_start", "message": {"id": "m", "model": "x", "content": []}}
    chunks = translate(
        [start, delta(0, type="text_delta", text="a few words here"), finish("max_tokens"), STOP],
        req([user("count these words please")]),
    )
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.estimated is True
    assert usage.prompt_tokens > 0
    assert usage.completion_tokens > 0
    assert chunks[-2].data["choices"][0]["finish_reason"] == "length"


def test_message_stop_without_message_delta_still_finishes() -> None:
    chunks = translate([START, delta(0, type="text_delta", text="hi"), STOP])
    assert chunks[-2].data["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1].data["choices"] == []


def test_error_event_raises() -> None:
    translator = wire.StreamTranslator(req([user("hi")]), "up")
    translator.feed(orjson.dumps(START))
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(UpstreamError) as info:
        translator.event(error)
    assert "overloaded_error: Overloaded" in info.value.message
    assert info.value.status == 502


@pytest.mark.parametrize(
    "items",
    [
        [delta(0, type="text_delta", text="before start")],
        [START, delta(3, type="input_json_delta", partial_json="{}")],
        [START, {"type": "content_block_start", "index": 0}],
        [START, block_start(0, type="tool_use", input={})],
    ],
)
def test_malformed_streams_raise(items: list[dict[str, Any]]) -> None:
    translator = wire.StreamTranslator(req([user("hi")]), "up")
    *before, last = items
    for item in before:
        translator.event(item)
    with pytest.raises(UpstreamError):
        translator.event(last)


def test_non_json_payload_raises() -> None:
    with pytest.raises(UpstreamError):
        wire.StreamTranslator(req([user("hi")]), "up").feed(b"not json")


# ---------------------------------------------------------------- errors


def anthropic_error(kind: str, text: str) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": text}})


@pytest.mark.parametrize(
    ("status", "kind", "openai_type", "code"),
    [
        (400, "invalid_request_error", "invalid_request_error", None),
        (401, "authentication_error", "authentication_error", "invalid_api_key"),
        (403, "permission_error", "request_forbidden", "permission_denied"),
        (404, "not_found_error", "invalid_request_error", "not_found"),
        (413, "request_too_large", "invalid_request_error", "request_too_large"),
        (429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_exceeded"),
        (400, "brand_new_error", "invalid_request_error", "brand_new_error"),
    ],
)
def test_client_errors_pass_through(
    status: int, kind: str, openai_type: str, code: str | None
) -> None:
    error = wire.parse_error(status, anthropic_error(kind, "details here"), "up")
    assert isinstance(error, UpstreamRejected)
    assert error.status == status
    assert error.type == openai_type
    assert error.code == code
    assert "details here" in error.message


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "api_error"), (529, "overloaded_error"), (503, "api_error")]
)
def test_server_errors_are_bad_gateway(status: int, kind: str) -> None:
    error = wire.parse_error(status, anthropic_error(kind, "try later"), "up")
    assert type(error) is UpstreamError
    assert error.status == 502
    assert f"HTTP {status}" in error.message
    assert "try later" in error.message


def test_non_json_error_body_keeps_its_text() -> None:
    error = wire.parse_error(413, b"<html>Request Entity Too Large</html>", "up")
    assert isinstance(error, UpstreamRejected)
    assert error.status == 413
    assert "Request Entity Too Large" in error.message
