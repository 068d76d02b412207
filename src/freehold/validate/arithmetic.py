"""The ``arithmetic`` validator: every explicit calculation in an answer is right.

What counts as a calculation: a ``<<expr=result>>`` calculator annotation (GSM8K style), and
``a op b = c`` written in the text, with ``+ - * / × ÷ x · ^ **``, the words ``times``,
``plus``, ``minus``, ``multiplied by``, ``divided by``, parentheses, chains
(``a + b + c = d``, ``a * b = c = d``, and running totals such as ``5 + 3 = 8 + 2 = 10``),
percentages (``20% of 50 = 10``, ``50 * 20% = 10``; ``50/200 * 100 = 25%`` also passes) and
currency and unit words stripped (``$5 * 3 = $15``, ``3 hours * 60 = 180 minutes``). The
equations are read from the prose by :mod:`freehold.validate.equations` and each side is
re-computed exactly by :mod:`freehold.validate.calc`, which never executes the answer.

Matching: a stated result written with ``k`` decimals passes when it is less than one unit
of its last written digit away from the true value (``10 / 3 = 3.33``, ``= 3.34``, ``= 3.3``,
``7 / 2 = 3`` and ``= 4`` all pass: rounding, truncation and rounding up), a percentage
either as a ratio or as the number before ``%``. Beyond that, ``tolerance`` (relative,
default 1e-6, for float-like results such as ``0.2666666666666667``) applies unless both
values are whole numbers, which must be equal: ``1000 * 1.01 = 1011`` is wrong at any
tolerance.

False alarms are avoided by skipping whatever is unsure, never by guessing: an equation
counts only when both sides read as arithmetic; a side with a one-letter name
(``2x + 5 = 11``, ``30 + a + 60``) or a word before an operator (``Nick's candies / 2``) is
skipped; a bare number before the first ``=`` is a label (``Day 1 = 5 + 3 = 8``); times
(``3:00``), comparisons (``<=``), ``≈``, list numbers (``1.``) and words that are not units
end an equation; a percentage added to a plain number (``$50 + 20%``) is ambiguous; a
mismatch that units explain is dropped (``2 x 1 hour = 120 minutes``, ``4 dozens + 2 = 50``,
``= 120 minutes = 2 hours``); a wrong number at the very end of a text that stops
mid-number (``= $36,00`` for 36,000, cut by a token limit) is unfinished, not wrong.

Spec keys: ``tolerance`` (relative, default 1e-6), ``max_steps`` (default 200: checking stops
there), ``require_steps`` (default false: an answer without calculations passes; true: it
fails). Only the first :data:`MAX_TEXT_CHARS` characters are read. Details:
``steps_checked``, ``skipped`` (``=`` signs that made no checked claim), ``wrong`` (each
``{expression, stated, computed}``, at most 20) and ``truncated`` when a limit was hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Self

from freehold.core.types import Verdict
from freehold.validate.base import Answer, SpecError
from freehold.validate.calc import (
    EQ,
    LP,
    NUM,
    RP,
    UNIT,
    Node,
    NotExpression,
    Refused,
    Token,
    evaluate,
    has_operator,
    leading_literal,
    literal_of,
    parse,
)
from freehold.validate.equations import prepare, runs, tokenize
from freehold.validate.numbers import CURRENCY, format_number
from freehold.validate.registry import SpecReader

MAX_TEXT_CHARS = 100_000
"""Only this many characters of an answer are read (the rest is reported as not checked)."""

MAX_EXPR_TOKENS = 60
"""A side of an equation longer than this (numbers and operators) is not checked."""

MAX_WRONG_SHOWN = 20
"""At most this many wrong steps are listed in a verdict's details."""

_ANNOTATION = re.compile(rf"([{CURRENCY}]?)<<([^<>\n]{{1,300}})>>")

