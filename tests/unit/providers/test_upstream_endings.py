"""The remote providers against real servers on 127.0.0.1 that misbehave: streams that stop
early (clean close, chunked end, reset), answers of the wrong content type, bodies cut short,
malformed answers, unbelievable usage, keys quoted in errors, and the three timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from freehold.config.schema import ModelSettings
from freehold.core.errors import FreeholdError, UpstreamError, UpstreamTimeout
from freehold.core.types import ChatRequest, ChatResult, Chunk
from freehold.providers import http
from freehold.providers.anthropic import AnthropicProvider
from freehold.providers.http import ClientPool
from freehold.providers.openai_compat import OpenAICompatProvider
from freehold.testing import mock_anthropic, mock_openai
from freehold.testing.servers import ServerThread

KEY = "sk-proj-Q9v7T3xKp2LmZ8wR-7f3a9c1e5b2d4a6f"
Provider = OpenAICompatProvider | AnthropicProvider


@pytest.fixture(scope="module")
def openai_url() -> Iterator[str]:
    with ServerThread(mock_openai.create_app()) as server:
        yield server.url + "/v1"


@pytest.fixture(scope="module")
def socket_url() -> Iterator[str]:
    with mock_openai.SocketServer() as server:
        yield server.url + "/v1"


@pytest.fixture(scope="module")
def anthropic_url() -> Iterator[str]:
    with ServerThread(mock_anthropic.create_app()) as server:
        yield server.url


def provider(url: str, pool: ClientPool, **fields: Any) -> Provider:
    backend = "openai" if url.endswith("/v1") else "anthropic"
    settings = ModelSettings.model_validate(
        {"name": "up", "backend": backend, "base_url": url, "api_key": KEY, **fields}
    )
    if backend == "openai":
        return OpenAICompatProvider(settings, pool)
    return AnthropicProvider(settings, pool)


def req(text: str, stream: bool = False) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": text}], "stream": stream}
    )


def complete(url: str, text: str, **fields: Any) -> ChatResult | FreeholdError:
    async def main() -> ChatResult | FreeholdError:
        pool = ClientPool()
        try:
            return await provider(url, pool, **fields).complete(req(text))
        except FreeholdError as error:
            return error
        finally:
            await pool.aclose()

    return asyncio.run(main())


def stream(url: str, text: str, **fields: Any) -> tuple[list[Chunk], FreeholdError | None]:
    chunks: list[Chunk] = []

    async def main() -> FreeholdError | None:
        pool = ClientPool()
        try:
            async for chunk in provider(url, pool, **fields).stream(req(text, stream=True)):
                chunks.append(chunk)
        except FreeholdError as error:
            return error
        finally:
            await pool.aclose()
        return None

    return chunks, asyncio.run(main())


def words(chunks: list[Chunk]) -> str:
    return "".join(
        c.data["choices"][0]["delta"].get("content") or "" for c in chunks if c.data["choices"]
    )


# ---------------------------------------------------------------- how a stream ends

INCOMPLETE = "upstream 'up' ended the stream before it was complete"


def test_a_stream_stopping_with_a_chunked_end_is_an_error(openai_url: str) -> None:
    chunks, error = stream(openai_url, "a b c d [[halt:2]]")
    assert words(chunks) == "You said:"
    assert type(error) is UpstreamError and error.message == INCOMPLETE


def test_a_stream_stopping_with_a_clean_close_is_an_error(socket_url: str) -> None:
    chunks, error = stream(socket_url, "a b c d [[halt:2]]")
    assert words(chunks) == "You said:"
    assert type(error) is UpstreamError and error.message == INCOMPLETE


def test_a_stream_reset_midway_is_an_error(socket_url: str) -> None:
    chunks, error = stream(socket_url, "a b c d [[halt:2]] [[chunked]] [[reset]]")
    assert words(chunks) == "You said:"
    assert type(error) is UpstreamError
    assert error.message.startswith("upstream 'up' closed the connection")


def test_a_reset_that_ends_a_close_delimited_stream_is_an_error(socket_url: str) -> None:
    """Where the close delimits the body, a reset reads as its end: the stream is then
    incomplete (no finish reason, no ``[DONE]``)."""
    chunks, error = stream(socket_url, "a b c d [[halt:2]] [[reset]]")
    assert words(chunks) == "You said:"
    assert type(error) is UpstreamError and error.message == INCOMPLETE


def test_a_chunked_stream_from_the_socket_server_is_complete(socket_url: str) -> None:
    chunks, error = stream(socket_url, "a b [[chunked]]")
    assert error is None
    assert words(chunks) == "You said: a b"


def test_a_whole_stream_delimited_by_close_is_complete(socket_url: str) -> None:
    chunks, error = stream(socket_url, "a b")
    assert error is None
    assert words(chunks) == "You said: a b"


@pytest.mark.parametrize("server", ["openai_url", "socket_url"])
def test_finished_choices_without_done_are_complete(
    server: str, request: pytest.FixtureRequest
) -> None:
    chunks, error = stream(request.getfixturevalue(server), "a b [[no-done]]")
    assert error is None
    assert words(chunks) == "You said: a b"
    assert chunks[-1].usage is not None


def test_an_anthropic_stream_without_message_stop_is_an_error(anthropic_url: str) -> None:
    chunks, error = stream(anthropic_url, "a b c d [[halt:2]]")
    assert words(chunks) == "You said:"
    assert type(error) is UpstreamError
    assert error.message == f"{INCOMPLETE} (no message_stop)"


@pytest.mark.parametrize(
    ("directive", "kind"), [("[[garbage]]", "text/html"), ("[[as-json]]", "application/json")]
)
@pytest.mark.parametrize("server", ["openai_url", "anthropic_url"])
def test_a_stream_answered_with_another_content_type_fails_first(
    server: str, directive: str, kind: str, request: pytest.FixtureRequest
) -> None:
    chunks, error = stream(request.getfixturevalue(server), f"hi {directive}")
    assert chunks == []
    assert type(error) is UpstreamError
    assert f"answered a stream request with '{kind}" in error.message


def test_a_whole_body_cut_short_is_an_error(socket_url: str) -> None:
    error = complete(socket_url, "hi [[truncate]]")
    assert type(error) is UpstreamError
    assert "closed the connection" in error.message


def test_an_overlong_stream_line_is_an_error(
    openai_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "MAX_LINE_BYTES", 40)
    chunks, error = stream(openai_url, "hi")
    assert chunks == []
    assert type(error) is UpstreamError
    assert error.message == "upstream 'up' sent a stream line over 40 bytes"


# ---------------------------------------------------------------- what an answer holds


@pytest.mark.parametrize(
    ("directive", "problem"),
    [
        ("[[malformed:choice-int]]", "choices[0] is an integer, expected an object"),
        ("[[malformed:message-str]]", "choices[0].message is a string, expected an object"),
        (
            "[[malformed:tool-calls-int]]",
            "choices[0].message.tool_calls[0] is an integer, expected an object",
        ),
        (
            "[[malformed:content-int]]",
            "choices[0].message.content is an integer, expected a string, a list of parts or null",
        ),
    ],
)
def test_malformed_whole_answers(openai_url: str, directive: str, problem: str) -> None:
    error = complete(openai_url, f"hi {directive}")
    assert type(error) is UpstreamError
    assert error.message == f"upstream 'up' sent a malformed answer: {problem}"
    chunks, streamed = stream(openai_url, f"hi {directive}")
    assert len(chunks) == 1  # the role chunk; the first word's chunk is malformed
    assert type(streamed) is UpstreamError
    assert "sent a malformed stream chunk: choices[0]" in streamed.message


@pytest.mark.parametrize(
    ("directive", "stream_too"),
    [
        ("[[malformed:block-int]]", True),
        ("[[malformed:text-int]]", True),
        ("[[malformed:content-str]]", False),
        ("[[tool]] [[malformed:tool-input-str]]", False),
        ("[[malformed:index-str]]", True),
    ],
)
def test_malformed_anthropic_answers(anthropic_url: str, directive: str, stream_too: bool) -> None:
    tools = {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}

    async def main() -> FreeholdError | None:
        pool = ClientPool()
        request = ChatRequest.model_validate(
            {"model": "m", "messages": [{"role": "user", "content": f"hi {directive}"}], **tools}
        )
        try:
            if stream_too:
                async for _ in provider(anthropic_url, pool).stream(request):
                    pass
            else:
                await provider(anthropic_url, pool).complete(request)
        except FreeholdError as error:
            return error
        finally:
            await pool.aclose()
        return None

    error = asyncio.run(main())
    assert type(error) is UpstreamError
    assert "sent a malformed" in error.message


@pytest.mark.parametrize("kind", ["huge", "negative", "float", "bool", "string"])
@pytest.mark.parametrize("server", ["openai_url", "anthropic_url"])
def test_unbelievable_usage_is_estimated(
    server: str, kind: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(server)
    result = complete(url, f"one two [[usage:{kind}]]")
    assert isinstance(result, ChatResult)
    assert result.usage.estimated is True
    assert 0 < result.usage.prompt_tokens < 100
    assert result.body["usage"] == result.usage.to_dict()
    chunks, error = stream(url, f"one two [[usage:{kind}]]")
    assert error is None
    assert all(c.usage is None or c.usage.estimated for c in chunks)
    assert all(0 <= (c.data.get("usage") or {}).get("prompt_tokens", 0) < 100 for c in chunks)


def pieces(secret: str) -> list[str]:
    return [secret[i : i + 8] for i in range(len(secret) - 7)]


@pytest.mark.parametrize("form", ["whole", "stars", "dots", "padded", "ellipsis"])
@pytest.mark.parametrize("server", ["openai_url", "anthropic_url"])
def test_a_quoted_key_never_reaches_an_error(
    server: str, form: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(server)
    error = complete(url, f"hi [[status:401]] [[key:{form}]]")
    assert isinstance(error, FreeholdError) and error.status == 401
    assert "mock failure 401" in error.message
    assert [p for p in pieces(KEY) if p in error.message] == []
    assert KEY[-4:] not in error.message  # the masked form went whole
    assert "***" in error.message


# ---------------------------------------------------------------- timeouts


def slow_app() -> Starlette:
    """``trickle``: a chunk every 0.1 s for ever; ``stall``: one chunk, then silence for
    2 s; ``late``: a whole answer after 0.5 s."""

    async def chat(request: Request) -> Response:
        text = orjson.loads(await request.body())["messages"][-1]["content"]
        piece = b'data: {"choices": [{"index": 0, "delta": {"content": "x"}}]}\n\n'

        async def events() -> AsyncIterator[bytes]:
            while True:
                yield piece
                await asyncio.sleep(0.1 if text == "trickle" else 2)

        if text == "late":
            await asyncio.sleep(0.5)
            body = {"choices": [{"index": 0, "message": {"content": "done"}}]}
            return Response(orjson.dumps(body), media_type="application/json")
        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@pytest.fixture(scope="module")
def slow_url() -> Iterator[str]:
    with ServerThread(slow_app()) as server:
        yield server.url + "/v1"


def test_a_trickling_stream_meets_the_total_deadline(slow_url: str) -> None:
    chunks, error = stream(slow_url, "trickle", timeout_s=0.6, read_timeout_s=5)
    assert isinstance(error, UpstreamTimeout)
    assert 2 <= len(chunks) <= 8


def test_a_silent_stream_meets_the_read_timeout(slow_url: str) -> None:
    chunks, error = stream(slow_url, "stall", timeout_s=30, read_timeout_s=0.3)
    assert isinstance(error, UpstreamTimeout)
    assert len(chunks) == 1


def test_a_whole_answer_has_only_the_total_deadline(slow_url: str) -> None:
    result = complete(slow_url, "late", timeout_s=5, read_timeout_s=0.1)
    assert isinstance(result, ChatResult)
    assert result.body["choices"][0]["message"]["content"] == "done"
    assert isinstance(complete(slow_url, "late", timeout_s=0.2), UpstreamTimeout)


def test_a_redirect_is_not_followed() -> None:
    """Following it would send the key to wherever the upstream points."""
    elsewhere = mock_openai.create_app()

    async def redirect(request: Request) -> Response:
        await request.body()
        location = target.url + "/v1/chat/completions"
        return Response(status_code=307, headers={"location": location})

    app = Starlette(routes=[Route("/v1/chat/completions", redirect, methods=["POST"])])
    with ServerThread(elsewhere) as target, ServerThread(app) as server:
        error = complete(server.url + "/v1", "hi")
        chunks, streamed = stream(server.url + "/v1", "hi")
    assert type(error) is UpstreamError and "answered HTTP 307" in error.message
    assert chunks == [] and type(streamed) is UpstreamError
    assert elsewhere.state.requests == []
