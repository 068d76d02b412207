"""The ``number`` validator: the answer's final number meets the spec's conditions.

The final number is found by :func:`freehold.validate.numbers.find_final_answer` (``####``,
then ``\\boxed{}``, then "the answer is", else the last number). Spec keys:

- ``equals``: a number or numeric string (``18``, ``"1,234.5"``, ``"$18"``); with
  ``tolerance`` (absolute, default 0) and ``relative_tolerance`` (a fraction of ``equals``):
  the answer passes when within either;
- ``min`` / ``max``: inclusive bounds;
- ``integer``: ``true`` requires a whole number.

At least one condition is required. Example: ``{"type": "number", "equals": 18}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Self

from freehold.core.types import Verdict
from freehold.validate.base import Answer, SpecError
from freehold.validate.numbers import FinalAnswer, find_final_answer, format_number, parse_number
from freehold.validate.registry import SpecReader

_KEYS = ("equals", "tolerance", "relative_tolerance", "min", "max", "integer")


def _spec_number(reader: SpecReader, key: str) -> Decimal | None:
    raw = reader.raw(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise SpecError(f"{key}: must be a number or a numeric string, not {raw!r}")
    try:
        value = parse_number(raw, whole=True) if isinstance(raw, str) else Decimal(str(raw))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise SpecError(f"{key}: must be a finite number, not {raw!r}")
    return value


def _non_negative(reader: SpecReader, key: str) -> Decimal | None:
    value = _spec_number(reader, key)
    if value is not None and value < 0:
        raise SpecError(f"{key}: must not be negative, not {reader.raw(key)!r}")
    return value


@dataclass(frozen=True, slots=True)
class NumberValidator:
    """Checks the final number of an answer against ``equals``/``min``/``max``/``integer``."""

    equals: Decimal | None = None
    tolerance: Decimal = Decimal(0)
    relative_tolerance: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    integer: bool = False
    name: str = "number"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Self:
        reader = SpecReader(spec, _KEYS)
        integer = reader.boolean("integer", False)
        equals, minimum, maximum = (_spec_number(reader, key) for key in ("equals", "min", "max"))
        if equals is None and minimum is None and maximum is None and not integer:
            raise SpecError("equals: give at least one of equals, min, max or integer: true")
        tolerance = _non_negative(reader, "tolerance")
        relative = _non_negative(reader, "relative_tolerance")
        if equals is None and (tolerance is not None or relative is not None):
            key = "tolerance" if tolerance is not None else "relative_tolerance"
            raise SpecError(f"{key}: needs equals")
        if minimum is not None and maximum is not None and minimum > maximum:
            raise SpecError(f"min: {minimum} is greater than max {maximum}")
        return cls(equals, tolerance or Decimal(0), relative, minimum, maximum, integer)

    def _failures(self, value: Decimal) -> list[str]:
        failures = []
        if self.equals is not None and not self._close(value, self.equals):
            bound = f" ± {format_number(self.tolerance)}" if self.tolerance else ""
            if self.relative_tolerance:
                bound += f" (or ± {format_number(self.relative_tolerance * 100)}%)"
            failures.append(f"is not {format_number(self.equals)}{bound}")
        if self.minimum is not None and value < self.minimum:
            failures.append(f"is below the minimum {format_number(self.minimum)}")
        if self.maximum is not None and value > self.maximum:
            failures.append(f"is above the maximum {format_number(self.maximum)}")
        if self.integer and value != value.to_integral_value():
            failures.append("is not a whole number")
        return failures

    def _close(self, value: Decimal, target: Decimal) -> bool:
        difference = abs(value - target)
        if difference <= self.tolerance:
            return True
        return self.relative_tolerance is not None and (
            difference <= self.relative_tolerance * abs(target)
        )

    def check(self, answer: Answer) -> Verdict:
        found: FinalAnswer | None = find_final_answer(answer.text)
        if found is None:
            return Verdict(self.name, False, "no numeric answer found", {})
        shown = format_number(found.value)
        details = {"extracted": shown, "source": found.source}
        failures = self._failures(found.value)
        if failures:
            reason = f"final answer {shown} ({found.source}) " + "; ".join(failures)
            return Verdict(self.name, False, reason, details)
        return Verdict(self.name, True, f"final answer {shown} ({found.source}) is right", details)