#: Units that count in multiples: ``4 dozens + 2 = 50`` is right, but not as arithmetic.
_COUNT_UNITS = frozenset({"dozen", "score", "pair", "gross"})
#: Measures whose units convert into each other (``1 hour + 30 minutes = 90``).
_MEASURES_TEXT = """
    second minute hour day week month year inch inche foot feet yard mile centimeter meter
    kilometer cm km ounce pound lb gram kilogram kg cup pint quart gallon liter litre ml cent
"""
_MEASURES = frozenset(_MEASURES_TEXT.split())
#: Ratios between a stated and a computed value that a unit conversion explains.
_CONVERSIONS = frozenset({7, 12, 16, 24, 36, 52, 60, 100, 365, 1000, 1440, 3600})


@dataclass(frozen=True, slots=True)
class _Side:
    """One side of an equation: its tree, its tokens, where it is, and its units."""

    node: Node
    tokens: tuple[Token, ...]
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return " ".join(t.key for t in self.tokens)

    @property
    def units(self) -> frozenset[str]:
        return frozenset(t.units for t in self.tokens if t.units)


@dataclass(frozen=True, slots=True)
class Step:
    """One checked claim: ``expression`` was said to equal ``stated``."""

    expression: str
    stated: str
    computed: Fraction
    ok: bool
    start: int
    end: int
    key: tuple[str, str]


@dataclass(slots=True)
class Tally:
    """What :func:`find_steps` found: the distinct steps (in text order), how many ``=``
    it saw and how many of them made a checked claim (repeats included)."""

    limit: int
    steps: list[Step] = field(default_factory=list)
    equations: int = 0
    claims: int = 0
    seen: set[tuple[str, str]] = field(default_factory=set)

    @property
    def full(self) -> bool:
        return len(self.steps) > self.limit

    @property
    def skipped(self) -> int:
        """``=`` signs that made no checked claim (not arithmetic, unsure, or refused)."""
        return max(0, self.equations - self.claims)

    def add(self, step: Step) -> None:
        self.claims += 1
        if step.key not in self.seen:  # "3 * 60 = <<3*60=180>>180" is one claim, twice
            self.seen.add(step.key)
            self.steps.append(step)


def _parse_side(tokens: list[Token], text: str) -> _Side | None:
    if not tokens or len(tokens) > MAX_EXPR_TOKENS:
        return None
    try:
        node = parse(tokens)
    except NotExpression:
        return None
    start, end = tokens[0].start, tokens[-1].end
    return _Side(node, tuple(tokens), " ".join(text[start:end].split()), start, end)


def _left_side(seg: list[Token], text: str) -> _Side | None:
    """The longest tail of ``seg`` that is an expression, cut only at its start or just
    after a parenthesis (cutting after an operator or a name would change its meaning)."""
    first = max(0, len(seg) - MAX_EXPR_TOKENS)
    for start in range(first, len(seg)):
        if start and (seg[start - 1].kind not in (LP, RP) or seg[start].kind not in (NUM, LP)):
            continue
        side = _parse_side(seg[start:], text)
        if side is not None:
            return side
    return None


def _right_side(seg: list[Token], text: str) -> _Side | None:
    """The longest head of ``seg`` that is an expression, cut only before a parenthesis."""
    for end in range(min(len(seg), MAX_EXPR_TOKENS), 0, -1):
        if end < len(seg) and (seg[end].kind not in (LP, RP) or seg[end - 1].kind not in (NUM, RP)):
            continue
        side = _parse_side(seg[:end], text)
        if side is not None:
            return side
    return None


def _chains(run: list[Token], text: str) -> Iterator[list[_Side]]:
    """The equation chains of one run of arithmetic tokens, split at ``=``."""
    segments: list[list[Token]] = [[]]
    for token in run:
        if token.kind == EQ:
            segments.append([])
        elif token.kind != UNIT:
            segments[-1].append(token)
    chain: list[_Side] = []
    last = len(segments) - 1
    for index, seg in enumerate(segments):
        whole = _parse_side(seg, text) if 0 < index < last else None
        if whole is not None:
            chain.append(whole)
            continue
        if index:
            right = _right_side(seg, text)
            if right is not None:
                chain.append(right)
            yield chain
        chain = []
        if index < last:
            left = _left_side(seg, text)
            chain = [left] if left is not None else []


