"""OpenAI-compatible answers and stream chunks are untrusted: shape-checked (a 502 naming
what was wrong), usage believed only in range, streams complete only when they say so."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from freehold.core.errors import UpstreamError
from freehold.core.types import ChatRequest
from freehold.providers import openai_wire as wire
from freehold.providers.wire_json import MAX_DEPTH


def req() -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "alias", "messages": [{"role": "user", "content": "hi there"}]}
    )


def answer(message: Any = None, **choice: Any) -> dict[str, Any]:
    if message is None:
        message = {"role": "assistant", "content": "four five six"}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", **choice}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }


def complete(body: Any) -> Any:
    return wire.parse_completion(orjson.dumps(body), req(), "up")


CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"choices": [1]}, "choices[0] is an integer, expected an object"),
        ({"id": "x"}, "choices is missing, expected a list of choices"),
        ({"choices": {}}, "choices is an object, expected a list"),
        ({"choices": []}, "choices is empty, expected at least one choice"),
        (answer("hello"), "choices[0].message is a string, expected an object"),
        ({"choices": [{"index": 0}]}, "choices[0].message is missing, expected an object"),
        (
            answer({"content": 5}),
            "choices[0].message.content is an integer, expected a string, a list of parts or null",
        ),
        (
            answer({"content": [{"type": "text", "text": 1}]}),
            "choices[0].message.content[0].text is an integer, expected a string",
        ),
        (
            answer({"content": [3]}),
            "choices[0].message.content[0] is an integer, expected an object",
        ),
        (
            answer({"content": None, "tool_calls": [7]}),
            "choices[0].message.tool_calls[0] is an integer, expected an object",
        ),
        (
            answer({"tool_calls": "f"}),
            "choices[0].message.tool_calls is a string, expected a list or null",
        ),
        (
            answer({"tool_calls": [{**CALL, "function": {"name": "f", "arguments": {}}}]}),
            "choices[0].message.tool_calls[0].function.arguments is an object, expected a string",
        ),
        (
            answer({"tool_calls": [{"type": "function", "function": CALL["function"]}]}),
            "choices[0].message.tool_calls[0].id is missing, expected a string",
        ),
        (
            answer({"tool_calls": [{"id": "c1"}]}),
            "choices[0].message.tool_calls[0].function is missing, expected an object",
        ),
        (answer({"role": 1}), "choices[0].message.role is an integer, expected a string or null"),
        (
            answer({"refusal": []}),
            "choices[0].message.refusal is a list, expected a string or null",
        ),
        (
            answer(finish_reason=0),
            "choices[0].finish_reason is an integer, expected a string or null",
        ),
        (answer(index="0"), "choices[0].index is a string, expected an integer"),
        (answer(index=True), "choices[0].index is a boolean, expected an integer"),
        (
            answer({"function_call": {"name": "f", "arguments": 1}}),
            "choices[0].message.function_call.arguments is an integer, expected a string",
        ),
    ],
)
def test_malformed_answers_are_bad_gateway_naming_the_problem(body: Any, problem: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        complete(body)
    assert type(caught.value) is UpstreamError
    assert caught.value.status == 502 and caught.value.code == "bad_gateway"
    assert caught.value.message == f"upstream 'up' sent a malformed answer: {problem}"


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "image"}]},
        {"role": "assistant", "content": "x", "refusal": None, "tool_calls": None},
        {"content": "x", "reasoning_content": "thought", "audio": {"id": 1}},
        {"tool_calls": [{"id": "c", "type": "custom", "custom": {"name": "g", "input": "x"}}]},
    ],
)
def test_well_shaped_answers_pass_untouched(message: dict[str, Any]) -> None:
    body = answer(message, logprobs={"content": []})
    result = complete(body)
    assert result.body == body
    assert result.usage.estimated is False


def test_an_error_object_in_place_of_an_answer() -> None:
    with pytest.raises(UpstreamError, match=r"^upstream 'up' failed: overloaded$"):
        complete({"error": {"message": "overloaded"}})


def test_json_nested_too_deep_is_refused() -> None:
    deep: Any = "x"
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(UpstreamError, match="nested deeper than"):
        complete({**answer(), "extra": deep})
    shallow: Any = "x"
    for _ in range(MAX_DEPTH - 5):
        shallow = {"a": shallow}
    assert complete({**answer(), "extra": shallow}).body["extra"] == shallow


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        (
            {"prompt_tokens": 2**63, "completion_tokens": 3},
            "usage.prompt_tokens is 9223372036854775808",
        ),
        ({"prompt_tokens": -1_000_000, "completion_tokens": 3}, "usage.prompt_tokens is -1000000"),
        ({"prompt_tokens": 7, "completion_tokens": 3.5}, "usage.completion_tokens is a number"),
        ({"prompt_tokens": True, "completion_tokens": 3}, "usage.prompt_tokens is a boolean"),
        ({"prompt_tokens": "7", "completion_tokens": 3}, "usage.prompt_tokens is a string"),
        ([7, 3], "usage is a list"),
    ],
)
def test_unbelievable_usage_is_estimated_with_one_warning(
    caplog: pytest.LogCaptureFixture, usage: Any, field: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="freehold.upstream"):
        result = complete({**answer(), "usage": usage})
    assert result.usage.estimated is True
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens == 3
    assert result.body["usage"] == result.usage.to_dict()
    (record,) = caplog.records
    assert "upstream 'up'" in record.getMessage()
    assert field in record.getMessage()


def test_unbelievable_usage_in_a_chunk_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    payload = orjson.dumps({"choices": [], "usage": {"prompt_tokens": -5, "completion_tokens": 1}})
    with caplog.at_level(logging.WARNING, logger="freehold.upstream"):
        chunk = wire.parse_chunk(payload, "up")
        dropped = wire.StreamReader("up").feed(payload)
    assert chunk is not None and chunk.usage is None
    assert chunk.data["usage"] is None
    assert dropped is None  # nothing left for the client in that chunk
    assert len(caplog.records) == 2
    assert all("usage.prompt_tokens is -5" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------- stream chunks


def chunk(delta: Any = None, **choice: Any) -> bytes:
    if delta is None:
        delta = {"content": "hi"}
    return orjson.dumps({"choices": [{"index": 0, "delta": delta, **choice}]})


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b'{"choices": [1]}', "choices[0] is an integer, expected an object"),
        (b'{"choices": "a"}', "choices is a string, expected a list or null"),
        (chunk("hello"), "choices[0].delta is a string, expected an object or null"),
        (
            chunk({"content": 5}),
            "choices[0].delta.content is an integer, expected a string, a list of parts or null",
        ),
        (
            chunk({"tool_calls": [7]}),
            "choices[0].delta.tool_calls[0] is an integer, expected an object",
        ),
        (
            chunk({"tool_calls": [{"function": {"arguments": "{"}}]}),
            "choices[0].delta.tool_calls[0].index is missing, expected an integer",
        ),
        (
            chunk({"tool_calls": [{"index": 0, "function": "f"}]}),
            "choices[0].delta.tool_calls[0].function is a string, expected an object or null",
        ),
        (
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": 1}}]}),
            "choices[0].delta.tool_calls[0].function.arguments is an integer, "
            "expected a string or null",
        ),
        (chunk(finish_reason=[]), "choices[0].finish_reason is a list, expected a string or null"),
        (chunk(index={}), "choices[0].index is an object, expected an integer"),
    ],
)
def test_malformed_chunks_are_bad_gateway_naming_the_problem(payload: bytes, problem: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        wire.parse_chunk(payload, "up")
    assert caught.value.message == f"upstream 'up' sent a malformed stream chunk: {problem}"


@pytest.mark.parametrize(
    "payload",
    [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": {"name": "f"}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        chunk({}, finish_reason="stop"),
        b'{"choices": [{"index": 0, "delta": null, "finish_reason": "stop"}]}',
        b'{"choices": [], "prompt_filter_results": []}',
        b'{"id": "x", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}',
    ],
)
def test_well_shaped_chunks_pass(payload: bytes) -> None:
    parsed = wire.parse_chunk(payload, "up")
    assert parsed is not None
    assert parsed.data == orjson.loads(payload)


def test_mid_stream_error() -> None:
    with pytest.raises(UpstreamError, match=r"^upstream 'up' failed mid-stream: overloaded$"):
        wire.parse_chunk(b'{"error": {"message": "overloaded"}}', "up")
    with pytest.raises(UpstreamError, match=r"^upstream 'up' failed mid-stream: busy$"):
        wire.parse_chunk(b'{"error": "busy"}', "up")


# ---------------------------------------------------------------- stream endings


def read(*payloads: bytes) -> wire.StreamReader:
    reader = wire.StreamReader("up")
    for payload in payloads:
        reader.feed(payload)
    return reader


def test_a_stream_ending_with_done_is_complete() -> None:
    reader = read(chunk(), b"[DONE]")
    assert reader.done and reader.complete
    reader.end()


def test_a_stream_whose_choices_all_finished_is_complete_without_done() -> None:
    two = b'{"choices": [{"index": 0, "delta": {"content": "a"}}, {"index": 1, "delta": {}}]}'
    reader = read(two, chunk({}, finish_reason="stop"))
    assert not reader.complete  # choice 1 has not finished
    reader.feed(b'{"choices": [{"index": 1, "delta": {}, "finish_reason": "length"}]}')
    assert reader.complete and not reader.done
    reader.end()


@pytest.mark.parametrize(
    "payloads",
    [(), (chunk(),), (chunk({"role": "assistant"}), chunk()), (b'{"choices": []}',)],
    ids=["nothing", "one-chunk", "two-chunks", "usage-only"],
)
def test_a_stream_that_stops_early_is_not_complete(payloads: tuple[bytes, ...]) -> None:
    reader = read(*payloads)
    assert not reader.complete
    with pytest.raises(
        UpstreamError, match=r"^upstream 'up' ended the stream before it was complete$"
    ):
        reader.end()
