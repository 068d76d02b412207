"""Checks on the answer as text: regex, choice, length, contains and not_contains.

Spec keys (besides ``type``):

- ``regex``: ``pattern``; ``mode`` ``search`` (default) or ``fullmatch``; ``flags``, a list
  of ``IGNORECASE``, ``MULTILINE``, ``DOTALL``, ``VERBOSE``; ``timeout_s`` (default 0.1).
- ``choice``: ``options``, a non-empty list of strings or numbers; ``case_sensitive``
  (default false); ``labels`` (default true: with string options, "B", "(B)", "B.",
  "Answer: B" or "The answer is (B) Paris" pick the second option).
- ``length``: any of ``min_chars``, ``max_chars``, ``min_tokens``, ``max_tokens``.
- ``contains`` / ``not_contains``: ``value`` or ``values``; ``all``; ``case_sensitive``
  (default true). ``contains`` passes when all (``all: true``, its default) or any of the
  values occur; ``not_contains`` is its negation, so by default (``all: false``) it passes
  when none of them occur.

Patterns come from config or from a request, so they are bounded in time and size: they run
on the third-party ``regex`` engine with a timeout, and a pattern whose compiled form would
explode (``(a{65535}){65535}``) is refused before it is compiled (:func:`compile_pattern`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import regex

from freehold.core.tokens import estimate_text_tokens
from freehold.core.types import Verdict
from freehold.validate.base import Answer, SpecError
from freehold.validate.registry import SpecReader

#: Longest pattern accepted, in characters.
MAX_PATTERN_CHARS = 10_000
#: Largest :func:`pattern_size` accepted (compiling takes about 1 ms per 3,000).
MAX_PATTERN_SIZE = 100_000
FLAGS: dict[str, int] = {
    "IGNORECASE": regex.IGNORECASE,
    "MULTILINE": regex.MULTILINE,
    "DOTALL": regex.DOTALL,
    "VERBOSE": regex.VERBOSE,
}
_COUNTED = re.compile(r"\{(\d*)(?:,(\d*))?\}")
_QUOTE = 80  # characters of an answer or pattern quoted in a reason


def _short(text: str, limit: int = _QUOTE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- bounded patterns -------------------------------------------------------------------


def pattern_size(pattern: str, comments: bool = False) -> int:
    """An upper estimate of the atoms ``pattern`` unrolls to when compiled: a counted repeat
    ``{m,n}`` multiplies what it repeats by ``max(m, n)``, so nesting multiplies. With
    ``comments``, ``#`` starts a comment (verbose mode)."""
    frames = [[0, 0]]  # per open group: [size of finished atoms, size of the last atom]
    index = 0
    while index < len(pattern):
        index = _step(pattern, index, frames, comments)
    return min(sum(done + last for done, last in frames), MAX_PATTERN_SIZE + 1)


def _step(pattern: str, index: int, frames: list[list[int]], comments: bool) -> int:
    char, top = pattern[index], frames[-1]
    if pattern.startswith("(?#", index):
        end = pattern.find(")", index)
        return len(pattern) if end < 0 else end + 1
    if comments and char == "#":
        end = pattern.find("\n", index)
        return len(pattern) if end < 0 else end + 1
    if char == "(":
        frames.append([0, 0])
        return index + 1
    if char == ")" and len(frames) > 1:
        done, last = frames.pop()
        _atom(frames[-1], done + last)
        return index + 1
    if char == "|":
        _atom(top, 0)
        return index + 1
    counted = _COUNTED.match(pattern, index) if char == "{" else None
    if counted is not None and (counted[1] or counted[2]):
        top[1] = min(top[1] * _repeats(counted), MAX_PATTERN_SIZE + 1)
        return counted.end()
    _atom(top, 1)
    if char == "[":
        return _class_end(pattern, index)
    return index + (2 if char == "\\" else 1)


def _atom(frame: list[int], size: int) -> None:
    frame[0] = min(frame[0] + frame[1], MAX_PATTERN_SIZE + 1)
    frame[1] = size


def _repeats(counted: re.Match[str]) -> int:
    bounds = [text for text in (counted[1], counted[2]) if text]
    if any(len(text) > 9 for text in bounds):
        return MAX_PATTERN_SIZE + 1
    return max(1, *(int(text) for text in bounds))


