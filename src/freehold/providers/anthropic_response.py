"""Anthropic Messages API answer, stream events and errors → OpenAI objects (pure, no I/O).

Answer (``parse_message``) and stream (``StreamTranslator``) come back as OpenAI objects that
keep Anthropic's message id. Prompt tokens count cache writes and reads; when the upstream
sends no usage it is estimated and marked so. ``parse_error`` maps Anthropic error bodies.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from freehold.core.errors import FreeholdError, UpstreamError, UpstreamRejected
from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import ChatRequest, ChatResult, Chunk, Usage
from freehold.providers.wire_json import load_object

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Anthropic error type → (OpenAI error type, OpenAI error code)
_ERROR_TYPES: dict[str, tuple[str, str | None]] = {
    "invalid_request_error": ("invalid_request_error", None),
    "authentication_error": ("authentication_error", "invalid_api_key"),
    "permission_error": ("request_forbidden", "permission_denied"),
    "not_found_error": ("invalid_request_error", "not_found"),
    "request_too_large": ("invalid_request_error", "request_too_large"),
    "rate_limit_error": ("rate_limit_exceeded", "rate_limit_exceeded"),
}
_CACHE_KEYS = ("cache_creation_input_tokens", "cache_read_input_tokens")


def finish_reason(stop_reason: Any) -> str:
    """OpenAI's ``finish_reason`` for an Anthropic ``stop_reason``."""
    return _FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def _int(raw: dict[str, Any], key: str) -> int | None:
    value = raw.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _prompt_tokens(raw: dict[str, Any]) -> int | None:
    """Input tokens, cache writes and reads included; None when ``input_tokens`` is absent."""
    base = _int(raw, "input_tokens")
    if base is None:
        return None
    return base + sum(_int(raw, key) or 0 for key in _CACHE_KEYS)


def _estimated(
    request: ChatRequest, output: str, prompt: int | None, completion: int | None
) -> Usage:
    """Usage with the counts the upstream left out estimated, and marked so."""
    if prompt is None:
        messages = [m.model_dump(exclude_none=True) for m in request.messages]
        prompt = estimate_prompt_tokens(messages)
    if completion is None:
        completion = estimate_text_tokens(output)
    return Usage(prompt, completion, estimated=True)


def _tool_call(block: dict[str, Any], upstream: str) -> dict[str, Any]:
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input")
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, dict):
        raise UpstreamError(f"upstream {upstream!r} sent a malformed tool_use block")
    arguments_json = orjson.dumps(arguments).decode()
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments_json},
    }


def parse_message(raw: bytes, request: ChatRequest, upstream: str) -> ChatResult:
    """An Anthropic message as an OpenAI ``chat.completion``."""
    data = load_object(raw, upstream)
    blocks = data.get("content")
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise UpstreamError(f"upstream {upstream!r} sent an answer without content blocks")
    texts = [
        b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)
    ]
    calls = [_tool_call(b, upstream) for b in blocks if b.get("type") == "tool_use"]
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    raw_usage = data.get("usage")
    if not isinstance(raw_usage, dict):
        raw_usage = {}
    prompt, completion = _prompt_tokens(raw_usage), _int(raw_usage, "output_tokens")
    if prompt is None or completion is None:
        output = "".join(texts) + "".join(c["function"]["arguments"] for c in calls)
        usage = _estimated(request, output, prompt, completion)
    else:
        usage = Usage(prompt, completion)
    body = {
        "id": str(data.get("id") or "msg"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": data.get("model") or request.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(data.get("stop_reason")),
                "logprobs": None,
            }
        ],
        "usage": usage.to_dict(),
    }
    return ChatResult(body, usage)


# ---------------------------------------------------------------- stream