class _Checker:
    """Checks chains with one tolerance, collecting steps."""

    def __init__(self, tolerance: Fraction, tally: Tally) -> None:
        self.tolerance = tolerance
        self.tally = tally

    def close(self, computed: Fraction, stated: Fraction, last_place: Fraction) -> bool:
        """Within one unit of the last written place, or (unless both are whole numbers,
        which must be equal) within the relative tolerance."""
        difference = abs(computed - stated)
        if difference < last_place:
            return True
        if computed.denominator == 1 and stated.denominator == 1:
            return difference == 0
        return difference <= self.tolerance * max(abs(computed), abs(stated))

    def matches_literal(self, computed: Fraction, side: _Side) -> bool | None:
        literal = literal_of(side.node)
        if literal is None:
            return None
        sign, number = literal
        if self.close(computed, sign * number.value, number.last_place):
            return True
        return number.percent and self.close(computed, sign * number.ratio, number.last_place / 100)

    def chain(self, sides: list[_Side]) -> None:
        first = next((i for i, side in enumerate(sides) if has_operator(side.node)), len(sides))
        reference: tuple[_Side, Fraction] | None = None
        previous: tuple[_Side, Fraction] | None = None
        for side in sides[first:]:  # a bare number before the first "=" is a label
            try:
                value = evaluate(side.node)
            except Refused:
                reference = previous = None
                continue
            if reference is not None:
                self._record(reference, previous, side, value)
            if has_operator(side.node):
                reference = (side, value)
            previous = (side, value)

    def _record(
        self,
        reference: tuple[_Side, Fraction],
        previous: tuple[_Side, Fraction] | None,
        side: _Side,
        value: Fraction,
    ) -> None:
        left, computed = reference
        ok = self.matches_literal(computed, side)
        if ok is None:  # an expression: equal, or a running total that starts with the result
            lead = leading_literal(side.node)
            ok = self.close(computed, value, Fraction(0)) or (
                lead is not None and self.close(computed, lead.value, lead.last_place)
            )
        if not ok and _converted(left, computed, previous, side, value):
            return
        key = (left.key, side.key)
        self.tally.add(Step(left.text, side.text, computed, ok, side.start, side.end, key))


def _converted(
    left: _Side,
    computed: Fraction,
    previous: tuple[_Side, Fraction] | None,
    side: _Side,
    value: Fraction,
) -> bool:
    """Units explain the mismatch with the calculation or with the number just before
    (``= 120 minutes = 2 hours``: restated in another unit)."""
    if _unit_conversion(left, side, computed, value):
        return True
    return previous is not None and _unit_conversion(previous[0], side, previous[1], value)


def _unit_conversion(left: _Side, right: _Side, computed: Fraction, stated: Fraction) -> bool:
    """Whether units explain a mismatch: a counting unit (``2 dozen * 3 = 72``), mixed
    measures (``1 hour + 30 minutes = 90``), or a conversion (``2 x 1 hour = 120 minutes``)."""
    units = left.units | right.units
    if units & _COUNT_UNITS or len(left.units & _MEASURES) > 1:
        return True
    if left.units == right.units or not units & _MEASURES or not computed or not stated:
        return False
    ratio = abs(stated / computed)
    return ratio in _CONVERSIONS or (1 / ratio) in _CONVERSIONS