def _class_end(pattern: str, index: int) -> int:
    index += 1
    if pattern.startswith("^", index):
        index += 1
    if pattern.startswith("]", index):
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str, flags: int = 0) -> Any:
    """``pattern`` compiled by the ``regex`` engine; ValueError says why it was refused."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"longer than {MAX_PATTERN_CHARS} characters")
    size = pattern_size(pattern)
    if "#" in pattern:  # verbose comments may hide structure: take the larger reading
        size = max(size, pattern_size(pattern, comments=True))
    if size > MAX_PATTERN_SIZE:
        raise ValueError(f"its counted repeats unroll to more than {MAX_PATTERN_SIZE} steps")
    try:
        return regex.compile(pattern, flags)
    except regex.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    except RecursionError:
        raise ValueError("groups nested too deeply") from None


def regex_flags(value: Any) -> int:
    """The ``flags`` key: a list of flag names (a lone name counts as a list of one)."""
    names = [value] if isinstance(value, str) else value
    if names is None:
        return 0
    if not isinstance(names, list):
        raise SpecError(f"flags: must be a list of flag names, not {value!r}")
    combined = 0
    for index, name in enumerate(names):
        flag = FLAGS.get(name.upper()) if isinstance(name, str) else None
        if flag is None:
            known = ", ".join(FLAGS)
            raise SpecError(f"flags[{index}]: unknown flag {name!r}; known flags: {known}")
        combined |= flag
    return combined


# ---- regex ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegexValidator:
    """The answer matches ``pattern`` (anywhere, or as a whole with ``mode: fullmatch``)."""

    pattern: str
    compiled: Any
    fullmatch: bool = False
    timeout_s: float = 0.1
    name = "regex"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("pattern", "mode", "flags", "timeout_s"))
        pattern = reader.text("pattern")
        mode = reader.one_of("mode", "search", ("search", "fullmatch"))
        try:
            compiled = compile_pattern(pattern, regex_flags(reader.raw("flags")))
        except ValueError as exc:
            if isinstance(exc, SpecError):
                raise
            raise SpecError(f"pattern: {exc}") from None
        timeout_s = reader.number("timeout_s", 0.1, low=0.0, high=10.0)
        return cls(pattern, compiled, mode == "fullmatch", timeout_s)

    def check(self, answer: Answer) -> Verdict:
        method = self.compiled.fullmatch if self.fullmatch else self.compiled.search
        mode = "fullmatch" if self.fullmatch else "search"
        try:
            found = method(answer.text, timeout=self.timeout_s)
        except TimeoutError:
            details = {"mode": mode, "timeout_s": self.timeout_s}
            return Verdict(self.name, False, "regex timed out", details)
        if found is None:
            how = "does not fully match" if self.fullmatch else "has no match for"
            reason = f"answer {how} /{_short(self.pattern)}/"
            return Verdict(self.name, False, reason, {"mode": mode})
        details = {"mode": mode, "match": _short(found.group(0), 200), "span": list(found.span())}
        return Verdict(self.name, True, f"matches /{_short(self.pattern)}/", details)


# ---- choice -----------------------------------------------------------------------------

#: Stripped from both ends of an answer and of every option before they are compared.
EDGE = " \"'`“”‘’«»*_.,;:!?()[]{}"
_PREFIX = re.compile(
    r"(?:the\s+)?(?:(?:final|correct|best|right)\s+)?(?:answer|choice|option)\b"
    r"(?:\s+is)?\s*[:\-]?\s*",
    re.IGNORECASE,
)
_LABELLED = re.compile(r"([A-Za-z])(?:[).:\]]\s*(.+))?", re.DOTALL)


def normalise(text: str, case_sensitive: bool = False) -> str:
    """Whitespace collapsed, quotes and punctuation stripped from the ends, case folded
    unless ``case_sensitive``."""
    stripped = " ".join(text.split()).strip(EDGE)
    return stripped if case_sensitive else stripped.casefold()


@dataclass(frozen=True, slots=True)
class ChoiceValidator:
    """The answer is one of ``options``, by its text or, for string options, its letter."""

    options: tuple[str | int | float, ...]
    normalised: tuple[str, ...]
    case_sensitive: bool = False
    labels: bool = True
    name = "choice"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("options", "case_sensitive", "labels"))
        options = reader.raw("options")
        if not isinstance(options, list) or not options:
            raise SpecError(f"options: must be a non-empty list, not {options!r}")
        case_sensitive = reader.boolean("case_sensitive", False)
        normalised = _normalise_options(options, case_sensitive)
        labels = reader.boolean("labels", True) and all(isinstance(o, str) for o in options)
        return cls(tuple(options), normalised, case_sensitive, labels)

    def check(self, answer: Answer) -> Verdict:
        index = self.pick(answer.text)
        if index is None:
            listed = ", ".join(repr(_short(str(o), 40)) for o in self.options[:10])
            more = ", …" if len(self.options) > 10 else ""
            reason = f"answer is not one of the options: {listed}{more}"
            return Verdict(self.name, False, reason, {"matched": None})
        option = self.options[index]
        details = {"matched": option, "index": index}
        return Verdict(self.name, True, f"answer is option {_short(str(option))!r}", details)

    def pick(self, text: str) -> int | None:
        """The index of the option ``text`` names, or None."""
        answer = normalise(text, self.case_sensitive)
        found = self._by_text(answer)
        prefix = _PREFIX.match(answer)
        rest = answer[prefix.end() :].strip(EDGE) if prefix else answer
        if found is None and rest != answer:
            found = self._by_text(rest)
        if found is None and self.labels:
            found = self._by_label(rest)
        return found

    def _by_text(self, normalised: str) -> int | None:
        try:
            return self.normalised.index(normalised)
        except ValueError:
            return None

    def _by_label(self, text: str) -> int | None:
        labelled = _LABELLED.fullmatch(text)
        if labelled is None:
            return None
        index = ord(labelled[1].upper()) - ord("A")
        if index >= len(self.options):
            return None
        said = labelled[2]
        if said is None or normalise(said, self.case_sensitive) == self.normalised[index]:
            return index
        return None


def _normalise_options(options: list[Any], case_sensitive: bool) -> tuple[str, ...]:
    normalised: list[str] = []
    for index, option in enumerate(options):
        if isinstance(option, bool) or not isinstance(option, str | int | float):
            raise SpecError(f"options[{index}]: must be a string or a number, not {option!r}")
        text = normalise(str(option), case_sensitive)
        if not text:
            raise SpecError(f"options[{index}]: is empty once punctuation is stripped")
        if text in normalised:
            first = normalised.index(text)
            raise SpecError(f"options[{index}]: the same as options[{first}] once normalised")
        normalised.append(text)
    return tuple(normalised)


# ---- length -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LengthValidator:
    """The answer's length in characters and/or tokens lies within bounds (inclusive).
    Tokens are the upstream's ``completion_tokens`` when known, else an estimate."""

    min_chars: int | None = None
    max_chars: int | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    name = "length"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        keys = ("min_chars", "max_chars", "min_tokens", "max_tokens")
        reader = SpecReader(spec, keys)
        bounds = [reader.integer(key) for key in keys]
        if all(bound is None for bound in bounds):
            raise SpecError(f"min_chars: give at least one of {', '.join(keys)}")
        for unit in ("chars", "tokens"):
            low, high = reader.integer(f"min_{unit}"), reader.integer(f"max_{unit}")
            if low is not None and high is not None and low > high:
                raise SpecError(f"max_{unit}: {high} is below min_{unit} {low}")
        return cls(*bounds)

    def check(self, answer: Answer) -> Verdict:
        chars = len(answer.text)
        details: dict[str, Any] = {"chars": chars}
        problems = _outside(chars, self.min_chars, self.max_chars, "characters")
        if self.min_tokens is not None or self.max_tokens is not None:
            estimated = answer.completion_tokens is None
            tokens = (
                estimate_text_tokens(answer.text)
                if answer.completion_tokens is None
                else answer.completion_tokens
            )
            details |= {"tokens": tokens, "tokens_estimated": estimated}
            problems += _outside(tokens, self.min_tokens, self.max_tokens, "tokens")
        if problems:
            return Verdict(self.name, False, "; ".join(problems), details)
        return Verdict(self.name, True, f"length within bounds ({chars} characters)", details)


