"""A mock Anthropic upstream: a real ASGI app speaking ``POST /v1/messages`` (whole and SSE,
event for event like Anthropic's), recording every request it receives (``app.state.requests``,
``GET``/``DELETE /_mock/requests``). Behaviour: ``testing.directives``.

It checks the rules of the real API that an adapter can get wrong, and answers them as the
real API does: ``x-api-key`` missing → 401 ``authentication_error``; ``anthropic-version``
missing, unknown top-level fields, no ``max_tokens``, turns that do not alternate or do not
start with the user, empty text, malformed blocks, tool results that do not answer the
previous turn's tool calls, a temperature outside 0..1 → 400 ``invalid_request_error``.

Usage counts words: input tokens = words of the system prompt and of every text (tool results
included), output tokens = words of the reply (a tool call counts one). Anthropic always sends
usage, so ``[[no-usage]]`` leaves the ``usage`` objects out (of the message, of
``message_start`` and ``message_delta``): that is how a gateway's estimate is exercised.
``[[status:N]]`` answers Anthropic's error body with the type Anthropic uses for N (429 adds
``retry-after: 1``; 401 echoes the ``x-api-key`` back, so scrubbing is exercised). A reply
longer than ``max_tokens`` words is cut there (``max_tokens``).

``[[malformed:K]]`` kinds: ``block-int`` (a content block is ``1``), ``text-int`` (a text is
``5``), ``content-str`` (a whole answer's ``content`` is a string), ``tool-input-str`` (with
``[[tool]]``, a whole answer's tool input is a string), ``index-str`` (a stream delta's
``index`` is a string). ``[[usage:K]]`` puts its count in ``input_tokens``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from freehold.testing.directives import Directives, count_words, parse, quoted_key, text_of
from freehold.testing.recording import recording_app, remember

_ids = itertools.count(1)
_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "service_tier",
    }
)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


class Invalid(Exception):
    """A request the real API would refuse with 400 ``invalid_request_error``."""


# ---------------------------------------------------------------- validation


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise Invalid(message)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_text(block: dict[str, Any], where: str) -> None:
    text = block.get("text")
    _check(isinstance(text, str) and bool(text.strip()), f"{where}: text must be non-empty")


def _check_image(block: dict[str, Any], where: str) -> None:
    source = block.get("source")
    if not isinstance(source, dict):
        raise Invalid(f"{where}.source: Field required")
    if source.get("type") == "base64":
        _check(
            str(source.get("media_type")).startswith("image/")
            and isinstance(source.get("data"), str),
            f"{where}.source: base64 images need an image media_type and data",
        )
    else:
        _check(
            source.get("type") == "url" and str(source.get("url")).startswith("http"),
            f"{where}.source: expected a base64 or url source",
        )


def _check_tool_use(block: dict[str, Any], where: str) -> None:
    _check(isinstance(block.get("id"), str), f"{where}.id: Field required")
    _check(isinstance(block.get("name"), str), f"{where}.name: Field required")
    _check(isinstance(block.get("input"), dict), f"{where}.input: Input should be an object")


def _check_tool_result(block: dict[str, Any], where: str) -> None:
    _check(isinstance(block.get("tool_use_id"), str), f"{where}.tool_use_id: Field required")
    content = block.get("content", "")
    _check(isinstance(content, str | list), f"{where}.content: expected a string or blocks")
    if isinstance(content, list):
        for k, inner in enumerate(content):
            _check_block(inner, f"{where}.content.{k}", inner_types=("text", "image"))


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "text": _check_text,
    "image": _check_image,
    "tool_use": _check_tool_use,
    "tool_result": _check_tool_result,
}


def _check_block(block: Any, where: str, inner_types: tuple[str, ...] | None = None) -> None:
    _check(isinstance(block, dict), f"{where}: Input should be an object")
    kind = block.get("type")
    allowed = inner_types or tuple(_BLOCK_CHECKS)
    _check(kind in allowed, f"{where}.type: Input tag {kind!r} does not match expected tags")
    _BLOCK_CHECKS[kind](block, where)


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        block = {"type": "text", "text": content}
        _check_text(block, where)
        return [block]
    _check(isinstance(content, list) and bool(content), f"{where}: content must be non-empty")
    for k, block in enumerate(content):
        _check_block(block, f"{where}.content.{k}")
    return list(content)


def _check_tool_pairing(blocks: list[dict[str, Any]], pending: set[str], where: str) -> None:
    """A user turn answers every tool call of the turn before, tool results first."""
    kinds = [block["type"] for block in blocks]
    answered = {b["tool_use_id"] for b in blocks if b["type"] == "tool_result"}
    _check(
        answered <= pending,
        f"{where}: unexpected tool_use_id found in tool_result blocks; each tool_result "
        "must have a corresponding tool_use in the previous message",
    )
    _check(
        pending <= answered,
        f"{where}: tool_use ids were found without tool_result blocks immediately after",
    )
    results = kinds.count("tool_result")
    _check(
        kinds[:results] == ["tool_result"] * results,
        f"{where}: tool_result blocks must come before any other content",
    )


def _check_messages(messages: Any) -> None:
    _check(isinstance(messages, list) and bool(messages), "messages: Field required")
    pending: set[str] = set()
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        _check(isinstance(message, dict), f"{where}: Input should be an object")
        role = message.get("role")
        _check(i > 0 or role == "user", 'messages: first message must use the "user" role')
        expected = "user" if i % 2 == 0 else "assistant"
        _check(
            role == expected,
            f'messages: roles must alternate between "user" and "assistant", '
            f'but found multiple "{role}" roles in a row',
        )
        blocks = _blocks(message.get("content"), where)
        kinds = {block["type"] for block in blocks}
        if role == "user":
            _check_tool_pairing(blocks, pending, where)
            _check("tool_use" not in kinds, f"{where}: tool_use blocks belong to the assistant")
            pending = set()
        else:
            _check(
                not kinds & {"tool_result", "image"}, f"{where}: the assistant sends text or tools"
            )
            pending = {b["id"] for b in blocks if b["type"] == "tool_use"}


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools", [])
    _check(isinstance(tools, list), "tools: Input should be a list")
    for i, tool in enumerate(tools):
        _check(isinstance(tool, dict), f"tools.{i}: Input should be an object")
        _check(_TOOL_NAME.match(str(tool.get("name"))) is not None, f"tools.{i}.name: invalid")
        schema = tool.get("input_schema")
        _check(
            isinstance(schema, dict) and schema.get("type") == "object",
            f"tools.{i}.input_schema: must be an object schema",
        )
        extra = set(tool) - {"name", "description", "input_schema", "cache_control"}
        _check(not extra, f"tools.{i}.{sorted(extra)[0] if extra else ''}: Extra inputs")
    choice = body.get("tool_choice")
    if choice is not None:
        _check(
            isinstance(choice, dict) and choice.get("type") in _TOOL_CHOICES,
            "tool_choice.type: expected auto, any, tool or none",
        )
        _check(
            choice.get("type") != "tool" or isinstance(choice.get("name"), str),
            "tool_choice.name: Field required",
        )


def _check_sampling(body: dict[str, Any]) -> None:
    for name in ("temperature", "top_p"):
        value = body.get(name, 0)
        _check(_is_number(value) and 0 <= value <= 1, f"{name}: must be between 0 and 1")
    stops = body.get("stop_sequences", [])
    _check(
        isinstance(stops, list) and all(isinstance(s, str) for s in stops),
        "stop_sequences: Input should be a list of strings",
    )
    metadata = body.get("metadata", {})
    _check(
        isinstance(metadata, dict) and set(metadata) <= {"user_id"},
        "metadata: only user_id is permitted",
    )
    _check(isinstance(body.get("stream", False), bool), "stream: Input should be a boolean")


def validate(body: Any) -> None:
    """Raise ``Invalid`` for a body the real Messages API would refuse."""
    _check(isinstance(body, dict), "body: Input should be an object")
    extra = sorted(set(body) - _FIELDS)
    _check(not extra, f"{extra[0] if extra else ''}: Extra inputs are not permitted")
    _check(isinstance(body.get("model"), str) and bool(body["model"]), "model: Field required")
    _check(
        _is_int(body.get("max_tokens")) and body["max_tokens"] >= 1,
        "max_tokens: Field required",
    )
    system = body.get("system", "")
    if isinstance(system, list):
        for k, block in enumerate(system):
            _check_block(block, f"system.{k}", inner_types=("text",))
    else:
        _check(isinstance(system, str), "system: Input should be a string or text blocks")
    _check_messages(body.get("messages"))
    _check_tools(body)
    _check_sampling(body)


# ---------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class _Plan:
    words: list[str]
    tool: dict[str, Any] | None
    output_tokens: int
    stop_reason: str


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    texts = []
    for block in content if isinstance(content, list) else ():
        if block.get("type") == "tool_result":
            texts.extend(_texts(block.get("content", "")))
        else:
            texts.append(text_of([block]))
    return texts


def _input_tokens(body: dict[str, Any]) -> int:
    texts = _texts(body.get("system", ""))
    for message in body["messages"]:
        texts.extend(_texts(message["content"]))
    return sum(count_words(text) for text in texts)


def _last_user_text(body: dict[str, Any]) -> str:
    user = [m["content"] for m in body["messages"] if m["role"] == "user"]
    return text_of(user[-1]) if user else ""


def _plan(body: dict[str, Any], d: Directives, message_id: int) -> _Plan:
    if d.tool and body.get("tools"):
        name = body["tools"][0]["name"]
        tool = {"type": "tool_use", "id": f"toolu_mock{message_id}", "name": name}
        return _Plan([], {**tool, "input": {"echo": d.text}}, 1, "tool_use")
    words, cap = d.reply_words(), body["max_tokens"]
    if len(words) > cap:
        return _Plan(words[:cap], None, cap, "max_tokens")
    return _Plan(words, None, len(words), "end_turn")


def _usage(body: dict[str, Any], output_tokens: int, d: Directives) -> dict[str, Any]:
    return {
        "input_tokens": d.bad_usage(_input_tokens(body)),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def _message(body: dict[str, Any], d: Directives, message_id: int) -> dict[str, Any]:
    plan = _plan(body, d, message_id)
    content: list[Any] = (
        [plan.tool] if plan.tool else [{"type": "text", "text": " ".join(plan.words)}]
    )
    out: dict[str, Any] = {
        "id": f"msg_mock{message_id}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": plan.stop_reason,
        "stop_sequence": None,
    }
    if not d.no_usage:
        out["usage"] = _usage(body, plan.output_tokens, d)
    match d.malformed:
        case "block-int":
            out["content"] = [1]
        case "text-int" if not plan.tool:
            content[0]["text"] = 5
        case "content-str":
            out["content"] = "hello"
        case "tool-input-str" if plan.tool:
            out["content"] = [{**plan.tool, "input": "x"}]
    return out


def _event(data: dict[str, Any]) -> bytes:
    kind: str = data["type"]
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _delta(delta: dict[str, Any], d: Directives | None = None) -> bytes:
    event = {"type": "content_block_delta", "index": 0, "delta": delta}
    if d is not None and d.malformed == "text-int":
        delta["text"] = 5
    if d is not None and d.malformed == "index-str":
        event["index"] = "0"
    return _event(event)


async def _stream(body: dict[str, Any], d: Directives, message_id: int) -> AsyncIterator[bytes]:
    plan = _plan(body, d, message_id)
    start: dict[str, Any] = {
        "id": f"msg_mock{message_id}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
    }
    if not d.no_usage:
        start["usage"] = _usage(body, 1, d)  # as the real API: a provisional output count
    yield _event({"type": "message_start", "message": start})
    if plan.tool:
        block = {**plan.tool, "input": {}}
        yield _event({"type": "content_block_start", "index": 0, "content_block": block})
        yield _event({"type": "ping"})
        arguments = orjson.dumps(plan.tool["input"]).decode()
        half = len(arguments) // 2
        for piece in ("", arguments[:half], arguments[half:]):
            yield _delta({"type": "input_json_delta", "partial_json": piece})
    else:
        text_block: Any = 1 if d.malformed == "block-int" else {"type": "text", "text": ""}
        yield _event({"type": "content_block_start", "index": 0, "content_block": text_block})
        yield _event({"type": "ping"})
        for i, word in enumerate(plan.words):
            if d.cut and i == 2:
                raise ConnectionResetError("mock cut the stream")
            if d.halt is not None and i == d.halt:
                return
            text = {"type": "text_delta", "text": word if i == 0 else " " + word}
            yield _delta(text, d if i == 0 else None)
    yield _event({"type": "content_block_stop", "index": 0})
    finish: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": plan.stop_reason, "stop_sequence": None},
    }
    if not d.no_usage:
        finish["usage"] = {"output_tokens": plan.output_tokens}
    yield _event(finish)
    yield _event({"type": "message_stop"})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    kind = _ERROR_TYPES.get(status, "api_error")
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _directed_error(status: int, key: str, d: Directives) -> Response:
    message = f"mock failure {status}"
    if status == 401:  # echo the key, as upstreams do: the gateway must scrub it
        message += f": invalid x-api-key {quoted_key(key, d.key_form)}"
    headers = {"retry-after": "1"} if status == 429 else None
    return _error(status, message, headers)


def _refusal(request: Request, raw: bytes) -> tuple[Response | None, Any]:
    """The body, or the error answer the real API would give the request."""
    if not request.headers.get("x-api-key"):
        return _error(401, "x-api-key header is required"), None
    if not request.headers.get("anthropic-version"):
        return _error(400, "anthropic-version: header is required"), None
    try:
        body = orjson.loads(raw)
        validate(body)
    except orjson.JSONDecodeError:
        return _error(400, "There was an error parsing the body as JSON"), None
    except Invalid as exc:
        return _error(400, str(exc)), None
    return None, body


async def messages(request: Request) -> Response:
    raw = await request.body()
    try:
        recorded_body: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        recorded_body = raw.decode("utf-8", "replace")
    remember(request, recorded_body)
    refusal, body = _refusal(request, raw)
    if refusal is not None:
        return refusal
    d = parse(_last_user_text(body))
    if d.sleep_s:
        await asyncio.sleep(d.sleep_s)
    if d.status:
        return _directed_error(d.status, request.headers.get("x-api-key", ""), d)
    if d.garbage:
        return Response(b"<html>not json", media_type="text/html")
    message_id = next(_ids)
    if body.get("stream") and not d.as_json:
        return StreamingResponse(_stream(body, d, message_id), media_type="text/event-stream")
    return Response(orjson.dumps(_message(body, d, message_id)), media_type="application/json")


def create_app() -> Starlette:
    return recording_app([Route("/v1/messages", messages, methods=["POST"])])
