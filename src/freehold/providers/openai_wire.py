"""Pure translation for OpenAI-compatible upstreams (no I/O): request body out, answer,
chunks and errors in."""

from __future__ import annotations

from typing import Any

import orjson

from freehold.core.errors import FreeholdError, UpstreamError, UpstreamRejected
from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import ChatRequest, ChatResult, Chunk, Usage, usage_from_openai
from freehold.providers.wire_json import load_object


def request_body(request: ChatRequest, upstream_model: str, *, stream: bool) -> bytes:
    """The client's request with the upstream's model name. A stream always asks for usage
    (the ledger needs it); the gateway drops that chunk if the client did not ask."""
    body = request.wire()
    body["model"] = upstream_model
    if stream:
        body["stream"] = True
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        body["stream_options"] = options
    else:
        body.pop("stream", None)
        body.pop("stream_options", None)
    return orjson.dumps(body)


def _message_text(body: dict[str, Any]) -> str:
    parts = []
    for choice in body.get("choices") or ():
        message = choice.get("message") or {}
        if isinstance(message.get("content"), str):
            parts.append(message["content"])
        for call in message.get("tool_calls") or ():
            parts.append(str((call.get("function") or {}).get("arguments", "")))
    return "".join(parts)


def parse_completion(raw: bytes, request: ChatRequest, upstream: str) -> ChatResult:
    """A ``chat.completion`` body; usage estimated (and marked so) when the upstream sent none."""
    body = load_object(raw, upstream)
    if not isinstance(body.get("choices"), list):
        raise UpstreamError(f"upstream {upstream!r} sent an answer without choices")
    usage = usage_from_openai(body.get("usage"))
    if usage is None:
        messages = [m.model_dump(exclude_none=True) for m in request.messages]
        usage = Usage(
            estimate_prompt_tokens(messages),
            estimate_text_tokens(_message_text(body)),
            estimated=True,
        )
        body["usage"] = usage.to_dict()
    return ChatResult(body, usage)


def parse_chunk(payload: bytes, upstream: str) -> Chunk | None:
    """One SSE data payload; None at ``[DONE]``. A mid-stream ``{"error": …}`` raises."""
    if payload == b"[DONE]":
        return None
    data = load_object(payload, upstream)
    if "error" in data and "choices" not in data:
        error = data["error"] if isinstance(data["error"], dict) else {}
        raise UpstreamError(f"upstream {upstream!r} failed mid-stream: {error.get('message', '')}")
    return Chunk(data, usage_from_openai(data.get("usage")))


def parse_error(status: int, raw: bytes, upstream: str) -> FreeholdError:
    """An upstream error response: 4xx pass through with their message, the rest is a 502."""
    error: dict[str, Any] = {}
    try:
        data = orjson.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
        elif isinstance(data, dict) and isinstance(data.get("error"), str):
            error = {"message": data["error"]}
    except orjson.JSONDecodeError:
        pass
    text = error.get("message") or raw[:200].decode("utf-8", "replace").strip()
    if 400 <= status < 500:
        param, code, kind = error.get("param"), error.get("code"), error.get("type")
        return UpstreamRejected(
            f"upstream {upstream!r} rejected the request: {text}",
            status=status,
            type=kind if isinstance(kind, str) else None,
            param=param if isinstance(param, str) else None,
            code=str(code) if code is not None else None,
        )
    return UpstreamError(f"upstream {upstream!r} answered HTTP {status}: {text}")