def _outside(value: int, low: int | None, high: int | None, unit: str) -> list[str]:
    if low is not None and value < low:
        return [f"{value} {unit}, fewer than the minimum {low}"]
    if high is not None and value > high:
        return [f"{value} {unit}, more than the maximum {high}"]
    return []


# ---- contains / not_contains ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContainsValidator:
    """All (``all: true``, the default) or any of ``values`` occur in the answer."""

    values: tuple[str, ...]
    all: bool = True
    case_sensitive: bool = True
    name = "contains"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("value", "values", "all", "case_sensitive"))
        if reader.has("value") == reader.has("values"):
            raise SpecError("values: give either value (one string) or values (a list)")
        values = [reader.text("value")] if reader.has("value") else reader.texts("values")
        every = reader.boolean("all", cls.negated() is False)
        return cls(tuple(values), every, reader.boolean("case_sensitive", True))

    @staticmethod
    def negated() -> bool:
        return False

    def check(self, answer: Answer) -> Verdict:
        text = answer.text if self.case_sensitive else answer.text.casefold()
        found = [v for v in self.values if (v if self.case_sensitive else v.casefold()) in text]
        missing = [v for v in self.values if v not in found]
        holds = not missing if self.all else bool(found)
        details = {"found": found, "missing": missing}
        return Verdict(self.name, holds != self.negated(), self._reason(holds, found), details)

    def _reason(self, holds: bool, found: list[str]) -> str:
        if holds:
            return f"answer contains {_listed(found)}"
        if self.all:
            return f"answer lacks {_listed([v for v in self.values if v not in found])}"
        return f"answer contains none of {_listed(list(self.values))}"


@dataclass(frozen=True, slots=True)
class NotContainsValidator(ContainsValidator):
    """None (``all: false``, the default) or not all (``all: true``) of ``values`` occur."""

    all: bool = False
    name = "not_contains"

    @staticmethod
    def negated() -> bool:
        return True


def _listed(values: list[str]) -> str:
    shown = ", ".join(repr(_short(v, 40)) for v in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")
