"""AnthropicProvider against the mock Anthropic API served for real on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from freehold.config.schema import ModelSettings
from freehold.core.errors import (
    FreeholdError,
    UnsupportedParameter,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers.anthropic import AnthropicProvider
from freehold.providers.http import ClientPool
from freehold.testing.mock_anthropic import create_app
from freehold.testing.servers import ServerThread, free_port

SECRET = "sk-ant-test-7f3a9c1e5b2d4680"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look something up",
            "parameters": {"type": "object", "properties": {"echo": {"type": "string"}}},
        },
    }
]


@dataclass
class Upstream:
    app: Starlette
    url: str

    @property
    def requests(self) -> list[dict[str, Any]]:
        recorded: list[dict[str, Any]] = self.app.state.requests
        return recorded


@pytest.fixture(scope="module")
def served() -> Iterator[Upstream]:
    app = create_app()
    with ServerThread(app) as server:
        yield Upstream(app, server.url)


@pytest.fixture
def upstream(served: Upstream) -> Upstream:
    served.app.state.requests.clear()
    return served


def settings(url: str, **overrides: Any) -> ModelSettings:
    fields: dict[str, Any] = {
        "name": "claude",
        "backend": "anthropic",
        "base_url": url,
        "api_key": SECRET,
        "upstream_model": "claude-up",
        "default_max_tokens": 256,
        "headers": {"anthropic-beta": "test-beta"},
        **overrides,
    }
    return ModelSettings.model_validate(fields)


def req(text: str, **fields: Any) -> ChatRequest:
    messages = fields.pop("messages", [{"role": "user", "content": text}])
    return ChatRequest.model_validate({"model": "claude", "messages": messages, **fields})


def complete(config: ModelSettings, request: ChatRequest) -> ChatResult:
    async def main() -> ChatResult:
        pool = ClientPool()
        provider = AnthropicProvider(config, pool)
        try:
            return await provider.complete(request)
        finally:
            await provider.aclose()
            await pool.aclose()

    return asyncio.run(main())


def fail(config: ModelSettings, request: ChatRequest) -> FreeholdError:
    """The error ``complete`` raises, checked for the API key."""
    with pytest.raises(FreeholdError) as info:
        complete(config, request)
    assert SECRET not in str(info.value)
    assert SECRET not in info.value.message
    return info.value


def stream(config: ModelSettings, request: ChatRequest) -> tuple[list[Chunk], FreeholdError | None]:
    """The chunks received, and the error that ended the stream (checked for the API key)."""
    chunks: list[Chunk] = []

    async def main() -> FreeholdError | None:
        pool = ClientPool()
        try:
            async for chunk in AnthropicProvider(config, pool).stream(request):
                chunks.append(chunk)
        except FreeholdError as error:
            return error
        finally:
            await pool.aclose()
        return None

    error = asyncio.run(main())
    if error is not None:
        assert SECRET not in str(error)
        assert SECRET not in error.message
    return chunks, error


def content_of(chunks: list[Chunk]) -> list[str]:
    return [
        c.data["choices"][0]["delta"]["content"]
        for c in chunks
        if c.data["choices"] and c.data["choices"][0]["delta"].get("content")
    ]


def finish_of(chunks: list[Chunk]) -> list[str]:
    return [
        c.data["choices"][0]["finish_reason"]
        for c in chunks
        if c.data["choices"] and c.data["choices"][0]["finish_reason"]
    ]


# ---------------------------------------------------------------- answers


def test_complete_sends_a_valid_request_and_maps_the_answer(upstream: Upstream) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello there"},
    ]
    result = complete(settings(upstream.url), req("", messages=messages, user="u-1"))
    body = result.body
    assert body["object"] == "chat.completion"
    assert body["model"] == "claude-up"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "You said: hello there",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    # words: system 2 + user 2 in, "You said: hello there" 4 out
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (4, 4)
    assert result.usage.estimated is False
    assert body["usage"]["total_tokens"] == 8
    (sent,) = upstream.requests
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == SECRET
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    assert sent["headers"]["anthropic-beta"] == "test-beta"
    assert "authorization" not in sent["headers"]
    assert sent["body"] == {
        "model": "claude-up",
        "max_tokens": 256,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "hello there"}],
        "metadata": {"user_id": "u-1"},
    }


def test_base_url_may_end_in_v1(upstream: Upstream) -> None:
    result = complete(settings(upstream.url + "/v1/"), req("hi"))
    assert result.body["choices"][0]["message"]["content"] == "You said: hi"
    assert upstream.requests[0]["path"] == "/v1/messages"


def test_max_tokens_cuts_the_reply(upstream: Upstream) -> None:
    result = complete(settings(upstream.url), req("a b c d", max_completion_tokens=2))
    assert result.body["choices"][0]["message"]["content"] == "You said:"
    assert result.body["choices"][0]["finish_reason"] == "length"
    assert result.usage.completion_tokens == 2


def test_images_reach_the_upstream_as_image_blocks(upstream: Upstream) -> None:
    content = [
        {"type": "text", "text": "what is it"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    result = complete(
        settings(upstream.url), req("", messages=[{"role": "user", "content": content}])
    )
    assert result.body["choices"][0]["message"]["content"] == "You said: what is it"
    blocks = upstream.requests[0]["body"]["messages"][0]["content"]
    assert blocks[1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": "iVBORw0KGgo=",
    }


def test_stream_relays_chunk_by_chunk_with_usage(upstream: Upstream) -> None:
    chunks, error = stream(settings(upstream.url), req("one two three", stream=True))
    assert error is None
    assert chunks[0].data["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert content_of(chunks) == ["You", " said:", " one", " two", " three"]
    assert finish_of(chunks) == ["stop"]
    assert all(c.data["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c.data["id"] for c in chunks}) == 1
    last = chunks[-1]
    assert last.data["choices"] == []
    assert last.data["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    assert last.usage is not None
    assert last.usage.estimated is False
    assert [c.usage is None for c in chunks[:-1]] == [True] * (len(chunks) - 1)
    assert upstream.requests[0]["body"]["stream"] is True


def test_stream_relays_each_event_as_it_arrives() -> None:
    """The upstream holds the rest of its stream until the client has seen the first word:
    a provider that buffered would never see it, and the upstream would give up waiting."""
    gate = threading.Event()
    waited: list[bool] = []

    def event(data: dict[str, Any]) -> bytes:
        kind: str = data["type"]
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def text(word: str) -> bytes:
        delta = {"type": "text_delta", "text": word}
        return event({"type": "content_block_delta", "index": 0, "delta": delta})

    async def events() -> AsyncIterator[bytes]:
        message = {"id": "msg_gate", "model": "m", "usage": {"input_tokens": 1, "output_tokens": 1}}
        yield event({"type": "message_start", "message": message})
        yield text("first")
        waited.append(await asyncio.to_thread(gate.wait, 5))
        yield text(" second")
        stop = {"stop_reason": "end_turn"}
        yield event({"type": "message_delta", "delta": stop, "usage": {"output_tokens": 2}})
        yield event({"type": "message_stop"})

    async def gated(request: Request) -> Response:
        await request.body()
        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/v1/messages", gated, methods=["POST"])])
    received: list[Chunk] = []

    async def main() -> None:
        pool = ClientPool()
        try:
            async for chunk in AnthropicProvider(settings(server.url), pool).stream(req("hi")):
                received.append(chunk)
                if content_of([chunk]) == ["first"]:
                    gate.set()
        finally:
            await pool.aclose()

    with ServerThread(app) as server:
        asyncio.run(main())
    assert waited == [True]
    assert content_of(received) == ["first", " second"]


# ---------------------------------------------------------------- tools


def test_tool_call_whole(upstream: Upstream) -> None:
    result = complete(settings(upstream.url), req("find cats [[tool]]", tools=TOOLS))
    choice = result.body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (tool_call,) = choice["message"]["tool_calls"]
    assert tool_call["function"]["name"] == "lookup"
    assert orjson.loads(tool_call["function"]["arguments"]) == {"echo": "find cats"}
    assert upstream.requests[0]["body"]["tools"][0]["input_schema"]["type"] == "object"


def test_tool_call_streamed(upstream: Upstream) -> None:
    request = req("find cats [[tool]]", tools=TOOLS, tool_choice="required", stream=True)
    chunks, error = stream(settings(upstream.url), request)
    assert error is None
    calls = [
        c.data["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c.data["choices"] and "tool_calls" in c.data["choices"][0]["delta"]
    ]
    assert calls[0]["index"] == 0
    assert calls[0]["function"] == {"name": "lookup", "arguments": ""}
    assert calls[0]["id"].startswith("toolu_")
    assert len(calls) >= 3  # the arguments arrive in pieces
    arguments = "".join(c["function"]["arguments"] for c in calls)
    assert orjson.loads(arguments) == {"echo": "find cats"}
    assert {c["index"] for c in calls} == {0}
    assert finish_of(chunks) == ["tool_calls"]
    assert upstream.requests[0]["body"]["tool_choice"] == {"type": "any"}


def test_tool_results_round_trip_is_valid_for_anthropic(upstream: Upstream) -> None:
    def call(call_id: str, text: str) -> dict[str, Any]:
        arguments = orjson.dumps({"echo": text}).decode()
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": "lookup", "arguments": arguments},
        }

    messages = [
        {"role": "system", "content": "Use tools."},
        {"role": "user", "content": "cats and dogs"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("c1", "cats"), call("c2", "dogs")],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "meow"},
        {"role": "tool", "tool_call_id": "c2", "content": "woof"},
        {"role": "user", "content": "summarise"},
    ]
    result = complete(settings(upstream.url), req("", messages=messages, tools=TOOLS))
    # the mock accepted the pairing; the reply echoes the last user turn's text
    assert result.body["choices"][0]["message"]["content"] == "You said: summarise"
    # in: system 2 + "cats and dogs" 3 + "meow" 1 + "woof" 1 + "summarise" 1
    assert result.usage.prompt_tokens == 8
    sent = upstream.requests[0]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert [b["type"] for b in sent[2]["content"]] == ["tool_result", "tool_result", "text"]


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "request_forbidden"),
        (404, "invalid_request_error"),
        (429, "rate_limit_exceeded"),
    ],
)
def test_client_errors_pass_through(upstream: Upstream, status: int, kind: str) -> None:
    error = fail(settings(upstream.url), req(f"hi [[status:{status}]]"))
    assert isinstance(error, UpstreamRejected)
    assert (error.status, error.type) == (status, kind)
    assert f"mock failure {status}" in error.message
    assert error.headers.get("retry-after") == ("1" if status == 429 else None)
    if status == 401:  # the mock echoes the key back
        assert "invalid x-api-key ***" in error.message
    chunks, streamed = stream(settings(upstream.url), req(f"hi [[status:{status}]]"))
    assert chunks == []
    assert isinstance(streamed, UpstreamRejected)
    assert streamed.status == status


@pytest.mark.parametrize("status", [500, 529])
def test_server_errors_are_bad_gateway(upstream: Upstream, status: int) -> None:
    error = fail(settings(upstream.url), req(f"hi [[status:{status}]]"))
    assert type(error) is UpstreamError
    assert error.status == 502
    assert f"HTTP {status}" in error.message
    chunks, streamed = stream(settings(upstream.url), req(f"hi [[status:{status}]]"))
    assert chunks == []
    assert type(streamed) is UpstreamError


def test_timeout(upstream: Upstream) -> None:
    config = settings(upstream.url, timeout_s=0.2)
    assert isinstance(fail(config, req("hi [[sleep:0.8]]")), UpstreamTimeout)
    chunks, error = stream(config, req("hi [[sleep:0.8]]"))
    assert chunks == []
    assert isinstance(error, UpstreamTimeout)
    assert error is not None
    assert error.status == 504


def test_cut_stream_ends_in_an_upstream_error_after_some_chunks(upstream: Upstream) -> None:
    chunks, error = stream(settings(upstream.url), req("a b c d [[cut]]"))
    assert content_of(chunks) == ["You", " said:"]
    assert type(error) is UpstreamError
    assert finish_of(chunks) == []


def test_garbage_is_an_upstream_error(upstream: Upstream) -> None:
    assert type(fail(settings(upstream.url), req("hi [[garbage]]"))) is UpstreamError
    chunks, error = stream(settings(upstream.url), req("hi [[garbage]]"))
    assert chunks == []
    assert type(error) is UpstreamError


def test_missing_usage_is_estimated(upstream: Upstream) -> None:
    result = complete(settings(upstream.url), req("count me [[no-usage]]"))
    assert result.usage.estimated is True
    assert result.usage.completion_tokens > 0
    chunks, error = stream(settings(upstream.url), req("count me [[no-usage]]"))
    assert error is None
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.estimated is True
    assert chunks[-1].data["usage"]["total_tokens"] == chunks[-1].usage.total_tokens


def test_connection_refused_is_unavailable() -> None:
    config = settings(f"http://127.0.0.1:{free_port()}")
    assert isinstance(fail(config, req("hi")), UpstreamUnavailable)
    chunks, error = stream(config, req("hi"))
    assert chunks == []
    assert isinstance(error, UpstreamUnavailable)


def test_unmappable_request_fails_before_anything_is_sent(upstream: Upstream) -> None:
    error = fail(settings(upstream.url), req("hi", temperature=1.5))
    assert isinstance(error, UnsupportedParameter)
    assert error.param == "temperature"
    assert upstream.requests == []


def test_without_an_api_key_the_upstream_refuses(upstream: Upstream) -> None:
    error = fail(settings(upstream.url, api_key=None), req("hi"))
    assert isinstance(error, UpstreamRejected)
    assert (error.status, error.type) == (401, "authentication_error")
    assert "x-api-key" not in upstream.requests[0]["headers"]


def echo_key_app() -> Starlette:
    """An upstream that repeats the caller's key in its errors, whole and mid-stream."""

    async def echo(request: Request) -> Response:
        key = request.headers.get("x-api-key", "")
        body = orjson.loads(await request.body())
        status = 500 if "five hundred" in str(body["messages"]) else 401
        error = {"type": "error", "error": {"type": "authentication_error", "message": key}}
        if not body.get("stream") or status == 500:
            return JSONResponse(error, status_code=status)

        async def events() -> AsyncIterator[bytes]:
            start = {"type": "message_start", "message": {"id": "m", "model": "x"}}
            yield b"event: message_start\ndata: " + orjson.dumps(start) + b"\n\n"
            yield b"event: error\ndata: " + orjson.dumps(error) + b"\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/messages", echo, methods=["POST"])])


