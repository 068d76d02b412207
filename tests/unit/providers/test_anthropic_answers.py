"""Anthropic answers and stream events are untrusted: shape-checked (a 502 naming what was
wrong) and their usage believed only in range."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from freehold.core.errors import UpstreamError
from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import ChatRequest, Chunk
from freehold.providers import anthropic_response as wire


def req() -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "claude", "messages": [{"role": "user", "content": "hi there"}]}
    )


def message(**fields: Any) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "model": "claude-up",
        "content": [{"type": "text", "text": "Hello world"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": 2},
        **fields,
    }


def parse(body: Any) -> Any:
    return wire.parse_message(orjson.dumps(body), req(), "up")


TOOL = {"type": "tool_use", "id": "t1", "name": "f", "input": {"q": 1}}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (message(content=[1]), "content[0] is an integer, expected an object"),
        (message(content="hi"), "content is a string, expected a list"),
        ({"id": "m"}, "content is missing, expected a list of content blocks"),
        (message(content=[{"text": "a"}]), "content[0].type is missing, expected a string"),
        (
            message(content=[{"type": "text", "text": 5}]),
            "content[0].text is an integer, expected a string",
        ),
        (
            message(content=[{**TOOL, "input": "x"}]),
            "content[0].input is a string, expected an object",
        ),
        (message(content=[{**TOOL, "id": None}]), "content[0].id is null, expected a string"),
        (
            message(content=[{**TOOL, "name": 3}]),
            "content[0].name is an integer, expected a string",
        ),
        (message(stop_reason=1), "stop_reason is an integer, expected a string or null"),
    ],
)
def test_malformed_messages_are_bad_gateway_naming_the_problem(body: Any, problem: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        parse(body)
    assert type(caught.value) is UpstreamError and caught.value.status == 502
    assert caught.value.message == f"upstream 'up' sent a malformed answer: {problem}"


def test_unknown_blocks_and_odd_ids_pass() -> None:
    body = message(
        id=7,
        model=None,
        content=[{"type": "thinking", "thinking": 1}, {"type": "text", "text": "ok"}, TOOL],
    )
    result = parse(body).body
    assert (result["id"], result["model"]) == ("msg", "claude")
    assert result["choices"][0]["message"]["content"] == "ok"
    assert result["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"q":1}'


def test_an_error_body_in_place_of_a_message() -> None:
    with pytest.raises(UpstreamError, match=r"^upstream 'up' failed: overloaded_error: busy$"):
        parse({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        ({"input_tokens": 2**63, "output_tokens": 2}, "usage.input_tokens is 9223372036854775808"),
        ({"input_tokens": -1_000_000, "output_tokens": 2}, "usage.input_tokens is -1000000"),
        ({"input_tokens": 10, "output_tokens": 2.0}, "usage.output_tokens is a number"),
        (
            {"input_tokens": 10, "output_tokens": 2, "cache_read_input_tokens": -3},
            "usage.cache_read_input_tokens is -3",
        ),
        (
            {"input_tokens": 10, "output_tokens": 2, "cache_creation_input_tokens": True},
            "usage.cache_creation_input_tokens is a boolean",
        ),
        ("many", "usage is a string"),
    ],
)
def test_unbelievable_usage_is_estimated_with_one_warning(
    caplog: pytest.LogCaptureFixture, usage: Any, field: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="freehold.upstream"):
        result = parse(message(usage=usage))
    assert result.usage.estimated is True
    assert result.usage.completion_tokens == estimate_text_tokens("Hello world")
    assert result.usage.prompt_tokens == estimate_prompt_tokens([{"content": "hi there"}])
    assert result.body["usage"] == result.usage.to_dict()
    (record,) = caplog.records
    assert "upstream 'up'" in record.getMessage() and field in record.getMessage()


def test_null_counts_are_absent_not_wrong(caplog: pytest.LogCaptureFixture) -> None:
    usage = {"input_tokens": 10, "output_tokens": 2, "cache_read_input_tokens": None}
    result = parse(message(usage=usage))
    assert (result.usage.prompt_tokens, result.usage.estimated) == (10, False)
    assert caplog.records == []


# ---------------------------------------------------------------- stream events

START = {"type": "message_start", "message": {"id": "msg_s", "model": "m", "usage": {}}}


def translate(events: list[Any]) -> tuple[list[Chunk], wire.StreamTranslator]:
    translator = wire.StreamTranslator(req(), "up")
    chunks: list[Chunk] = []
    for event in events:
        chunks.extend(translator.feed(orjson.dumps(event)))
    return chunks, translator


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        ({"index": 0}, "type is missing, expected a string"),
        ({"type": 5}, "type is an integer, expected a string"),
        ({"type": "message_start", "message": "m"}, "message is a string, expected an object"),
        (
            {"type": "content_block_start", "index": 0, "content_block": 1},
            "content_block is an integer, expected an object",
        ),
        (
            {"type": "content_block_start", "index": [0], "content_block": {"type": "text"}},
            "index is a list, expected an integer",
        ),
        (
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
            "content_block.text is missing, expected a string",
        ),
        (
            {"type": "content_block_start", "index": 0, "content_block": {**TOOL, "input": 1}},
            "content_block.input is an integer, expected an object",
        ),
        (
            {"type": "content_block_delta", "index": "0", "delta": {"type": "text_delta"}},
            "index is a string, expected an integer",
        ),
        (
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 5}},
            "delta.text is an integer, expected a string",
        ),
        (
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta"}},
            "delta.partial_json is missing, expected a string",
        ),
        ({"type": "message_delta", "delta": None}, "delta is null, expected an object"),
        (
            {"type": "message_delta", "delta": {"stop_reason": {}}},
            "delta.stop_reason is an object, expected a string or null",
        ),
    ],
)
def test_malformed_events_are_bad_gateway_naming_the_problem(event: Any, problem: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        translate([START, event])
    assert caught.value.message == f"upstream 'up' sent a malformed stream event: {problem}"


def test_unbelievable_stream_usage_is_estimated(caplog: pytest.LogCaptureFixture) -> None:
    start = {**START, "message": {"id": "s", "usage": {"input_tokens": 5, "output_tokens": 1}}}
    text = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": "a b"},
    }
    stop = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}
    with caplog.at_level(logging.WARNING, logger="freehold.upstream"):
        chunks, translator = translate(
            [start, text, {**stop, "usage": {"output_tokens": -7}}, {"type": "message_stop"}]
        )
    assert translator.finished
    usage = chunks[-1].usage
    assert usage is not None and usage.estimated is True
    assert usage.completion_tokens == estimate_text_tokens("a b")
    assert chunks[-1].data["usage"] == usage.to_dict()
    (record,) = caplog.records
    assert "usage.output_tokens is -7" in record.getMessage()
