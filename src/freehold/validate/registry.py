"""Validators from specs: ``{"type": ..., ...}`` → a built :class:`Validator`.

The built-in types are the ``BUILTIN`` table of :mod:`freehold.validate.base`, imported by
name the first time they are used. Every problem with a spec is a :class:`SpecError` whose
message starts with the key at fault (``pattern: …``); :func:`build_all` prefixes the index
(``[1].pattern: …``) so a caller can prefix where the list came from
(``models.m.validators[1].pattern: …``). :class:`SpecReader` is the shared way validators
read their keys, so every spec is checked the same way (unknown keys are errors: a typo
must not silently turn a check off).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from freehold.core.importer import import_string
from freehold.core.types import Verdict
from freehold.validate.base import BUILTIN, Answer, SpecError, Validator

#: How many distinct per-request specs stay built.
CACHE_SIZE = 256
_KEYED = re.compile(r"[A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*: ")


def known_types() -> list[str]:
    return sorted(BUILTIN)


def build(spec: Mapping[str, Any]) -> Validator:
    """The validator that ``spec`` describes; SpecError says which key is wrong and why."""
    if not isinstance(spec, Mapping):
        raise SpecError(f"a validator spec must be a mapping with a type, not {_kind(spec)}")
    kind = spec.get("type")
    known = ", ".join(known_types())
    if kind is None:
        raise SpecError(f"type: required key is missing; known types: {known}")
    if not isinstance(kind, str) or kind not in BUILTIN:
        raise SpecError(f"type: unknown validator {kind!r}; known types: {known}")
    try:
        factory = import_string(BUILTIN[kind])
    except (ImportError, AttributeError) as exc:
        raise SpecError(f"type: validator {kind!r} is unavailable ({exc})") from None
    validator: Validator = factory.from_spec(spec)
    return validator


def build_all(specs: Iterable[Mapping[str, Any]]) -> list[Validator]:
    """Every spec built, in order; a SpecError's message starts with the spec's index."""
    if isinstance(specs, str | bytes | Mapping):
        raise SpecError(f"validators must be a list of specs, not {_kind(specs)}")
    built = []
    for index, spec in enumerate(specs):
        try:
            built.append(build(spec))
        except SpecError as exc:
            message = str(exc)
            joint = "." if _KEYED.match(message) else ": "
            raise SpecError(f"[{index}]{joint}{message}") from None
    return built


@functools.lru_cache(maxsize=CACHE_SIZE)
def build_cached(spec_json: str) -> Validator:
    """:func:`build` for a spec given as JSON text, the built validator kept for reuse
    (validators are immutable, so requests that ask for the same check share one)."""
    try:
        spec = json.loads(spec_json)
    except (ValueError, RecursionError):
        raise SpecError("a validator spec must be a JSON object") from None
    return build(spec)


def run_all(validators: Iterable[Validator], answer: Answer) -> list[Verdict]:
    """Every validator's verdict on ``answer``; never raises (a crash is a failed verdict)."""
    verdicts = []
    for validator in validators:
        try:
            verdicts.append(validator.check(answer))
        except Exception as exc:  # a validator bug must not take the request down
            name = getattr(validator, "name", type(validator).__name__)
            reason = f"validator crashed: {type(exc).__name__}: {exc}"
            verdicts.append(Verdict(str(name), False, reason[:500]))
    return verdicts


def _kind(value: object) -> str:
    return f"a {type(value).__name__}"


class SpecReader:
    """Typed access to one spec's keys; any key not asked for by name is an error.

    >>> reader = SpecReader({"type": "length", "max_chars": 5}, ("min_chars", "max_chars"))
    >>> reader.integer("max_chars")
    5
    """

    def __init__(self, spec: Mapping[str, Any], known: Sequence[str]) -> None:
        if not isinstance(spec, Mapping):
            raise SpecError(f"a validator spec must be a mapping, not {_kind(spec)}")
        allowed = {"type", *known}
        for key in spec:
            if key not in allowed:
                listed = ", ".join(known) or "none"
                raise SpecError(f"{key}: unknown key; this validator's keys are: {listed}")
        self.spec = spec

    def has(self, key: str) -> bool:
        return self.spec.get(key) is not None

    def raw(self, key: str) -> Any:
        return self.spec.get(key)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.spec.get(key, default)
        if not isinstance(value, bool):
            raise SpecError(f"{key}: must be true or false, not {value!r}")
        return value

    def integer(
        self, key: str, default: int | None = None, low: int = 0, high: int | None = None
    ) -> int | None:
        value = self.spec.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{key}: must be a whole number, not {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            raise SpecError(f"{key}: must be {bounds}, not {value}")
        return value

    def count(self, key: str, default: int, low: int = 0, high: int | None = None) -> int:
        """:meth:`integer` for a key that has a default."""
        value = self.integer(key, default, low, high)
        return default if value is None else value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        """A float in ``(low, high]``."""
        value = self.spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{key}: must be a number, not {value!r}")
        if not low < value <= high:
            raise SpecError(f"{key}: must be above {low:g} and at most {high:g}, not {value}")
        return float(value)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.spec.get(key, default)
        if not isinstance(value, str) or not value:
            raise SpecError(f"{key}: must be a non-empty string, not {value!r}")
        return value

    def one_of(self, key: str, default: str, allowed: Sequence[str]) -> str:
        value = self.spec.get(key, default)
        if value not in allowed:
            raise SpecError(f"{key}: must be one of {', '.join(allowed)}, not {value!r}")
        return str(value)

    def texts(self, key: str) -> list[str]:
        """A non-empty list of non-empty strings (a lone string counts as a list of one)."""
        value = self.spec.get(key)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise SpecError(f"{key}: must be a non-empty list of strings, not {value!r}")
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise SpecError(f"{key}[{index}]: must be a non-empty string, not {item!r}")
        return items