def _mask_annotations(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The text with each ``<<…>>`` blanked out (offsets kept), and the annotations."""
    found = [(m.start(2), m.group(2)) for m in _ANNOTATION.finditer(text)]
    masked = _ANNOTATION.sub(lambda m: " " * (len(m.group(0)) - len(m[1])) + m[1], text)
    return masked, found  # "= $<<6*8=48>>48" reads "= $48"


def find_steps(text: str, tolerance: Fraction = Fraction(1, 10**6), limit: int = 200) -> Tally:
    """Every calculation in ``text`` (annotations and written equations), checked; the
    search stops once more than ``limit`` distinct steps are found."""
    text = prepare(text)
    tally = Tally(limit)
    checker = _Checker(tolerance, tally)
    surface, annotations = _mask_annotations(text)
    pieces = [(surface, 0, surface), *((inner, at, text) for at, inner in annotations)]
    for piece, offset, shown in pieces:
        for run in runs(tokenize(piece, offset)):
            tally.equations += sum(1 for token in run if token.kind == EQ)
            for chain in _chains(run, shown):
                checker.chain(chain)
            if tally.full:
                break
        if tally.full:
            break
    tally.steps = [step for step in tally.steps if not _cut_off(step, surface)]
    tally.steps.sort(key=lambda step: step.start)
    return tally


def _cut_off(step: Step, text: str) -> bool:
    """A wrong result at the very end of a text that stops mid-number (``= 36,00`` for
    36,000: the answer was cut by its token limit) is unfinished, not wrong."""
    tail = text[step.start :]
    if step.ok or not text[-1:].isdigit() or tail.strip(CURRENCY + "0123456789,. "):
        return False
    digits = "".join(c for c in tail if c.isdigit())
    return format_number(step.computed).replace(".", "").startswith(digits)


@dataclass(frozen=True, slots=True)
class ArithmeticValidator:
    """Re-computes every explicit calculation of an answer; fails on any wrong result."""

    tolerance: Fraction = Fraction(1, 10**6)
    max_steps: int = 200
    require_steps: bool = False
    name: str = "arithmetic"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, ("tolerance", "max_steps", "require_steps"))
        tolerance = reader.raw("tolerance")
        if tolerance is None:
            tolerance = 1e-6
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
            raise SpecError(f"tolerance: must be a number, not {tolerance!r}")
        if not 0 <= tolerance < 1:
            raise SpecError(f"tolerance: must be at least 0 and below 1, not {tolerance}")
        max_steps = reader.count("max_steps", 200, low=1, high=10_000)
        return cls(Fraction(str(tolerance)), max_steps, reader.boolean("require_steps", False))

    def check(self, answer: Answer) -> Verdict:
        try:
            tally = find_steps(answer.text[:MAX_TEXT_CHARS], self.tolerance, self.max_steps)
        except (RecursionError, MemoryError):  # bounded by design; never let it escape
            return Verdict(self.name, False, "the answer is too complex to check", {})
        checked = tally.steps[: self.max_steps]
        wrong = [step for step in checked if not step.ok]
        details: dict[str, Any] = {
            "steps_checked": len(checked),
            "skipped": tally.skipped,
            "wrong": [_shown(step) for step in wrong[:MAX_WRONG_SHOWN]],
        }
        if tally.full or len(answer.text) > MAX_TEXT_CHARS:
            details["truncated"] = True
        if wrong:
            return Verdict(self.name, False, _wrong_reason(wrong), details)
        if not checked:
            if self.require_steps:
                return Verdict(self.name, False, "no calculations found to check", details)
            return Verdict(self.name, True, "no calculations to check", details)
        plural = "s" if len(checked) != 1 else ""
        return Verdict(self.name, True, f"{len(checked)} calculation{plural} checked", details)


def _shown(step: Step) -> dict[str, str]:
    computed = format_number(step.computed)
    return {"expression": step.expression, "stated": step.stated, "computed": computed}


def _wrong_reason(wrong: list[Step]) -> str:
    first = wrong[0]
    more = f" (and {len(wrong) - 1} more wrong)" if len(wrong) > 1 else ""
    computed = format_number(first.computed)
    return f"wrong calculation: {first.expression} = {first.stated}, but it is {computed}{more}"


def step_facts(text: str) -> list[tuple[str, str, float, bool]]:
    """Every checked calculation in an answer as plain values — ``(expression, stated,
    computed, ok)`` — for a cascade's verifier (routing reads them as features). An answer
    too deep to parse counts as one wrong step."""
    try:
        tally = find_steps(text[:MAX_TEXT_CHARS])
    except (RecursionError, MemoryError):
        return [("", "", 0.0, False)]
    return [(s.expression, s.stated, float(s.computed), s.ok) for s in tally.steps]
