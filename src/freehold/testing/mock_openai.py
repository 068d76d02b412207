"""A mock OpenAI-compatible upstream: a real ASGI app speaking ``/v1/chat/completions``
(whole and SSE), recording every request it receives. Behaviour: ``testing.directives``.
``SocketServer`` serves the same answers from a bare socket, for connection-level faults.

Usage counts words: prompt tokens = words in all message texts, completion tokens = words
in the reply (tool-call arguments count as one).

``[[malformed:K]]`` kinds (in the whole answer, or in the first streamed word's chunk):
``choice-int`` (``choices: [1]``), ``message-str`` (the message or delta is a string),
``tool-calls-int`` (``tool_calls: [7]``), ``content-int`` (``content: 5``), ``index-str``
(the choice's ``index`` is a string).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import struct
import threading
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from freehold.testing.directives import Directives, count_words, parse, quoted_key, text_of
from freehold.testing.recording import recording_app, remember
from freehold.testing.servers import free_port

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


def _usage(body: dict[str, Any], completion: int, d: Directives) -> dict[str, Any]:
    prompt = _prompt_tokens(body)
    return {
        "prompt_tokens": d.bad_usage(prompt),
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _malform(obj: dict[str, Any], kind: str | None, part: str) -> dict[str, Any]:
    """``obj`` (an answer, or a chunk) broken as ``[[malformed:K]]`` says; ``part`` is its
    choice's ``message`` or ``delta``."""
    choice = obj["choices"][0]
    match kind:
        case "choice-int":
            obj["choices"] = [1]
        case "message-str":
            choice[part] = "hello"
        case "tool-calls-int":
            choice[part]["tool_calls"] = [7]
        case "content-int":
            choice[part]["content"] = 5
        case "index-str":
            choice["index"] = "0"
    return obj


def _error(status: int, authorization: str, d: Directives) -> Response:
    message = f"mock failure {status}"
    if status == 401:  # like OpenAI, echo (part of) the key: the gateway must scrub it
        key = quoted_key(authorization.removeprefix("Bearer "), d.key_form)
        message += f": incorrect API key provided: {key}. You can find your API key at …"
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
        out["usage"] = _usage(body, tokens, d)
    return _malform(out, d.malformed, "message")


def _sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


async def _stream(body: dict[str, Any], d: Directives, completion_id: str) -> AsyncIterator[bytes]:
    base = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": body.get("model"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, kind: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse(_malform({**base, "choices": [choice]}, kind, "delta"))

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
            if d.halt is not None and i == d.halt:
                return
            yield chunk(
                {"content": word if i == 0 else " " + word}, None, d.malformed if i == 0 else None
            )
        tokens, finish = len(words), "stop"
    yield chunk({}, finish)
    options = body.get("stream_options") or {}
    if options.get("include_usage") and not d.no_usage:
        yield _sse({**base, "choices": [], "usage": _usage(body, tokens, d)})
    if not d.no_done:
        yield b"data: [DONE]\n\n"


async def chat_completions(request: Request) -> Response:
    raw = await request.body()
    body = orjson.loads(raw)
    remember(request, body)
    d = parse(_last_user_text(body))
    if d.sleep_s:
        await asyncio.sleep(d.sleep_s)
    if d.status:
        return _error(d.status, request.headers.get("authorization", ""), d)
    if d.garbage:
        return Response(b"<html>not json", media_type="text/html")
    completion_id = f"chatcmpl-mock{next(_ids)}"
    if body.get("stream") and not d.as_json:
        return StreamingResponse(_stream(body, d, completion_id), media_type="text/event-stream")
    return Response(
        orjson.dumps(_completion(body, d, completion_id)), media_type="application/json"
    )


def create_app() -> Starlette:
    return recording_app([Route("/v1/chat/completions", chat_completions, methods=["POST"])])


class SocketServer:
    """The mock's answers from a bare asyncio socket server, for connection-level faults an
    ASGI server cannot produce: every answer is delimited by closing the connection (no
    ``Content-Length``, not chunked; ``[[chunked]]`` frames a stream), so ``[[halt:N]]`` ends
    a stream with a clean close; ``[[reset]]`` closes with a TCP reset instead, and
    ``[[truncate]]`` declares a whole answer's length but sends half of it. Other directives
    apply as in the app (not ``[[status:N]]``, ``[[sleep:S]]``). Use as a context manager;
    ``url`` is its root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def __enter__(self) -> SocketServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"socket server on port {self.port} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            sent = re.search(rb"(?i)content-length:\s*(\d+)", head)
            body = orjson.loads(await reader.readexactly(int(sent[1]) if sent else 0))
            d = parse(_last_user_text(body))
            completion_id = f"chatcmpl-sock{next(_ids)}"
            streaming = bool(body.get("stream")) and not d.as_json
            kind = b"text/event-stream" if streaming else b"application/json"
            whole = b"" if streaming else orjson.dumps(_completion(body, d, completion_id))
            chunked = streaming and d.chunked
            framing = b"content-length: %d\r\n" % len(whole) if d.truncate else b""
            framing += b"transfer-encoding: chunked\r\n" if chunked else b""
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: " + kind + b"\r\n" + framing
                + b"connection: close\r\n\r\n"
            )  # fmt: skip
            if streaming:
                async for event in _stream(body, d, completion_id):
                    writer.write(b"%x\r\n%s\r\n" % (len(event), event) if chunked else event)
                    await writer.drain()
                if chunked and not d.reset:
                    writer.write(b"0\r\n\r\n")
            else:
                writer.write(whole[: len(whole) // 2] if d.truncate else whole)
            await writer.drain()
            if d.reset:
                await asyncio.sleep(0.2)  # let the client read what was sent, then reset
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()
