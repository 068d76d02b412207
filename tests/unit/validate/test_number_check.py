"""The ``number`` validator: spec checking and verdicts on the final number."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.validate.base import Answer, SpecError
from freehold.validate.number_check import NumberValidator
from freehold.validate.registry import build


def check(spec: dict[str, Any], text: str) -> tuple[bool, str, dict[str, Any]]:
    verdict = NumberValidator.from_spec({"type": "number", **spec}).check(Answer(text=text))
    assert verdict.validator == "number"
    return verdict.passed, verdict.reason, verdict.details


def test_equals_passes_and_reports_what_it_read() -> None:
    passed, reason, details = check({"equals": 18}, "9 * 2 = 18 dollars.\n#### 18")
    assert passed
    assert "18" in reason
    assert details == {"extracted": "18", "source": "####"}


def test_equals_fails_with_the_number_it_read() -> None:
    passed, reason, details = check({"equals": 18}, "The answer is 17.")
    assert not passed
    assert "17" in reason
    assert "is not 18" in reason
    assert details == {"extracted": "17", "source": "answer_is"}


@pytest.mark.parametrize("equals", ["1,234.5", "$1,234.50", 1234.5, "1234.5"])
def test_equals_accepts_numbers_and_numeric_strings(equals: Any) -> None:
    assert check({"equals": equals}, "#### $1,234.50")[0]
    assert not check({"equals": equals}, "#### 1234.51")[0]


def test_absolute_tolerance() -> None:
    assert check({"equals": 10, "tolerance": 0.5}, "#### 10.5")[0]
    assert not check({"equals": 10, "tolerance": 0.5}, "#### 10.51")[0]
    assert not check({"equals": 10}, "#### 10.01")[0]  # default tolerance is 0


def test_relative_tolerance() -> None:
    assert check({"equals": 200, "relative_tolerance": 0.01}, "#### 198")[0]
    assert not check({"equals": 200, "relative_tolerance": 0.01}, "#### 197.9")[0]


def test_min_and_max_are_inclusive() -> None:
    spec = {"min": 1, "max": 10}
    assert check(spec, "#### 1")[0]
    assert check(spec, "#### 10")[0]
    passed, reason, _ = check(spec, "#### 11")
    assert not passed
    assert "above the maximum 10" in reason
    assert "below the minimum 1" in check(spec, "#### -1")[1]


def test_integer() -> None:
    assert check({"integer": True}, "#### 12.00")[0]
    passed, reason, _ = check({"integer": True}, "#### 12.5")
    assert not passed
    assert "whole number" in reason


def test_every_failed_condition_is_named() -> None:
    _, reason, _ = check({"equals": 3, "max": 2, "integer": True}, "#### 2.5 apples")
    assert "is not 3" in reason
    assert "above the maximum 2" in reason
    assert "whole number" in reason


def test_no_number_fails() -> None:
    passed, reason, details = check({"equals": 1}, "I cannot tell.")
    assert not passed
    assert reason == "no numeric answer found"
    assert details == {}


def test_percent_answers_compare_as_written() -> None:
    assert check({"equals": 25}, "So 25% of them.")[0]


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({}, "equals"),
        ({"integer": False}, "equals"),
        ({"equals": True}, "equals"),
        ({"equals": "eighteen"}, "equals"),
        ({"equals": "18 apples"}, "equals"),
        ({"equals": [18]}, "equals"),
        ({"equals": float("nan")}, "equals"),
        ({"equals": float("inf")}, "equals"),
        ({"equals": 1, "tolerance": -1}, "tolerance"),
        ({"equals": 1, "relative_tolerance": "x"}, "relative_tolerance"),
        ({"min": 0, "tolerance": 1}, "tolerance"),
        ({"min": 5, "max": 1}, "min"),
        ({"integer": "yes"}, "integer"),
        ({"equals": 1, "equal": 2}, "equal"),
    ],
)
def test_bad_specs_name_the_key(spec: dict[str, Any], key: str) -> None:
    with pytest.raises(SpecError) as caught:
        NumberValidator.from_spec({"type": "number", **spec})
    assert str(caught.value).startswith(f"{key}:")


def test_built_through_the_registry() -> None:
    validator = build({"type": "number", "equals": 18})
    assert validator.name == "number"
    assert validator.check(Answer(text="#### 18")).passed


def test_huge_answers_are_checked_quickly() -> None:
    text = "x" * 1_000_000 + " #### 42"
    assert check({"equals": 42}, text)[0]
    assert not check({"equals": 42}, "9" * 200_000)[0]


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_exact_integers(value: int) -> None:
    assert check({"equals": value}, f"Working... {value + 7}\n#### {value}")[0]
    assert not check({"equals": value}, f"#### {value + 1}")[0]
    assert check({"equals": value, "tolerance": 1}, f"#### {value + 1}")[0]


@given(st.text(max_size=300))
def test_never_raises(text: str) -> None:
    verdict = NumberValidator.from_spec({"min": 0}).check(Answer(text=text))
    assert isinstance(verdict.passed, bool)
    extracted = verdict.details.get("extracted")
    assert verdict.passed == (extracted is not None and Decimal(extracted) >= 0)
