"""Pure translation between OpenAI chat completions and Anthropic's Messages API (no I/O).

Request (``request_body``):

- system and developer messages, wherever they stand, join (blank-line separated) into the
  top-level ``system``;
- user and assistant content: strings, text parts, ``image_url`` parts (``data:`` URLs become
  base64 image blocks, http(s) URLs url image blocks); assistant ``tool_calls`` become
  ``tool_use`` blocks; ``tool`` messages become ``tool_result`` blocks in a user turn.
  Consecutive turns of one role merge (Anthropic requires alternation), tool results first;
  empty text is dropped (Anthropic rejects it). The first turn must be the user's: the request
  is refused rather than a turn invented;
- ``max_tokens``/``max_completion_tokens`` (else the model's ``default_max_tokens``), ``stop``,
  ``temperature`` (Anthropic's range is 0..1: above 1 is refused, not clamped), ``top_p``,
  ``user`` (``metadata.user_id``), ``tools``, ``tool_choice`` and ``parallel_tool_calls:
  false`` (``disable_parallel_tool_use``) map across;
- refused with ``UnsupportedParameter``: ``n`` > 1, and ``response_format`` ``json_object`` /
  ``json_schema``: Anthropic has no JSON mode, and faking one with a forced tool call would
  silently change what the client gets back;
- dropped: ``seed`` and every field Anthropic does not know (it rejects unknown fields).

Answer (``parse_message``) and stream (``StreamTranslator``) come back as OpenAI objects that
keep Anthropic's message id. Prompt tokens count cache writes and reads; when the upstream
sends no usage it is estimated and marked so. ``parse_error`` maps Anthropic error bodies.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

from freehold.core.errors import (
    FreeholdError,
    InvalidRequest,
    UnsupportedParameter,
    UpstreamError,
    UpstreamRejected,
)
from freehold.core.tokens import estimate_prompt_tokens, estimate_text_tokens
from freehold.core.types import ChatRequest, ChatResult, Chunk, Message, Tool, Usage

ANTHROPIC_VERSION = "2023-06-01"

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_TOOL_CHOICE = {"auto": "auto", "required": "any", "none": "none"}
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
_DATA_URL = re.compile(r"^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$", re.DOTALL)


# ---------------------------------------------------------------- request


def request_body(
    request: ChatRequest, upstream_model: str, default_max_tokens: int, *, stream: bool
) -> bytes:
    """The Messages API body for ``request``; raises ``InvalidRequest`` for what cannot map."""
    _refuse_unsupported(request)
    system, messages = _conversation(request.messages)
    body: dict[str, Any] = {
        "model": upstream_model,
        "max_tokens": request.output_cap or default_max_tokens,
        "messages": messages,
    }
    if system:
        body["system"] = system
    body.update(_sampling(request))
    body.update(_tooling(request))
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def _refuse_unsupported(request: ChatRequest) -> None:
    if request.n is not None and request.n > 1:
        raise UnsupportedParameter(
            "the anthropic backend returns one choice: n must be 1", param="n"
        )
    if request.temperature is not None and request.temperature > 1:
        raise UnsupportedParameter(
            "the anthropic backend takes a temperature between 0 and 1", param="temperature"
        )
    kind = (request.response_format or {}).get("type", "text")
    if kind != "text":
        raise UnsupportedParameter(
            f"the anthropic backend has no response_format {kind!r}", param="response_format"
        )


def _sampling(request: ChatRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if request.stop:
        out["stop_sequences"] = [request.stop] if isinstance(request.stop, str) else request.stop
    if request.temperature is not None:
        out["temperature"] = request.temperature
    if request.top_p is not None:
        out["top_p"] = request.top_p
    if request.user:
        out["metadata"] = {"user_id": request.user}
    return out


def _tooling(request: ChatRequest) -> dict[str, Any]:
    if not request.tools:
        return {}
    out: dict[str, Any] = {"tools": [_tool(tool) for tool in request.tools]}
    choice = _tool_choice(request.tool_choice)
    if (request.model_extra or {}).get("parallel_tool_calls") is False:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice:
        out["tool_choice"] = choice
    return out


def _tool(tool: Tool) -> dict[str, Any]:
    function = tool.function
    out: dict[str, Any] = {"name": function.name}
    if function.description:
        out["description"] = function.description
    out["input_schema"] = function.parameters or {"type": "object", "properties": {}}
    return out


def _tool_choice(value: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in _TOOL_CHOICE:
            raise InvalidRequest(
                f"tool_choice {value!r} is not one of auto, required, none", param="tool_choice"
            )
        return {"type": _TOOL_CHOICE[value]}
    function = value.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if value.get("type") != "function" or not isinstance(name, str) or not name:
        raise InvalidRequest(
            'tool_choice must name a function: {"type": "function", "function": {"name": …}}',
            param="tool_choice",
        )
    return {"type": "tool", "name": name}


def _conversation(messages: list[Message]) -> tuple[str, list[dict[str, Any]]]:
    """The joined system text and the alternating user/assistant turns."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if message.role in ("system", "developer"):
            text = "\n".join(b["text"] for b in _blocks(message.content, f"messages[{i}]", False))
            if text:
                system.append(text)
            continue
        role, blocks = _turn(message, i)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns or turns[0]["role"] != "user":
        raise InvalidRequest(
            "the anthropic backend needs a user message before the first assistant message",
            param="messages",
        )
    return "\n\n".join(system), [_settle(turn) for turn in turns]


