"""Numbers as answers write them, and the final answer's priority rules."""

from __future__ import annotations

import time
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.validate.numbers import (
    MAX_DIGITS,
    final_answer,
    find_final_answer,
    format_number,
    parse_number,
    scan_numbers,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("18", "18"),
        ("1,234.50", "1234.50"),
        ("$18", "18"),
        ("$ 18", "18"),
        ("€5.25", "5.25"),
        ("-3", "-3"),
        ("−3", "-3"),
        ("+4", "4"),
        ("-$5", "-5"),
        (".5", "0.5"),
        ("2.5e3", "2500"),
        ("50%", "50"),
        ("50 percent", "50"),
        ("3/4", "0.75"),
        ("1.5 million", "1500000"),
        ("12 apples", "12"),
        ("1,234,567 people", "1234567"),
        ("1,2345", "1"),
        ("  7  ", "7"),
    ],
)
def test_parse_number(text: str, value: str) -> None:
    assert parse_number(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "x5", "-", "$", "%", "1/0"])
def test_parse_number_rejects_what_is_not_a_number(text: str) -> None:
    assert parse_number(text) is None


def test_parse_number_whole_wants_nothing_after_the_number() -> None:
    assert parse_number("12 apples", whole=True) is None
    assert parse_number("$1,234.5", whole=True) == Decimal("1234.5")


def test_numbers_over_the_digit_limit_are_ignored() -> None:
    assert parse_number("9" * MAX_DIGITS) == Decimal("9" * MAX_DIGITS)
    assert parse_number("9" * (MAX_DIGITS + 1)) is None
    assert parse_number("1e999") is None
    assert [n.value for n in scan_numbers("1" * 100_000 + " and 7")] == [7]


def test_scan_reads_positions_decimals_and_percent() -> None:
    found = list(scan_numbers("Pay $4.50 for 20% of 3 items"))
    assert [n.value for n in found] == [Fraction(9, 2), 20, 3]
    assert [n.decimals for n in found] == [2, 0, 0]
    assert [n.percent for n in found] == [False, True, False]
    assert found[0].text == "$4.50"
    assert found[1].ratio == Fraction(1, 5)
    assert found[0].last_place == Fraction(1, 100)


def test_scan_does_not_read_ranges_versions_or_glued_names() -> None:
    assert [n.value for n in scan_numbers("ages 5-10")] == [5, 10]
    assert list(scan_numbers("v1.2.3 and COVID19")) == []
    assert [n.value for n in scan_numbers("it is -3 now")] == [-3]


def test_scan_reads_fractions_only_when_asked() -> None:
    assert [n.value for n in scan_numbers("3/4 cup")] == [3, 4]
    assert [n.value for n in scan_numbers("3/4 cup", fractions=True)] == [Fraction(3, 4)]


def test_scale_words_set_the_last_place() -> None:
    (number,) = scan_numbers("3.5 million")
    assert number.value == 3_500_000
    assert number.last_place == 100_000


@pytest.mark.parametrize(
    ("text", "value", "source"),
    [
        ("She makes 9 * 2 = 18 dollars.\n#### 18", "18", "####"),
        ("#### $1,234.50", "1234.50", "####"),
        ("#### -3", "-3", "####"),
        ("#### 12 packs and 2 extra", "12", "####"),
        ("first #### 5\nthen\n#### 6", "6", "####"),
        ("so \\boxed{42} in all", "42", "boxed"),
        ("\\boxed{\\frac{3}{4}}", "0.75", "boxed"),
        ("\\boxed{x = 5}", "5", "boxed"),
        ("\\boxed{1{,}000 \\text{ dollars}}", "1000", "boxed"),
        ("The answer is $18.", "18", "answer_is"),
        ("Final answer: -7 degrees", "-7", "answer_is"),
        ("**Answer:** 3.5", "3.5", "answer_is"),
        ("So the answer is:\n\n  42", "42", "answer_is"),
        ("5 apples and 7 pears, so 12 fruits.", "12", "last_number"),
        ("It grew 50%.", "50", "last_number"),
    ],
)
def test_final_answer_rules(text: str, value: str, source: str) -> None:
    found = find_final_answer(text)
    assert found is not None
    assert (found.value, found.source) == (Decimal(value), source)
    assert final_answer(text) == Decimal(value)


def test_priority_hashes_then_box_then_phrase_then_last_number() -> None:
    text = "The answer is 3. \\boxed{2} #### 1 and 4 more"
    assert find_final_answer(text).source == "####"  # type: ignore[union-attr]
    assert final_answer(text) == 1
    assert final_answer("The answer is 3. \\boxed{2} then 4") == 2
    assert final_answer("The answer is 3, not 4") == 3


def test_a_rule_without_a_number_gives_way() -> None:
    found = find_final_answer("It is 7 or 8.\n#### unknown")
    assert found is not None
    assert (found.value, found.source) == (8, "last_number")
    assert find_final_answer("\\boxed{} and 9").source == "last_number"  # type: ignore[union-attr]
    assert final_answer("The answer is unknown; 4 tries") == 4


def test_no_number_is_none() -> None:
    assert find_final_answer("I do not know.") is None
    assert final_answer("") is None


def test_final_answer_is_bounded_on_huge_inputs() -> None:
    text = ("1" * 50_000 + " blah, ") * 20 + "#### 5"
    start = time.perf_counter()
    assert final_answer(text) == 5
    assert final_answer("9" * 1_000_000) is None
    assert final_answer("\\boxed{" * 50_000 + "7") == 7
    assert time.perf_counter() - start < 2


def test_format_number() -> None:
    assert format_number(Fraction(2469, 2)) == "1234.5"
    assert format_number(Fraction(1, 3)) == "0.333333"
    assert format_number(Decimal("460")) == "460"
    assert format_number(Fraction(-5)) == "-5"
    assert format_number(Fraction(1, 10**9)) == "1.000000e-9"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_written_integers_round_trip(value: int) -> None:
    assert parse_number(f"{value:,}") == value
    assert final_answer(f"So it is {value - 1} or so.\n#### {value:,}") == value


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_written_decimals_round_trip(value: Decimal) -> None:
    sign = "-" if value < 0 else ""
    assert parse_number(f"{sign}${abs(value):,}") == value
    assert final_answer(f"The answer is {value}.") == value
