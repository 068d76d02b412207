"""Pure translation for OpenAI-compatible upstreams (no I/O): request body out, answer,
chunks and errors in."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from freehold.core.errors import FreeholdError, UpstreamError, UpstreamRejected
from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import ChatRequest, ChatResult, Chunk, Usage, check_openai_usage
from freehold.providers.openai_shape import check_chunk, check_completion
from freehold.providers.wire_json import load_object

log = logging.getLogger("freehold.upstream")


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
    """The generated text of a (shape-checked) answer: content and tool-call arguments."""
    parts = []
    for choice in body["choices"]:
        message = choice["message"]
        if isinstance(message.get("content"), str):
            parts.append(message["content"])
        for call in message.get("tool_calls") or ():
            arguments = (call.get("function") or {}).get("arguments")
            if isinstance(arguments, str):
                parts.append(arguments)
    return "".join(parts)


def _upstream_failure(data: dict[str, Any], upstream: str, where: str) -> UpstreamError:
    """An ``{"error": …}`` body sent in place of an answer."""
    error = data["error"]
    message = error.get("message") if isinstance(error, dict) else error
    text = message if isinstance(message, str) else ""
    return UpstreamError(f"upstream {upstream!r} failed{where}: {text}")


def _reported_usage(raw: Any, upstream: str) -> Usage | None:
    """The upstream's usage when it is believable; a warning naming the field when not."""
    usage, problem = check_openai_usage(raw)
    if problem is not None:
        log.warning(
            "upstream %r reported unusable usage (%s): estimating it instead", upstream, problem
        )
    return usage


def parse_completion(raw: bytes, request: ChatRequest, upstream: str) -> ChatResult:
    """A ``chat.completion`` body, shape-checked; usage estimated (and marked so) when the
    upstream sent none or none that can be believed."""
    body = load_object(raw, upstream)
    if "error" in body and "choices" not in body:
        raise _upstream_failure(body, upstream, "")
    check_completion(body, upstream)
    usage = _reported_usage(body.get("usage"), upstream)
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
    """One SSE data payload, shape-checked; None at ``[DONE]``. A mid-stream ``{"error": …}``
    raises. Usage that cannot be believed is left out (``usage: null``, as on the chunks
    before the last) with a warning, so the gateway estimates it."""
    if payload == b"[DONE]":
        return None
    data = load_object(payload, upstream)
    if "error" in data and "choices" not in data:
        raise _upstream_failure(data, upstream, " mid-stream")
    check_chunk(data, upstream)
    raw_usage = data.get("usage")
    usage = _reported_usage(raw_usage, upstream)
    if usage is None and raw_usage is not None:
        data["usage"] = None
    return Chunk(data, usage)


class StreamReader:
    """Follows one OpenAI-compatible stream: ``feed`` each SSE payload in order and relay
    the chunk it returns (None: nothing to relay); ``done`` turns true at ``[DONE]``. When
    the connection ends without ``[DONE]``, ``end`` raises ``UpstreamError`` unless every
    choice the stream began had its ``finish_reason`` (some servers omit ``[DONE]``)."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream
        self._open: set[Any] = set()
        self._finished: set[Any] = set()
        self.done = False

    def feed(self, payload: bytes) -> Chunk | None:
        chunk = parse_chunk(payload, self._upstream)
        if chunk is None:
            self.done = True
            return None
        choices = chunk.data.get("choices") or ()
        for position, choice in enumerate(choices):
            index = choice.get("index", position)
            if choice.get("finish_reason") is None:
                if index not in self._finished:
                    self._open.add(index)
            else:
                self._finished.add(index)
                self._open.discard(index)
        if not choices and chunk.usage is None and chunk.data.get("usage", 0) is None:
            return None  # only unusable usage: nothing for the client
        return chunk

    @property
    def complete(self) -> bool:
        return self.done or (bool(self._finished) and not self._open)

    def end(self) -> None:
        """The connection ended: raise unless the stream was complete."""
        if not self.complete:
            raise UpstreamError(
                f"upstream {self._upstream!r} ended the stream before it was complete"
            )


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
    message = error.get("message")
    text = message if isinstance(message, str) and message else _excerpt(raw)
    if 400 <= status < 500:
        param, code, kind = error.get("param"), error.get("code"), error.get("type")
        return UpstreamRejected(
            f"upstream {upstream!r} rejected the request: {text}",
            status=status,
            type=kind if isinstance(kind, str) else None,
            param=param if isinstance(param, str) else None,
            code=str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
        )
    return UpstreamError(f"upstream {upstream!r} answered HTTP {status}: {text}")


def _excerpt(raw: bytes) -> str:
    return raw[:200].decode("utf-8", "replace").strip()