def test_api_key_never_reaches_an_error_message() -> None:
    with ServerThread(echo_key_app()) as server:
        config = settings(server.url)
        rejected = fail(config, req("hi"))
        failed = fail(config, req("five hundred"))
        chunks, mid_stream = stream(config, req("hi", stream=True))
    assert isinstance(rejected, UpstreamRejected)
    assert "***" in rejected.message
    assert type(failed) is UpstreamError
    assert "***" in failed.message
    assert len(chunks) == 1  # the role chunk, then the error event
    assert mid_stream is not None
    assert "***" in mid_stream.message
    assert SECRET not in str(mid_stream.args)


# ---------------------------------------------------------------- the mock's own rules


def post_raw(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    sent = {"content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01"}
    sent = {name: value for name, value in {**sent, **(headers or {})}.items() if value}
    request = urllib.request.Request(
        url + "/v1/messages", data=orjson.dumps(body), headers=sent, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, orjson.loads(error.read())


VALID: dict[str, Any] = {
    "model": "m",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}


def test_mock_accepts_a_valid_request_and_records_it(upstream: Upstream) -> None:
    status, body = post_raw(upstream.url, VALID)
    assert status == 200
    assert body["type"] == "message"
    assert body["usage"]["input_tokens"] == 1
    with urllib.request.urlopen(upstream.url + "/_mock/requests", timeout=5) as response:
        recorded = orjson.loads(response.read())
    assert recorded[-1]["body"] == VALID


def user_turn(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant_turn(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


TOOL_USE = {"type": "tool_use", "id": "t1", "name": "f", "input": {}}


@pytest.mark.parametrize(
    "body",
    [
        {"model": "m", "messages": VALID["messages"]},
        {**VALID, "stream_options": {"include_usage": True}},
        {**VALID, "messages": [assistant_turn("hi")]},
        {**VALID, "messages": [user_turn("a"), user_turn("b")]},
        {**VALID, "messages": [user_turn("")]},
        {**VALID, "messages": [user_turn([{"type": "image_url", "image_url": "x"}])]},
        {**VALID, "temperature": 1.5},
        {**VALID, "messages": [user_turn("a"), assistant_turn([TOOL_USE]), user_turn("b")]},
        {
            **VALID,
            "messages": [
                user_turn("a"),
                assistant_turn([TOOL_USE]),
                user_turn(
                    [{"type": "text", "text": "x"}, {"type": "tool_result", "tool_use_id": "t1"}]
                ),
            ],
        },
        {**VALID, "tools": [{"name": "f", "parameters": {}}]},
    ],
)
def test_mock_refuses_what_anthropic_refuses(upstream: Upstream, body: dict[str, Any]) -> None:
    status, answer = post_raw(upstream.url, body)
    assert status == 400
    assert answer["type"] == "error"
    assert answer["error"]["type"] == "invalid_request_error"


def test_mock_needs_the_key_and_version_headers(upstream: Upstream) -> None:
    status, answer = post_raw(upstream.url, VALID, {"x-api-key": ""})
    assert (status, answer["error"]["type"]) == (401, "authentication_error")
    status, answer = post_raw(upstream.url, VALID, {"anthropic-version": ""})
    assert (status, answer["error"]["type"]) == (400, "invalid_request_error")
