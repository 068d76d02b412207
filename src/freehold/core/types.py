"""Request and result types shared by every stage.

``ChatRequest`` validates the OpenAI chat-completions body strictly (no type coercion) and
keeps unknown fields, so provider-specific parameters pass through untouched.
Results and stream chunks stay OpenAI-format dicts: providers translate into that shape
once, and the API relays it without re-modelling it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=False)


class ToolCallFunction(_Open):
    name: str
    arguments: str


class ToolCall(_Open):
    id: str
    type: Literal["function"] = "function"
    function: ToolCallFunction


class Message(_Open):
    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class FunctionDef(_Open):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Open):
    type: Literal["function"]
    function: FunctionDef


class StreamOptions(_Open):
    include_usage: bool = False


OnFail = Literal["annotate", "error", "repair", "escalate"]


class FreeholdOptions(BaseModel):
    """freehold's own part of a request (``extra_body={"freehold": {...}}``); never sent
    upstream."""

    model_config = ConfigDict(extra="forbid", strict=True)

    validate_: list[dict[str, Any]] = Field(default_factory=list, alias="validate")
    on_fail: OnFail | None = None
    max_repairs: int | None = Field(default=None, ge=0, le=5)


#: The longest model name a request may carry (longer names are refused, never echoed whole).
MAX_MODEL_NAME = 256
#: The largest output cap a request may ask for: no model generates this much in one answer,
#: and every worst case computed from it stays exact in budget arithmetic.
MAX_OUTPUT_TOKENS = 2**24
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class ChatRequest(_Open):
    """The body of ``POST /v1/chat/completions``."""

    model: str = Field(min_length=1, max_length=MAX_MODEL_NAME)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    stop: str | list[str] | None = None
    seed: int | None = Field(default=None, ge=INT64_MIN, le=INT64_MAX)
    tools: list[Tool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    freehold: FreeholdOptions | None = None

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    @property
    def output_cap(self) -> int | None:
        """The client's cap on generated tokens, whichever of the two names it used."""
        return self.max_completion_tokens or self.max_tokens

    def wire(self) -> dict[str, Any]:
        """The request as the client sent it (fields it set, unknown ones included), less
        freehold's own options."""
        return self.model_dump(exclude_unset=True, exclude={"freehold"})


@dataclass(slots=True)
class Usage:
    """Tokens used; ``compute_s`` is the measured generation time of a local model (what
    energy pricing multiplies by), None for remote models."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    compute_s: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def plus(self, other: Usage) -> Usage:
        """The usage of two calls together (a repaired answer costs both)."""
        compute = None
        if self.compute_s is not None or other.compute_s is not None:
            compute = (self.compute_s or 0.0) + (other.compute_s or 0.0)
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.estimated or other.estimated,
            compute,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(slots=True)
class ChatResult:
    """A whole answer: the OpenAI ``chat.completion`` object and its usage."""

    body: dict[str, Any]
    usage: Usage


@dataclass(slots=True)
class Chunk:
    """One ``chat.completion.chunk`` object; ``usage`` is set on the chunk that reports it."""

    data: dict[str, Any]
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """One validator's judgement of one answer."""

    validator: str
    passed: bool
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "validator": self.validator,
            "passed": self.passed,
            "reason": self.reason,
            "details": self.details,
        }


#: The largest token count an upstream may report for one field of one answer; a larger
#: one is not believed (usage is then estimated), so no cost can overflow or go negative.
MAX_REPORTED_TOKENS = 10**9


def token_count(value: Any) -> int | None:
    """``value`` as a reported token count: an int (not a bool) from 0 to
    ``MAX_REPORTED_TOKENS``, else None."""
    if type(value) is int and 0 <= value <= MAX_REPORTED_TOKENS:
        return value
    return None


_JSON_KINDS: dict[type, str] = {
    type(None): "null",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "an object",
}


def describe_json(value: Any) -> str:
    """What kind of JSON value ``value`` is, for a message: ``an integer``, ``null``, …"""
    return _JSON_KINDS.get(type(value), type(value).__name__)


def count_problem(field: str, value: Any) -> str:
    """Why a reported token count is not believed, naming its field (for a log line)."""
    shown = str(value) if type(value) is int else describe_json(value)
    return f"{field} is {shown}, expected a whole number from 0 to {MAX_REPORTED_TOKENS}"


def check_openai_usage(raw: Any) -> tuple[Usage | None, str | None]:
    """An OpenAI-format ``usage`` object as (usage, problem): (None, None) when absent,
    (None, what is wrong) when present but not believable (not an object, or a count that
    is missing, not an int, negative or above ``MAX_REPORTED_TOKENS``)."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        return None, f"usage is {describe_json(raw)}, expected an object"
    counts = []
    for name in ("prompt_tokens", "completion_tokens"):
        if name not in raw:
            return None, f"usage.{name} is missing"
        count = token_count(raw[name])
        if count is None:
            return None, count_problem(f"usage.{name}", raw[name])
        counts.append(count)
    total = raw.get("total_tokens")
    if total is not None and token_count(total) is None:
        return None, count_problem("usage.total_tokens", total)
    return Usage(counts[0], counts[1]), None
