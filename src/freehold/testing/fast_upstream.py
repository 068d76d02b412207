"""A zero-latency OpenAI-compatible upstream for overhead benchmarks: a bare ASGI app that
answers every chat completion with the same small body (or the same short stream), doing as
little work as possible so that what a benchmark measures is the gateway in front of it.

Run it: ``python -m uvicorn freehold.testing.fast_upstream:app --port 9001``.
"""

from __future__ import annotations

from typing import Any

import orjson

_BASE = {"id": "chatcmpl-fast", "created": 1700000000, "model": "fast"}
WHOLE = orjson.dumps(
    {
        **_BASE,
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the fast mock."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
    }
)
STREAM_WORDS = ["Hello", " from", " the", " fast", " mock", "."]


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return _event(
        {
            **_BASE,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
    )


STREAM = [
    _chunk({"role": "assistant", "content": ""}),
    *(_chunk({"content": word}) for word in STREAM_WORDS),
    _chunk({}, "stop"),
    _event(
        {
            **_BASE,
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18},
        }
    ),
    b"data: [DONE]\n\n",
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if b'"stream":true' in body or b'"stream": true' in body:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        for event in STREAM:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": WHOLE})
