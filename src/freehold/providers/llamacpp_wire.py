"""Pure translation for the in-process llama.cpp backend (no I/O): an OpenAI request into
``Llama.create_chat_completion`` arguments, and its answers back with freehold's usage.

- ``response_format`` ``json_object`` (optionally with a ``schema``) and ``json_schema``
  become ``{"type": "json_object", "schema": …}``, which the provider compiles into a
  llama.cpp grammar; ``stop``, ``max_tokens``/``max_completion_tokens`` (else the model's
  ``default_max_tokens``, capped by the context window), ``temperature``, ``top_p``,
  ``seed``, ``presence_penalty`` and ``frequency_penalty`` pass through, and ``logit_bias``
  once checked (token ids, biases from -100 to 100).
- Text parts of a message are joined; ``n`` > 1, ``tools`` and image parts are refused with
  ``UnsupportedParameter`` rather than ignored.
"""

from __future__ import annotations

import re
from typing import Any

from freehold.core.errors import InvalidRequest, UnsupportedParameter
from freehold.core.types import ChatRequest, Message, Usage

_PASSED = ("temperature", "top_p", "seed", "stop", "presence_penalty", "frequency_penalty")


def chat_kwargs(request: ChatRequest, default_max_tokens: int) -> dict[str, Any]:
    if request.n not in (None, 1):
        raise UnsupportedParameter("local llama.cpp models answer one choice (n=1)", param="n")
    if request.tools:
        raise UnsupportedParameter("local llama.cpp models do not take tools", param="tools")
    kwargs: dict[str, Any] = {
        "messages": [_message(m, i) for i, m in enumerate(request.messages)],
        "max_tokens": request.output_cap or default_max_tokens,
    }
    for name in _PASSED:
        value = getattr(request, name, None)
        if value is not None:
            kwargs[name] = value
    extra = request.model_extra or {}
    if extra.get("logit_bias") is not None:
        kwargs["logit_bias"] = logit_bias(extra["logit_bias"])
    response_format = _response_format(request.response_format)
    if response_format is not None:
        kwargs["response_format"] = response_format
    return kwargs


#: a token id as JSON writes it: decimal digits, within llama.cpp's 32-bit ids
_TOKEN_ID = re.compile(r"[0-9]{1,10}")


def logit_bias(value: Any) -> dict[str, float]:
    """``logit_bias`` as OpenAI defines it: token id → a number from -100 to 100. Whether
    each id is in the model's vocabulary is checked where the model is (``check_tokens``)."""
    if not isinstance(value, dict):
        raise InvalidRequest(
            "logit_bias must be an object mapping token ids to numbers", param="logit_bias"
        )
    biases: dict[str, float] = {}
    for key, bias in value.items():
        if not _TOKEN_ID.fullmatch(key):
            raise InvalidRequest(f"logit_bias: {key[:40]!r} is not a token id", param="logit_bias")
        if isinstance(bias, bool) or not isinstance(bias, int | float) or not -100 <= bias <= 100:
            raise InvalidRequest(
                f"logit_bias[{key!r}] must be a number from -100 to 100", param="logit_bias"
            )
        biases[str(int(key))] = float(bias)
    return biases


def check_tokens(biases: dict[str, float], vocabulary: int) -> None:
    """Refuse (400) a ``logit_bias`` naming a token the model does not have."""
    for key in biases:
        if int(key) >= vocabulary:
            raise InvalidRequest(
                f"logit_bias: token {key} is not in this model's vocabulary ({vocabulary} tokens)",
                param="logit_bias",
            )


def _message(message: Message, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": _text(message.content, index)}
    if message.name is not None:
        out["name"] = message.name
    return out


def _text(content: str | list[dict[str, Any]] | None, index: int) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for position, part in enumerate(content):
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise UnsupportedParameter(
                "local llama.cpp models take text parts only",
                param=f"messages[{index}].content[{position}]",
            )
        texts.append(part["text"])
    return "".join(texts)


def _response_format(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None or value.get("type") == "text":
        return None
    kind = value.get("type")
    if kind == "json_object":
        schema = value.get("schema")
        return {"type": "json_object", **({"schema": schema} if schema is not None else {})}
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            raise InvalidRequest(
                "response_format json_schema needs json_schema.schema (an object)",
                param="response_format.json_schema.schema",
            )
        return {"type": "json_object", "schema": spec["schema"]}
    raise InvalidRequest(f"unknown response_format type {kind!r}", param="response_format.type")


def answer(result: dict[str, Any], model: str, usage: Usage) -> dict[str, Any]:
    """llama.cpp's ``chat.completion`` with the served model's name and freehold's usage."""
    result["model"] = model
    result["usage"] = usage.to_dict()
    return result


def chunk(data: dict[str, Any], model: str) -> dict[str, Any]:
    data["model"] = model
    return data


def usage_chunk(
    completion_id: str | None, created: int, model: str, usage: Usage
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage.to_dict(),
    }
