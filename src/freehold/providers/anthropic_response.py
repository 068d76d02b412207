"""Anthropic Messages API answer, stream events and errors → OpenAI objects (pure, no I/O).

Answer (``parse_message``) and stream (``StreamTranslator``) are shape-checked
(``anthropic_shape``) and come back as OpenAI objects that keep Anthropic's message id.
Prompt tokens count cache writes and reads; when the upstream sends no usage, or a count that
cannot be believed (``core.types.token_count``), it is estimated and marked so.
``parse_error`` maps Anthropic error bodies.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from freehold.core.errors import FreeholdError, UpstreamError, UpstreamRejected
from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import (
    ChatRequest,
    ChatResult,
    Chunk,
    Usage,
    count_problem,
    describe_json,
    token_count,
)
from freehold.providers.anthropic_shape import check_event, check_message
from freehold.providers.wire_json import load_object

log = logging.getLogger("freehold.upstream")

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


def read_usage(raw: Any) -> tuple[int | None, int | None, str | None]:
    """(prompt tokens with cache writes and reads, output tokens, problem) from a ``usage``
    object. An absent or null count is None; a count that cannot be believed makes the whole
    usage unusable: (None, None, what is wrong)."""
    if raw is None:
        return None, None, None
    if not isinstance(raw, dict):
        return None, None, f"usage is {describe_json(raw)}, expected an object"
    counts: dict[str, int | None] = {}
    for key in ("input_tokens", "output_tokens", *_CACHE_KEYS):
        value = raw.get(key)
        count = token_count(value)
        if count is None and value is not None:
            return None, None, count_problem(f"usage.{key}", value)
        counts[key] = count
    base = counts["input_tokens"]
    prompt = None if base is None else base + sum(counts[key] or 0 for key in _CACHE_KEYS)
    return prompt, counts["output_tokens"], None


def _warn(upstream: str, problem: str) -> None:
    log.warning(
        "upstream %r reported unusable usage (%s): estimating it instead", upstream, problem
    )


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


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    arguments = orjson.dumps(block["input"]).decode()
    return {
        "id": block["id"],
        "type": "function",
        "function": {"name": block["name"], "arguments": arguments},
    }


def _text_or(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _failure(data: dict[str, Any], upstream: str, where: str) -> UpstreamError:
    """An ``{"type": "error", "error": …}`` body or event."""
    error = data.get("error")
    if not isinstance(error, dict):
        error = {}
    kind, text = _text_or(error.get("type"), "error"), _text_or(error.get("message"), "")
    return UpstreamError(f"upstream {upstream!r} failed{where}: {kind}: {text}")


def parse_message(raw: bytes, request: ChatRequest, upstream: str) -> ChatResult:
    """An Anthropic message as an OpenAI ``chat.completion``."""
    data = load_object(raw, upstream)
    if data.get("type") == "error":
        raise _failure(data, upstream, "")
    check_message(data, upstream)
    blocks = data["content"]
    texts = [b["text"] for b in blocks if b["type"] == "text"]
    calls = [_tool_call(b) for b in blocks if b["type"] == "tool_use"]
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    prompt, completion, problem = read_usage(data.get("usage"))
    if problem is not None:
        _warn(upstream, problem)
    if prompt is None or completion is None:
        output = "".join(texts) + "".join(c["function"]["arguments"] for c in calls)
        usage = _estimated(request, output, prompt, completion)
    else:
        usage = Usage(prompt, completion)
    body = {
        "id": _text_or(data.get("id"), "msg"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": _text_or(data.get("model"), request.model),
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
        self._usage_problem: str | None = None
        self._output: list[str] = []
        self._finish_sent = False
        self.finished = False

    def feed(self, payload: bytes) -> list[Chunk]:
        return self.event(load_object(payload, self._upstream))

    def event(self, event: dict[str, Any]) -> list[Chunk]:
        check_event(event, self._upstream)
        match event["type"]:
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
                raise _failure(event, self._upstream, " mid-stream")
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
        prompt, completion, problem = read_usage(raw)
        if problem is not None and self._usage_problem is None:
            self._usage_problem = problem
            _warn(self._upstream, problem)
        if prompt is not None:
            self._prompt = prompt
        if completion is not None:
            self._completion = completion

    def _message_start(self, event: dict[str, Any]) -> list[Chunk]:
        message = event["message"]
        self._base = {
            "id": _text_or(message.get("id"), "msg"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": _text_or(message.get("model"), self._request.model),
        }
        self._take_usage(message.get("usage"))
        return [self._chunk({"role": "assistant", "content": ""})]

    def _block_start(self, event: dict[str, Any]) -> list[Chunk]:
        block = event["content_block"]
        if block["type"] == "text":
            return self._text(block["text"])
        if block["type"] != "tool_use":
            return []  # thinking and server-side blocks have no OpenAI counterpart
        position = self._tool_index[event["index"]] = len(self._tool_index)
        start = block.get("input")
        arguments = orjson.dumps(start).decode() if start else ""
        self._output.append(arguments)
        call = {"index": position, "id": block["id"], "type": "function"}
        call["function"] = {"name": block["name"], "arguments": arguments}
        return [self._chunk({"tool_calls": [call]})]

    def _text(self, text: str) -> list[Chunk]:
        if not text:
            return []
        self._output.append(text)
        return [self._chunk({"content": text})]

    def _block_delta(self, event: dict[str, Any]) -> list[Chunk]:
        delta = event["delta"]
        if delta["type"] == "text_delta":
            return self._text(delta["text"])
        if delta["type"] != "input_json_delta":
            return []  # thinking, signature and citation deltas
        position = self._tool_index.get(event["index"])
        if position is None:
            raise self._fail("input_json_delta outside a tool_use block")
        partial: str = delta["partial_json"]
        if not partial:
            return []
        self._output.append(partial)
        return [
            self._chunk({"tool_calls": [{"index": position, "function": {"arguments": partial}}]})
        ]

    def _message_delta(self, event: dict[str, Any]) -> list[Chunk]:
        self._take_usage(event.get("usage"))
        self._finish_sent = True
        return [self._chunk({}, finish_reason(event["delta"].get("stop_reason")))]

    def _message_stop(self) -> list[Chunk]:
        if self._base is None:
            raise self._fail("message_stop before message_start")
        chunks = [] if self._finish_sent else [self._chunk({}, "stop")]
        prompt, completion = self._prompt, self._completion
        if self._usage_problem is not None:
            prompt = completion = None  # one unbelievable count: none is believed
        if prompt is None or completion is None:
            usage = _estimated(self._request, "".join(self._output), prompt, completion)
        else:
            usage = Usage(prompt, completion)
        chunks.append(Chunk({**self._base, "choices": [], "usage": usage.to_dict()}, usage))
        self.finished = True
        return chunks


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
