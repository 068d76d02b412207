"""The validation stage: which validators apply to a request, what an answer looks like to
them, how a failed answer is repaired, and how a whole answer is replayed as a stream.

Validators come from three places, in this order: the model's config (``validators``), the
request's ``response_format`` (a ``json_schema`` is checked automatically, ``json_object``
must parse), and the request itself (``extra_body={"freehold": {"validate": [...]}}``).
``on_fail`` and ``max_repairs`` come from the request, else the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from freehold.config.schema import ModelSettings
from freehold.core.errors import InvalidRequest
from freehold.core.types import ChatRequest, ChatResult, Message, OnFail, Verdict
from freehold.validate.base import Answer, SpecError, Validator
from freehold.validate.json_checks import implied_validators
from freehold.validate.registry import build_all, build_cached

#: What a verdict keeps in the ledger: no details (they may quote the answer).
LEDGER_REASON_CHARS = 200


@dataclass(frozen=True, slots=True)
class CascadeStep:
    """Where a candidate stands in a cascade route."""

    validators: tuple[Validator, ...]
    last: bool
    max_repairs: int


@dataclass(frozen=True, slots=True)
class Checks:
    validators: tuple[Validator, ...]
    on_fail: OnFail
    max_repairs: int
    echo: bool
    """The request carried freehold options: the response reports the verdicts."""


def build_model_validators(model: ModelSettings) -> tuple[Validator, ...]:
    """A model's configured validators, built once at start (SpecError names the key)."""
    try:
        return tuple(build_all(model.validators))
    except SpecError as exc:
        raise SpecError(f"models.{model.name}.validators{exc}") from None


def _request_validators(specs: list[dict[str, Any]], prefix: str) -> list[Validator]:
    built = []
    for index, spec in enumerate(specs):
        if spec.get("type") == "python":
            raise InvalidRequest(
                "python plug-in validators run operator-installed code; configure them on the "
                "model, not in a request",
                param=f"{prefix}[{index}].type",
            )
        try:
            built.append(build_cached(orjson.dumps(spec, option=orjson.OPT_SORT_KEYS).decode()))
        except SpecError as exc:
            key, _, reason = str(exc).partition(": ")
            param = f"{prefix}[{index}]" + (f".{key}" if reason and key else "")
            raise InvalidRequest(f"Invalid validator: {reason or exc}", param=param) from None
    return built


def checks_for(
    request: ChatRequest,
    model: ModelSettings,
    configured: tuple[Validator, ...],
    *,
    cascade: CascadeStep | None = None,
) -> Checks | None:
    """The checks that apply to ``request`` on ``model``, or None when there are none.

    In a cascade (``cascade`` given) the route's validators come first; a failed answer of
    any candidate but the last is annotated (the cascade escalates it), the last follows
    the request's ``on_fail`` (``escalate`` there means annotate: nothing is left to try).
    """
    options = request.freehold
    implied = _request_validators(implied_validators(request), "response_format")
    asked = _request_validators(options.validate_, "freehold.validate") if options else []
    route_validators = cascade.validators if cascade else ()
    validators = (*route_validators, *configured, *implied, *asked)
    on_fail: OnFail = (options.on_fail if options else None) or model.on_fail
    if cascade is not None:
        if not cascade.last or on_fail == "escalate":
            on_fail = "annotate"
        if not validators:
            return None
        return Checks(validators, on_fail, cascade.max_repairs, echo=options is not None)
    if on_fail == "escalate":
        raise InvalidRequest(
            "on_fail 'escalate' hands a failed answer to the next model of a cascade route; "
            f"{model.name!r} is a single model. Use error, repair or annotate.",
            param="freehold.on_fail",
        )
    if not validators:
        return None
    repairs = options.max_repairs if options and options.max_repairs is not None else None
    return Checks(
        validators,
        on_fail,
        model.max_repairs if repairs is None else repairs,
        echo=options is not None,
    )


def answer_of(result: ChatResult, request: ChatRequest) -> Answer:
    message = _message(result.body)
    calls = tuple(c for c in message.get("tool_calls") or () if isinstance(c, dict))
    content = message.get("content")
    return Answer(
        text=content if isinstance(content, str) else "",
        request=request,
        tool_calls=calls,
        completion_tokens=result.usage.completion_tokens,
    )


def _message(body: dict[str, Any]) -> dict[str, Any]:
    choices = body.get("choices") or [{}]
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    return message if isinstance(message, dict) else {}


def passed(verdicts: list[Verdict]) -> bool:
    return all(v.passed for v in verdicts)


def failure_summary(verdicts: list[Verdict]) -> str:
    return "; ".join(f"{v.validator}: {v.reason}" for v in verdicts if not v.passed)


def repair_request(
    request: ChatRequest, result: ChatResult, verdicts: list[Verdict]
) -> ChatRequest:
    """The same request, plus the failed answer and a user turn saying what was wrong."""
    message = _message(result.body)
    try:
        answer = Message.model_validate(
            {"role": "assistant", "content": message.get("content")}
            | ({"tool_calls": message["tool_calls"]} if message.get("tool_calls") else {})
        )
    except ValidationError:  # a shape freehold does not model (e.g. a custom tool call)
        content = message.get("content")
        answer = Message(role="assistant", content=content if isinstance(content, str) else None)
    problems = "\n".join(f"- {v.validator}: {v.reason}" for v in verdicts if not v.passed)
    feedback = Message(
        role="user",
        content=(
            "Your previous answer failed these checks:\n"
            f"{problems}\n"
            "Answer the original request again, correcting this. Reply with the answer only."
        ),
    )
    return request.model_copy(update={"messages": [*request.messages, answer, feedback]})


def ledger_verdicts(verdicts: list[Verdict]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {"validator": v.validator, "passed": v.passed, "reason": v.reason[:LEDGER_REASON_CHARS]}
        for v in verdicts
    )


def as_chunks(body: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    """A whole answer replayed as ``chat.completion.chunk`` objects (for a stream whose
    answer had to be validated before any of it was sent)."""
    base = {
        "id": body.get("id"),
        "object": "chat.completion.chunk",
        "created": body.get("created", 0),
        "model": body.get("model"),
    }
    chunks = []
    for index, choice in enumerate(body.get("choices") or []):
        message = choice.get("message") or {}
        delta: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
        if message.get("tool_calls"):
            delta["tool_calls"] = [
                {"index": i, **call} for i, call in enumerate(message["tool_calls"])
            ]
        chunks.append(
            {**base, "choices": [{"index": index, "delta": delta, "finish_reason": None}]}
        )
        chunks.append(
            {
                **base,
                "choices": [
                    {"index": index, "delta": {}, "finish_reason": choice.get("finish_reason")}
                ],
            }
        )
    if include_usage:
        chunks.append({**base, "choices": [], "usage": body.get("usage")})
    if "freehold" in body:
        chunks[-1] = {**chunks[-1], "freehold": body["freehold"]}
    return chunks
