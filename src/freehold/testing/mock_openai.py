"""A mock OpenAI-compatible upstream: a real ASGI app speaking ``/v1/chat/completions``
(whole and SSE), recording every request it receives. Behaviour: ``testing.directives``.

Usage counts words: prompt tokens = words in all message texts, completion tokens = words
in the reply (tool-call arguments count as one).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from freehold.testing.directives import Directives, count_words, parse, text_of
from freehold.testing.recording import recording_app, remember

_ids = itertools.count(1)


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def _prompt_tokens(body: dict[str, Any]) -> int:
    return sum(count_words(text_of(m.get("content"))) for m in body.get("messages") or [])


def _tool_call(body: dict[str, Any], d: Directives) -> dict[str, Any]:
    name = body["tools"][0]["function"]["name"]
    arguments = orjson.dumps({"echo": d.text}).decode()
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}


def _usage(body: dict[str, Any], completion: int) -> dict[str, int]:
    prompt = _prompt_tokens(body)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _error(status: int, authorization: str) -> Response:
    message = f"mock failure {status}"
    if status == 401:  # like OpenAI, echo (part of) the key: the gateway must scrub it
        message += f": incorrect API key provided: {authorization.removeprefix('Bearer ')}"
    return JSONResponse(
        {
            "error": {
                "message": message,
                "type": "mock_error",
                "param": None,
                "code": f"mock_{status}",
            }
        },
        status_code=status,
    )


def _completion(body: dict[str, Any], d: Directives, completion_id: str) -> dict[str, Any]:
    use_tool = d.tool and body.get("tools")
    if use_tool:
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [_tool_call(body, d)],
        }
        tokens, finish = 1, "tool_calls"
    else:
        words = d.reply_words()
        message = {"role": "assistant", "content": " ".join(words)}
        tokens, finish = len(words), "stop"
    out: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
    }
    if not d.no_usage:
        out["usage"] = _usage(body, tokens)
    return out


def _sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


async def _stream(body: dict[str, Any], d: Directives, completion_id: str) -> AsyncIterator[bytes]:
    base = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": body.get("model"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    yield chunk({"role": "assistant", "content": ""})
    if d.tool and body.get("tools"):
        call = _tool_call(body, d)
        args = call["function"]["arguments"]
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        half = len(args) // 2
        for piece in (args[:half], args[half:]):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        tokens, finish = 1, "tool_calls"
    else:
        words = d.reply_words()
        for i, word in enumerate(words):
            if d.cut and i == 2:
                raise ConnectionResetError("mock cut the stream")
            yield chunk({"content": word if i == 0 else " " + word})
        tokens, finish = len(words), "stop"
    yield chunk({}, finish)
    options = body.get("stream_options") or {}
    if options.get("include_usage") and not d.no_usage:
        yield _sse({**base, "choices": [], "usage": _usage(body, tokens)})
    yield b"data: [DONE]\n\n"


async def chat_completions(request: Request) -> Response:
    raw = await request.body()
    body = orjson.loads(raw)
    remember(request, body)
    d = parse(_last_user_text(body))
    if d.sleep_s:
        await asyncio.sleep(d.sleep_s)
    if d.status:
        return _error(d.status, request.headers.get("authorization", ""))
    if d.garbage:
        return Response(b"<html>not json", media_type="text/html")
    completion_id = f"chatcmpl-mock{next(_ids)}"
    if body.get("stream"):
        return StreamingResponse(_stream(body, d, completion_id), media_type="text/event-stream")
    return Response(
        orjson.dumps(_completion(body, d, completion_id)), media_type="application/json"
    )


def create_app() -> Starlette:
    return recording_app([Route("/v1/chat/completions", chat_completions, methods=["POST"])])