class StreamTranslator:
    """Anthropic stream events in, OpenAI ``chat.completion.chunk`` objects out.

    Feed it each SSE data payload in order (``feed`` takes the raw bytes, ``event`` the parsed
    object); each call returns the chunks (possibly none) that event produces. ``finished``
    turns true at ``message_stop``, whose chunk has ``choices: []`` and the usage. An ``error``
    event raises ``UpstreamError``.
    """

    def __init__(self, request: ChatRequest, upstream: str) -> None:
        self._request = request
        self._upstream = upstream
        self._base: dict[str, Any] | None = None
        self._tool_index: dict[Any, int] = {}  # Anthropic block index → OpenAI tool-call index
        self._prompt: int | None = None
        self._completion: int | None = None
        self._output: list[str] = []
        self._finish_sent = False
        self.finished = False

    def feed(self, payload: bytes) -> list[Chunk]:
        return self.event(load_object(payload, self._upstream))

    def event(self, event: dict[str, Any]) -> list[Chunk]:
        match event.get("type"):
            case "message_start":
                return self._message_start(event)
            case "content_block_start":
                return self._block_start(event)
            case "content_block_delta":
                return self._block_delta(event)
            case "message_delta":
                return self._message_delta(event)
            case "message_stop":
                return self._message_stop()
            case "error":
                raise self._error(event)
            case _:  # ping, content_block_stop, and event types added later
                return []

    def _fail(self, what: str) -> UpstreamError:
        return UpstreamError(f"upstream {self._upstream!r} sent a malformed stream: {what}")

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> Chunk:
        if self._base is None:
            raise self._fail("an event before message_start")
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return Chunk({**self._base, "choices": [choice]})

    def _take_usage(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            return
        prompt, completion = _prompt_tokens(raw), _int(raw, "output_tokens")
        if prompt is not None:
            self._prompt = prompt
        if completion is not None:
            self._completion = completion

    def _message_start(self, event: dict[str, Any]) -> list[Chunk]:
        message = event.get("message")
        if not isinstance(message, dict):
            raise self._fail("message_start without a message")
        self._base = {
            "id": str(message.get("id") or "msg"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": message.get("model") or self._request.model,
        }
        self._take_usage(message.get("usage"))
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, event: dict[str, Any]) -> list[Chunk]:
        block = event.get("content_block")
        if not isinstance(block, dict):
            raise self._fail("content_block_start without a content_block")
        if block.get("type") == "text":
            return self._text(block.get("text"))
        if block.get("type") != "tool_use":
            return []  # thinking and server-side blocks have no OpenAI counterpart
        call_id, name, start = block.get("id"), block.get("name"), block.get("input")
        if not isinstance(call_id, str) or not isinstance(name, str):
            raise self._fail("a tool_use block without id or name")
        position = self._tool_index[event.get("index")] = len(self._tool_index)
        arguments = orjson.dumps(start).decode() if isinstance(start, dict) and start else ""
        self._output.append(arguments)
        call = {"index": position, "id": call_id, "type": "function"}
        call["function"] = {"name": name, "arguments": arguments}
        return [self._chunk({"tool_calls": [call]})]

    def _text(self, text: Any) -> list[Chunk]:
        if not isinstance(text, str) or not text:
            return []
        self._output.append(text)
        return [self._chunk({"content": text})]

    def _block_delta(self, event: dict[str, Any]) -> list[Chunk]:
        delta = event.get("delta")
        if not isinstance(delta, dict):
            raise self._fail("content_block_delta without a delta")
        if delta.get("type") == "text_delta":
            return self._text(delta.get("text"))
        if delta.get("type") != "input_json_delta":
            return []  # thinking, signature and citation deltas
        position = self._tool_index.get(event.get("index"))
        if position is None:
            raise self._fail("input_json_delta outside a tool_use block")
        partial = delta.get("partial_json")
        if not isinstance(partial, str) or not partial:
            return []
        self._output.append(partial)
        return [
            self._chunk({"tool_calls": [{"index": position, "function": {"arguments": partial}}]})
        ]

    def _message_delta(self, event: dict[str, Any]) -> list[Chunk]:
        self._take_usage(event.get("usage"))
        delta = event.get("delta")
        stop_reason = delta.get("stop_reason") if isinstance(delta, dict) else None
        self._finish_sent = True
        return [self._chunk({}, finish_reason(stop_reason))]

    def _message_stop(self) -> list[Chunk]:
        if self._base is None:
            raise self._fail("message_stop before message_start")
        chunks = [] if self._finish_sent else [self._chunk({}, "stop")]
        if self._prompt is None or self._completion is None:
            output = "".join(self._output)
            usage = _estimated(self._request, output, self._prompt, self._completion)
        else:
            usage = Usage(self._prompt, self._completion)
        chunks.append(Chunk({**self._base, "choices": [], "usage": usage.to_dict()}, usage))
        self.finished = True
        return chunks

    def _error(self, event: dict[str, Any]) -> UpstreamError:
        error = event.get("error")
        if not isinstance(error, dict):
            error = {}
        kind, text = error.get("type", "error"), error.get("message", "")
        return UpstreamError(f"upstream {self._upstream!r} failed mid-stream: {kind}: {text}")


# ---------------------------------------------------------------- errors


def parse_error(status: int, raw: bytes, upstream: str) -> FreeholdError:
    """An Anthropic error response: 4xx pass through with their status and message (types
    mapped to OpenAI's); 5xx and 529 (overloaded) are the upstream's failure, a 502."""
    error: dict[str, Any] = {}
    try:
        data = orjson.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
    except orjson.JSONDecodeError:
        pass
    message = error.get("message")
    text = message if isinstance(message, str) else raw[:200].decode("utf-8", "replace").strip()
    kind = error.get("type") if isinstance(error.get("type"), str) else None
    if 400 <= status < 500:
        openai_type, code = _ERROR_TYPES.get(kind or "invalid_request_error", (None, kind))
        return UpstreamRejected(
            f"upstream {upstream!r} rejected the request: {text}",
            status=status,
            type=openai_type,
            code=code,
        )
    label = f"{kind}: {text}" if kind else text
    return UpstreamError(f"upstream {upstream!r} answered HTTP {status}: {label}")