def _turn(message: Message, i: int) -> tuple[str, list[dict[str, Any]]]:
    if message.role == "user":
        return "user", _blocks(message.content, f"messages[{i}]", True)
    if message.role == "assistant":
        blocks = _blocks(message.content, f"messages[{i}]", False)
        for j, call in enumerate(message.tool_calls or ()):
            param = f"messages[{i}].tool_calls[{j}].function.arguments"
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.function.name,
                    "input": _arguments(call.function.arguments, param),
                }
            )
        return "assistant", blocks
    if message.role == "tool":
        return "user", [_tool_result(message, i)]
    raise UnsupportedParameter(
        f"the anthropic backend does not take {message.role!r} messages; use tools",
        param=f"messages[{i}].role",
    )


def _settle(turn: dict[str, Any]) -> dict[str, Any]:
    """Tool results first in a user turn (Anthropic's rule); a lone text block as a string."""
    blocks: list[dict[str, Any]] = turn["content"]
    blocks.sort(key=lambda block: block["type"] != "tool_result")
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        return {"role": turn["role"], "content": blocks[0]["text"]}
    return turn


def _blocks(content: str | list[dict[str, Any]] | None, where: str, images: bool) -> list[Any]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content.strip() else []
    blocks = []
    for j, part in enumerate(content):
        block = _part(part, f"{where}.content[{j}]", images)
        if block is not None:
            blocks.append(block)
    return blocks


def _part(part: dict[str, Any], param: str, images: bool) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind in ("text", "refusal"):
        text = part.get(kind)
        if not isinstance(text, str):
            raise InvalidRequest(f"a {kind} part needs a string {kind!r}", param=f"{param}.{kind}")
        return {"type": "text", "text": text} if text.strip() else None
    if kind == "image_url" and images:
        return _image(part, f"{param}.image_url.url")
    raise UnsupportedParameter(
        f"the anthropic backend does not take {kind!r} content here", param=f"{param}.type"
    )


def _image(part: dict[str, Any], param: str) -> dict[str, Any]:
    spec = part.get("image_url")
    url = spec.get("url") if isinstance(spec, dict) else spec
    if isinstance(url, str):
        match = _DATA_URL.match(url)
        if match:
            source = {"type": "base64", "media_type": match[1], "data": match[2]}
            return {"type": "image", "source": source}
        if url.startswith(("https://", "http://")):
            return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest("an image must be a base64 data: URL or an http(s) URL", param=param)


def _arguments(arguments: str, param: str) -> dict[str, Any]:
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise InvalidRequest("tool call arguments are not valid JSON", param=param) from None
    if not isinstance(value, dict):
        raise InvalidRequest("tool call arguments must be a JSON object", param=param)
    return value


def _tool_result(message: Message, i: int) -> dict[str, Any]:
    if not message.tool_call_id:
        raise InvalidRequest(
            "a tool message needs the tool_call_id it answers", param=f"messages[{i}].tool_call_id"
        )
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if isinstance(message.content, str):
        if message.content:
            block["content"] = message.content
    else:
        parts = _blocks(message.content, f"messages[{i}]", True)
        if parts:
            block["content"] = parts
    return block


# ---------------------------------------------------------------- answer


def _load_object(raw: bytes, upstream: str) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"upstream {upstream!r} sent a body that is not JSON") from None
    if not isinstance(data, dict):
        raise UpstreamError(f"upstream {upstream!r} sent JSON that is not an object")
    return data


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
    data = _load_object(raw, upstream)
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
        return self.event(_load_object(payload, self._upstream))

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
