"""Anthropic answers, stream events and errors → OpenAI objects: no server."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from freehold.core.errors import (
    UpstreamError,
    UpstreamRejected,
)
from freehold.core.types import ChatRequest, Chunk
from freehold.providers import anthropic_response as wire


def req(messages: list[dict[str, Any]], **fields: Any) -> ChatRequest:
    return ChatRequest.model_validate({"model": "claude", "messages": messages, **fields})


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


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
