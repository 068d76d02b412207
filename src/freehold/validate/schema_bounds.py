"""JSON Schema draft 2020-12 validation that always ends: every keyword checks a deadline
and the stack's headroom, and the keywords that could run unbounded (``pattern``,
``patternProperties``, ``additionalProperties``, ``uniqueItems``, ``unevaluated*``) are
replaced by bounded versions. Used by :mod:`freehold.validate.json_checks`.
"""

from __future__ import annotations

import functools
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend

from freehold.validate.text_checks import compile_pattern

#: ``unevaluatedProperties``/``unevaluatedItems`` compare pairwise; beyond this many members
#: an instance fails them instead of being checked.
MAX_UNEVALUATED = 1000
#: Frames left unused below the recursion limit when validation stops as too deep.
STACK_HEADROOM = 200
TOO_DEEP = "answer or schema nests too deeply to check"
_KINDS: tuple[tuple[type, str], ...] = (
    (dict, "object"),
    (list, "array"),
    (str, "string"),
    (bool, "boolean"),
    (int, "number"),
    (float, "number"),
)


def json_kind(value: Any) -> str:
    """The JSON type name of a parsed value."""
    for kind, name in _KINDS:
        if isinstance(value, kind):
            return name
    return "null"


DEADLINE: ContextVar[float] = ContextVar("freehold_json_schema_deadline", default=math.inf)
Keyword = Callable[[Any, Any, Any, Any], Iterator[Any]]


class Problem(Exception):
    """Validation could not finish; the message is the verdict's reason."""


@functools.cache
def bounded_validator() -> Any:
    """Draft 2020-12 with every keyword under the deadline and the unbounded ones replaced."""
    keywords: dict[str, Keyword] = dict(Draft202012Validator.VALIDATORS)
    keywords |= {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "uniqueItems": _unique_items,
        "unevaluatedProperties": _few_members(keywords["unevaluatedProperties"]),
        "unevaluatedItems": _few_members(keywords["unevaluatedItems"]),
    }
    return extend(Draft202012Validator, {k: _on_time(f) for k, f in keywords.items()})  # type: ignore[no-untyped-call]


def _on_time(keyword: Keyword) -> Keyword:
    def bounded(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if time.monotonic() > DEADLINE.get():
            raise Problem("schema validation timed out")
        if _near_recursion_limit():
            raise Problem(TOO_DEEP)
        yield from keyword(validator, value, instance, schema)

    return bounded


def _near_recursion_limit() -> bool:
    """Whether the stack is within ``STACK_HEADROOM`` frames of the recursion limit (asked of
    the frame chain, which costs about a microsecond)."""
    try:
        sys._getframe(sys.getrecursionlimit() - STACK_HEADROOM)
    except ValueError:
        return False
    return True


def _few_members(keyword: Keyword) -> Keyword:
    def guarded(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, dict | list) and len(instance) > MAX_UNEVALUATED:
            yield ValidationError(
                f"has {len(instance)} members; unevaluated members are checked "
                f"for at most {MAX_UNEVALUATED}"
            )
            return
        yield from keyword(validator, value, instance, schema)

    return guarded


def _search(pattern: str, text: str) -> bool:
    left = DEADLINE.get() - time.monotonic()
    if left <= 0:
        raise Problem("schema validation timed out")
    try:
        compiled = compile_pattern(pattern)
    except ValueError as exc:
        raise Problem(f"schema problem: pattern {pattern!r:.80} refused: {exc}") from None
    try:
        found = compiled.search(text, timeout=None if math.isinf(left) else left)
    except TimeoutError:
        raise Problem(f"schema validation timed out (pattern {pattern!r:.80})") from None
    return found is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r:.80} does not match {pattern!r:.80}")


def _pattern_properties(
    validator: Any, patterns: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    declared = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [
        key
        for key in instance
        if key not in declared and not any(_search(pattern, key) for pattern in patterns)
    ]
    if validator.is_type(additional, "object"):
        for key in extras:
            yield from validator.descend(instance[key], additional, path=key)
    elif additional is False and extras:
        named = ", ".join(repr(key)[:40] for key in extras[:5])
        more = f" and {len(extras) - 5} more" if len(extras) > 5 else ""
        yield ValidationError(f"additional properties are not allowed ({named}{more})")


def _unique_items(validator: Any, unique: bool, instance: Any, schema: Any) -> Iterator[Any]:
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for index, item in enumerate(instance):
        key = _hashable(item)
        if key in seen:
            yield ValidationError(f"has non-unique elements (item {index} repeats an earlier one)")
            return
        seen.add(key)


def _hashable(value: Any) -> Any:
    """A hashable stand-in equal for equal JSON values (1 and 1.0 equal, true and 1 not)."""
    if isinstance(value, dict):
        return ("o", frozenset((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_hashable(v) for v in value))
    return (json_kind(value), value)
