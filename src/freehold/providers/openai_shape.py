"""The shape of OpenAI-compatible answers and stream chunks: the parts that freehold and its
clients read (choices, messages and deltas, content, tool calls, finish reasons) must have
the types the API documents; any other field passes through unchecked. Usage is checked
apart (``core.types.check_openai_usage``): a bad count is estimated, not refused.
"""

from __future__ import annotations

from typing import Any

from freehold.providers.wire_shape import Shape

CONTENT = "a string, a list of parts or null"


_TEXTS = frozenset({"role", "content", "refusal", "reasoning_content"})


def check_completion(body: dict[str, Any], upstream: str) -> None:
    """Raise ``UpstreamError`` naming the first part of a ``chat.completion`` that is wrong."""
    shape = Shape(upstream, "answer")
    if "choices" not in body:
        raise shape.missing("choices", "a list of choices")
    choices = shape.items(body["choices"], "choices", nullable=False)
    if not choices:
        raise shape.error("choices", "is empty, expected at least one choice")
    for i, choice in enumerate(choices):
        path = f"choices[{i}]"
        _choice(shape, choice, path)
        _message(shape, shape.object(choice, "message", path), f"{path}.message", stream=False)


def check_chunk(data: dict[str, Any], upstream: str) -> None:
    """Raise ``UpstreamError`` naming the first part of a ``chat.completion.chunk`` that is
    wrong."""
    choices = data.get("choices")
    if choices is None or choices == []:
        return
    shape = Shape(upstream, "stream chunk")
    for i, choice in enumerate(shape.items(choices, "choices")):
        path = f"choices[{i}]"
        _choice(shape, choice, path)
        delta = choice.get("delta")
        if delta is None:
            continue
        if not isinstance(delta, dict):
            raise shape.wrong(f"{path}.delta", delta, "an object or null")
        _message(shape, delta, f"{path}.delta", stream=True)


def _choice(shape: Shape, choice: dict[str, Any], path: str) -> None:
    if "index" in choice and type(choice["index"]) is not int:
        raise shape.wrong(f"{path}.index", choice["index"], "an integer")
    finish = choice.get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise shape.wrong(f"{path}.finish_reason", finish, "a string or null")


def _message(shape: Shape, message: dict[str, Any], path: str, *, stream: bool) -> None:
    """A message or a delta: only the fields it holds are looked at (most deltas hold one)."""
    for key, value in message.items():
        if value is None or (key in _TEXTS and isinstance(value, str)):
            continue
        if key == "content":
            _content(shape, value, f"{path}.content")
        elif key in _TEXTS:
            raise shape.wrong(f"{path}.{key}", value, "a string or null")
        elif key == "tool_calls":
            for j, call in enumerate(shape.items(value, f"{path}.tool_calls")):
                _tool_call(shape, call, f"{path}.tool_calls[{j}]", stream=stream)
        elif key == "function_call":
            if not isinstance(value, dict):
                raise shape.wrong(f"{path}.function_call", value, "an object or null")
            _function(shape, value, f"{path}.function_call", stream=stream)


def _content(shape: Shape, content: Any, path: str) -> None:
    if not isinstance(content, list):
        raise shape.wrong(path, content, CONTENT)
    for k, part in enumerate(content):
        where = f"{path}[{k}]"
        if not isinstance(part, dict):
            raise shape.wrong(where, part, "an object")
        shape.text(part, "type", where, required=True)
        if part["type"] == "text":
            shape.text(part, "text", where, required=True)


def _tool_call(shape: Shape, call: dict[str, Any], path: str, *, stream: bool) -> None:
    """A whole answer's call has an id and a function with a name and arguments; a stream
    delta's call has an index, and the rest as it arrives."""
    if stream:
        shape.integer(call, "index", path, required=True)
    shape.text(call, "id", path, required=not stream)
    shape.text(call, "type", path)
    if call.get("type") not in (None, "function"):
        return  # another kind of call (``custom``): its own fields pass through
    if stream:
        function = call.get("function")
        if function is None:
            return
        if not isinstance(function, dict):
            raise shape.wrong(f"{path}.function", function, "an object or null")
    else:
        function = shape.object(call, "function", path)
    _function(shape, function, f"{path}.function", stream=stream)


def _function(shape: Shape, function: dict[str, Any], path: str, *, stream: bool) -> None:
    shape.text(function, "name", path, required=not stream)
    shape.text(function, "arguments", path, required=not stream)
