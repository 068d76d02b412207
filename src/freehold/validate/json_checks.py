"""Checks that an answer is JSON, and that it satisfies a JSON Schema (draft 2020-12).

Spec keys (besides ``type``):

- ``json``: ``allow``: ``object``, ``array`` or ``any`` (default); plus the limits below.
- ``json_schema``: ``schema`` (required; checked against the 2020-12 meta-schema when the
  spec is built); ``formats`` (default false: ``format`` is an annotation, as the draft
  says; true checks the formats the ``jsonschema`` library knows); ``timeout_s`` (default
  1.0: the bound on validating one answer); plus the limits below.
- limits, both types: ``strip_fences`` (default true: an answer that is exactly one fenced
  block, plain or ``json``, is judged by the block's body); ``max_chars`` (default
  1,000,000); ``max_depth`` (default 200 levels of nesting).

Answers are untrusted and schemas may come from a request, so every step is bounded: the
size and nesting of the answer and the length of its numbers are limited; remote ``$ref``
targets are never fetched; every keyword checks a deadline and the stack's headroom (a
long ``$ref`` chain fails the answer instead of overflowing); schema patterns are vetted
when the spec is built and run on the ``regex`` engine with the time left as their
timeout; ``uniqueItems`` hashes instead of comparing pairs; ``unevaluated*`` keywords, which
compare pairs, check at most 1,000 members, and are refused next to ``patternProperties``
(whose patterns they would run unbounded). Nothing in an answer is executed.

:func:`implied_validators` turns a request's ``response_format`` into the specs that check
it, so a ``json_schema`` response format is verified without being asked for twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate, islice
from typing import Any, Self

import referencing
import referencing.exceptions
from jsonschema import (
    Draft202012Validator,
    SchemaError,
)

from freehold.core.types import ChatRequest, Verdict
from freehold.validate.base import Answer, SpecError
from freehold.validate.registry import SpecReader
from freehold.validate.schema_bounds import (
    DEADLINE,
    TOO_DEEP,
    Problem,
    bounded_validator,
    json_kind,
)
from freehold.validate.text_checks import compile_pattern

MAX_CHARS = 1_000_000
MAX_DEPTH = 200
#: Longest number literal accepted (CPython's own limit for ``int()`` of a decimal string).
MAX_NUMBER_CHARS = 4300
REASON_ERRORS = 3
DETAIL_ERRORS = 20
_LIMIT_KEYS = ("strip_fences", "max_chars", "max_depth")
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRejected(ValueError):
    """The answer is not acceptable JSON; the message says why."""


# ---- bounded parsing --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonLimits:
    strip_fences: bool = True
    max_chars: int = MAX_CHARS
    max_depth: int = MAX_DEPTH

    @classmethod
    def read(cls, reader: SpecReader) -> Self:
        return cls(
            reader.boolean("strip_fences", True),
            reader.count("max_chars", MAX_CHARS, low=1),
            reader.count("max_depth", MAX_DEPTH, low=1, high=500),
        )


def strip_fence(text: str) -> str:
    """The body of ``text`` when it is exactly one fenced block (plain or ``json``)."""
    stripped = text.strip()
    if len(stripped) < 6 or not stripped.startswith("```") or not stripped.endswith("```"):
        return text
    header, newline, body = stripped[3:-3].partition("\n")
    if not newline or header.strip().lower() not in ("", "json"):
        return text
    if any(line.lstrip().startswith("```") for line in body.split("\n")):
        return text  # more than one block
    return body


def load_json(text: str, limits: JsonLimits | None = None) -> Any:
    """``text`` parsed as strict JSON within ``limits``; JsonRejected says why not."""
    limits = limits or JsonLimits()
    if len(text) > limits.max_chars:
        size = f"answer is {len(text)} characters, over the limit of {limits.max_chars}"
        raise JsonRejected(size)
    body = strip_fence(text) if limits.strip_fences else text
    try:
        value = json.loads(
            body, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JsonRejected(f"not valid JSON: {exc.msg} at {where}") from None
    except RecursionError:
        raise JsonRejected(f"JSON nested deeper than {limits.max_depth} levels") from None
    except ValueError as exc:
        raise JsonRejected(f"not valid JSON: {exc}") from None
    if body.count("[") + body.count("{") > limits.max_depth and depth(body) > limits.max_depth:
        raise JsonRejected(f"JSON nested deeper than {limits.max_depth} levels")
    return value


def depth(valid_json: str) -> int:
    """How deeply valid JSON text nests (brackets inside strings do not count)."""
    unescaped = valid_json.replace("\\\\", "").replace('\\"', "")  # escapes occur in strings
    skeleton = "".join(unescaped.split('"')[::2])  # what lies outside strings
    return max(accumulate(map(_STEP.__getitem__, filter(_STEP.__contains__, skeleton))), default=0)


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number has more than {MAX_NUMBER_CHARS} digits")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number has more than {MAX_NUMBER_CHARS} characters")
    return float(literal)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# ---- json -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonValidator:
    """The answer parses as JSON (of the allowed kind)."""

    limits: JsonLimits = field(default_factory=JsonLimits)
    allow: str = "any"
    name = "json"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("allow", *_LIMIT_KEYS))
        allow = reader.one_of("allow", "any", ("object", "array", "any"))
        return cls(JsonLimits.read(reader), allow)

    def check(self, answer: Answer) -> Verdict:
        try:
            value = load_json(answer.text, self.limits)
        except JsonRejected as exc:
            return Verdict(self.name, False, str(exc))
        kind = json_kind(value)
        details = {"kind": kind}
        if self.allow not in ("any", kind):
            return Verdict(self.name, False, f"JSON is a {kind}, not an {self.allow}", details)
        return Verdict(self.name, True, f"valid JSON ({kind})", details)


# ---- json_schema ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonSchemaValidator:
    """The answer is JSON that satisfies ``schema`` (draft 2020-12)."""

    schema: Mapping[str, Any] | bool
    checker: Any
    limits: JsonLimits = field(default_factory=JsonLimits)
    timeout_s: float = 1.0
    name = "json_schema"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("schema", "formats", "timeout_s", *_LIMIT_KEYS))
        schema = reader.raw("schema")
        if not isinstance(schema, Mapping | bool):
            raise SpecError(f"schema: must be a JSON Schema (an object), not {schema!r:.80}")
        _check_schema(schema)
        formats = reader.boolean("formats", False)
        checker = bounded_validator()(
            schema,
            registry=referencing.Registry(),  # local references only: nothing is fetched
            format_checker=Draft202012Validator.FORMAT_CHECKER if formats else None,
        )
        timeout_s = reader.number("timeout_s", 1.0, low=0.0, high=30.0)
        return cls(schema, checker, JsonLimits.read(reader), timeout_s)

    def check(self, answer: Answer) -> Verdict:
        try:
            value = load_json(answer.text, self.limits)
        except JsonRejected as exc:
            return Verdict(self.name, False, str(exc), {"errors": [_error("$", str(exc))]})
        try:
            errors = self._errors(value)
        except Problem as exc:
            return Verdict(self.name, False, str(exc), {"errors": []})
        if not errors:
            return Verdict(self.name, True, "answer satisfies the schema", {"errors": []})
        found = [_error(e.json_path, e.message) for e in errors[:DETAIL_ERRORS]]
        count = f"{DETAIL_ERRORS}+" if len(errors) > DETAIL_ERRORS else str(len(errors))
        quoted = "; ".join(f"{e['path']}: {e['message']}" for e in found[:REASON_ERRORS])
        more = "; …" if len(errors) > REASON_ERRORS else ""
        plural = "" if len(errors) == 1 else "s"
        reason = f"{count} schema error{plural}: {quoted}{more}"
        return Verdict(self.name, False, reason, {"errors": found})

    def _errors(self, value: Any) -> list[Any]:
        token = DEADLINE.set(time.monotonic() + self.timeout_s)
        try:
            return list(islice(self.checker.iter_errors(value), DETAIL_ERRORS + 1))
        except referencing.exceptions.Unresolvable as exc:
            raise Problem(f"schema problem: a $ref cannot be resolved ({exc})") from None
        except BaseException as exc:
            # The stack guard in schema_bounds stops validation short of the recursion limit; this
            # is the backstop. A RecursionError raised inside ``referencing``'s Rust data
            # structures comes back as pyo3's PanicException, a BaseException.
            if isinstance(exc, RecursionError) or type(exc).__name__ == "PanicException":
                raise Problem(TOO_DEEP) from None
            raise
        finally:
            DEADLINE.reset(token)


def _error(path: str, message: str) -> dict[str, str]:
    return {"path": path, "message": message if len(message) <= 200 else message[:199] + "…"}


def _check_schema(schema: Mapping[str, Any] | bool) -> None:
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise SpecError(f"schema: {exc.message:.300} (at {exc.json_path})") from None
    except RecursionError:
        raise SpecError("schema: nested too deeply") from None
    keys, patterns = _survey(schema)
    if "unevaluatedProperties" in keys and "patternProperties" in keys:
        raise SpecError(
            "schema: unevaluatedProperties together with patternProperties is not supported "
            "(its patterns could not be bounded in time)"
        )
    for pattern in patterns:
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            raise SpecError(f"schema: pattern {pattern!r:.80} refused: {exc}") from None


def _survey(schema: object) -> tuple[set[str], list[str]]:
    """Every keyword used anywhere in ``schema``, and its patterns (``pattern`` values and
    ``patternProperties`` keys); values of ``const``, ``enum``, ``default`` and ``examples``
    are data, not schema, and are skipped."""
    keys: set[str] = set()
    patterns: list[str] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        if not isinstance(node, Mapping):
            continue
        keys.update(key for key in node if isinstance(key, str))
        if isinstance(node.get("pattern"), str):
            patterns.append(node["pattern"])
        if isinstance(node.get("patternProperties"), Mapping):
            patterns.extend(key for key in node["patternProperties"] if isinstance(key, str))
        stack.extend(value for key, value in node.items() if key not in _DATA_KEYWORDS)
    return keys, patterns


def schema_from_response_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The schema of a ``{"type": "json_schema", "json_schema": {"schema": ...}}`` response
    format, else None."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else None


def implied_validators(request: ChatRequest) -> list[dict[str, Any]]:
    """Specs that check what the request's ``response_format`` asks for: its schema, or for
    ``json_object`` that the answer is a JSON object."""
    response_format = request.response_format
    schema = schema_from_response_format(response_format)
    if schema is not None:
        return [{"type": "json_schema", "schema": schema}]
    if isinstance(response_format, dict) and response_format.get("type") == "json_object":
        return [{"type": "json", "allow": "object"}]
    return []
