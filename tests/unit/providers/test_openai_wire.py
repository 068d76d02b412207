"""The pure OpenAI-compatible translation: no server."""

from __future__ import annotations

import orjson
import pytest

from freehold.core.errors import UpstreamError, UpstreamRejected
from freehold.core.types import ChatRequest
from freehold.providers import openai_wire as wire


def req(**fields: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "alias", "messages": [{"role": "user", "content": "hi there"}], **fields}
    )


def test_request_body_swaps_the_model_and_keeps_every_field() -> None:
    body = orjson.loads(wire.request_body(req(temperature=0.5, foo={"x": 1}), "up", stream=False))
    assert body == {
        "model": "up",
        "messages": [{"role": "user", "content": "hi there"}],
        "temperature": 0.5,
        "foo": {"x": 1},
    }


def test_stream_body_always_asks_for_usage() -> None:
    body = orjson.loads(wire.request_body(req(stream=True), "up", stream=True))
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    whole = orjson.loads(
        wire.request_body(req(stream_options={"include_usage": True}), "up", stream=False)
    )
    assert "stream_options" not in whole and "stream" not in whole


def test_completion_with_usage() -> None:
    raw = orjson.dumps(
        {
            "choices": [{"message": {"content": "ok"}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2},
        }
    )
    result = wire.parse_completion(raw, req(), "up")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 2)
    assert result.usage.estimated is False


def test_completion_without_usage_is_estimated_and_filled_in() -> None:
    raw = orjson.dumps({"choices": [{"message": {"content": "four five six"}}]})
    result = wire.parse_completion(raw, req(), "up")
    assert result.usage.estimated is True
    assert result.usage.completion_tokens == 3
    assert result.usage.prompt_tokens > 0
    assert result.body["usage"]["total_tokens"] == result.usage.total_tokens


@pytest.mark.parametrize("raw", [b"<html>", b"[1]", b'{"id": "x"}'])
def test_malformed_completions_are_upstream_errors(raw: bytes) -> None:
    with pytest.raises(UpstreamError):
        wire.parse_completion(raw, req(), "up")


def test_chunks() -> None:
    assert wire.parse_chunk(b"[DONE]", "up") is None
    chunk = wire.parse_chunk(
        b'{"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}', "up"
    )
    assert chunk is not None and chunk.usage is not None
    assert chunk.usage.completion_tokens == 2
    with pytest.raises(UpstreamError, match="mid-stream: overloaded"):
        wire.parse_chunk(b'{"error": {"message": "overloaded"}}', "up")


def test_client_errors_keep_status_message_and_code() -> None:
    raw = orjson.dumps(
        {
            "error": {
                "message": "too long",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }
    )
    error = wire.parse_error(400, raw, "up")
    assert isinstance(error, UpstreamRejected)
    assert (error.status, error.param, error.code) == (400, "messages", "context_length_exceeded")
    assert error.message == "upstream 'up' rejected the request: too long"


def test_server_errors_and_plain_text_bodies() -> None:
    error = wire.parse_error(503, b"Service Unavailable", "up")
    assert type(error) is UpstreamError and error.status == 502
    assert error.message == "upstream 'up' answered HTTP 503: Service Unavailable"
    ollama = wire.parse_error(404, b'{"error": "model not found"}', "up")
    assert ollama.status == 404 and "model not found" in ollama.message
