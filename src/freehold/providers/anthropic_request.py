"""OpenAI chat-completions request → Anthropic Messages API body (pure, no I/O).

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
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from freehold.core.errors import InvalidRequest, UnsupportedParameter
from freehold.core.types import ChatRequest, Message, Tool

ANTHROPIC_VERSION = "2023-06-01"

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
_DATA_URL = re.compile(r"^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$", re.DOTALL)


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
