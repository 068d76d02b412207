"""regex, choice, length, contains and not_contains validators."""

from __future__ import annotations

import time
from typing import Any

import pytest
import regex
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from freehold.core.tokens import estimate_text_tokens
from freehold.core.types import Verdict
from freehold.validate.base import Answer, SpecError
from freehold.validate.text_checks import (
    MAX_PATTERN_SIZE,
    ChoiceValidator,
    ContainsValidator,
    LengthValidator,
    NotContainsValidator,
    RegexValidator,
    compile_pattern,
    normalise,
    pattern_size,
)

FIVE_MB = "lorem ipsum " * 440_000


def regex_check(text: str, **spec: Any) -> Verdict:
    return RegexValidator.from_spec({"type": "regex", **spec}).check(Answer(text))


# ---- regex ------------------------------------------------------------------------------


def test_search_finds_the_pattern_anywhere_and_reports_the_match() -> None:
    verdict = regex_check("Total: 42 apples", pattern=r"\d+")
    assert verdict.passed
    assert verdict.validator == "regex"
    assert verdict.details == {"mode": "search", "match": "42", "span": [7, 9]}
    missing = regex_check("no digits", pattern=r"\d+")
    assert not missing.passed
    assert missing.reason == r"answer has no match for /\d+/"


def test_fullmatch_needs_the_whole_answer() -> None:
    assert regex_check("2024-05-01", pattern=r"\d{4}-\d{2}-\d{2}", mode="fullmatch").passed
    verdict = regex_check("on 2024-05-01", pattern=r"\d{4}-\d{2}-\d{2}", mode="fullmatch")
    assert not verdict.passed
    assert verdict.reason.startswith("answer does not fully match")
    with pytest.raises(SpecError, match=r"^mode: must be one of search, fullmatch"):
        RegexValidator.from_spec({"type": "regex", "pattern": "x", "mode": "match"})


def test_flags_are_applied() -> None:
    assert not regex_check("HELLO", pattern="hello").passed
    assert regex_check("HELLO", pattern="hello", flags=["IGNORECASE"]).passed
    assert regex_check("HELLO", pattern="hello", flags="ignorecase").passed
    assert regex_check("a\nb", pattern="^b$", flags=["MULTILINE"]).passed
    assert not regex_check("a\nb", pattern="^b$").passed
    assert regex_check("a\nb", pattern="a.b", flags=["DOTALL"]).passed
    assert regex_check("ab", pattern="a  b  # spaced", flags=["VERBOSE"]).passed
    with pytest.raises(SpecError, match=r"^flags\[1\]: unknown flag 'UNICODE'"):
        RegexValidator.from_spec({"type": "regex", "pattern": "x", "flags": ["DOTALL", "UNICODE"]})
    with pytest.raises(SpecError, match=r"^flags: must be a list"):
        RegexValidator.from_spec({"type": "regex", "pattern": "x", "flags": 2})


def test_bad_patterns_are_spec_errors() -> None:
    with pytest.raises(SpecError, match=r"^pattern: invalid regular expression: missing \)"):
        RegexValidator.from_spec({"type": "regex", "pattern": "(abc"})
    with pytest.raises(SpecError, match=r"^pattern: must be a non-empty string"):
        RegexValidator.from_spec({"type": "regex", "pattern": ""})
    with pytest.raises(SpecError, match=r"^pattern: longer than 10000 characters"):
        RegexValidator.from_spec({"type": "regex", "pattern": "a" * 10_001})
    with pytest.raises(SpecError, match=r"^pattern: groups nested too deeply"):
        RegexValidator.from_spec({"type": "regex", "pattern": "(" * 3000 + ")" * 3000})
    with pytest.raises(SpecError, match=r"^timeout_s: must be above 0 and at most 10"):
        RegexValidator.from_spec({"type": "regex", "pattern": "x", "timeout_s": 60})


def test_catastrophic_backtracking_pattern_ends_within_the_timeout() -> None:
    started = time.perf_counter()
    verdict = regex_check("a" * 40 + "!", pattern="(a+)+$", timeout_s=0.1)
    assert time.perf_counter() - started < 0.5
    assert not verdict.passed


def test_a_pattern_that_really_backtracks_times_out_and_fails() -> None:
    for mode in ("search", "fullmatch"):
        started = time.perf_counter()
        verdict = regex_check("a" * 40 + "!", pattern="(a|aa)+$", timeout_s=0.1, mode=mode)
        elapsed = time.perf_counter() - started
        assert 0.05 < elapsed < 0.5
        assert not verdict.passed
        assert verdict.reason == "regex timed out"
        assert verdict.details == {"mode": mode, "timeout_s": 0.1}


def test_a_five_megabyte_answer_is_searched_within_bounds() -> None:
    started = time.perf_counter()
    assert regex_check(FIVE_MB + "END", pattern="END$").passed
    assert not regex_check(FIVE_MB, pattern=r"\d", timeout_s=0.5).passed
    assert time.perf_counter() - started < 2


def test_compile_bombs_are_refused_before_compiling() -> None:
    started = time.perf_counter()
    for bomb in ["(a{65535}){65535}", "((a{100}){100}){100}", "x{99999999999999999999}"]:
        with pytest.raises(SpecError, match=r"^pattern: its counted repeats unroll"):
            RegexValidator.from_spec({"type": "regex", "pattern": bomb})
    assert time.perf_counter() - started < 0.5
    assert regex_check("a" * 300, pattern="(a{100}){3}", mode="fullmatch").passed


def test_pattern_size_reads_the_structure() -> None:
    assert pattern_size("abc") == 3
    assert pattern_size("(a{100}){1000}") == 100_000
    assert pattern_size("a{2,7}b{3,}") == 7 + 3
    assert pattern_size(r"\{9999\}") == 6  # escaped braces are literals
    assert pattern_size("[{]{5}") == 5  # a class is one atom
    assert pattern_size("[]{}]x") == 2
    assert pattern_size("(?#{99999})a") == 1  # comment groups are skipped
    assert pattern_size("a|b{50}") == 51
    assert pattern_size("x{,5}") == 5
    assert pattern_size("x{,}") >= 1  # not a counted repeat: read as literals
    assert pattern_size("(a{1000}){1000}") == MAX_PATTERN_SIZE + 1


def test_verbose_comments_cannot_hide_a_bomb() -> None:
    hidden = "(a #)\n{1000}){1000}"
    assert pattern_size(hidden) < MAX_PATTERN_SIZE
    assert pattern_size(hidden, comments=True) > MAX_PATTERN_SIZE
    with pytest.raises(ValueError, match="unroll"):
        compile_pattern(hidden, regex.VERBOSE)


# ---- choice -----------------------------------------------------------------------------

CAPITALS = ["Paris", "London", "Rome", "Madrid"]


def choose(text: str, options: list[Any] = CAPITALS, **spec: Any) -> Any:
    validator = ChoiceValidator.from_spec({"type": "choice", "options": options, **spec})
    verdict = validator.check(Answer(text))
    assert verdict.validator == "choice"
    return verdict.details.get("matched") if verdict.passed else None


@pytest.mark.parametrize(
    "text",
    [
        "London",
        "  london  ",
        "LONDON.",
        '"London"',
        "**London**",
        "B",
        "b",
        "B.",
        "(B)",
        "B)",
        "[B]",
        "Answer: B",
        "answer: (b)",
        "The answer is (B)",
        "The answer is B.",
        "The correct answer is: B",
        "Final answer: London",
        "Option B",
        "B) London",
        "(B) London",
        "B. London.",
        "B: london",
    ],
)
def test_the_answer_names_an_option_by_text_or_label(text: str) -> None:
    assert choose(text) == "London"


@pytest.mark.parametrize(
    "text",
    ["E", "(E)", "B) Paris", "London or Paris", "Lon don", "The answer is unclear", "", "optional"],
)
def test_anything_else_is_not_an_option(text: str) -> None:
    assert choose(text) is None


def test_a_failed_choice_lists_the_options() -> None:
    validator = ChoiceValidator.from_spec({"type": "choice", "options": CAPITALS})
    verdict = validator.check(Answer("Berlin"))
    assert not verdict.passed
    assert verdict.reason == "answer is not one of the options: 'Paris', 'London', 'Rome', 'Madrid'"
    assert verdict.details == {"matched": None}
    passed = validator.check(Answer("(c)"))
    assert passed.details == {"matched": "Rome", "index": 2}


def test_case_sensitivity_and_labels_can_be_switched() -> None:
    assert choose("london", case_sensitive=True) is None
    assert choose("London", case_sensitive=True) == "London"
    assert choose("B", case_sensitive=True) == "London"
    assert choose("B", labels=False) is None
    assert choose("London", labels=False) == "London"


def test_text_matches_win_over_labels() -> None:
    assert choose("A", options=["B", "A"]) == "A"
    assert choose("(B)", options=["B", "A"]) == "B"


def test_numeric_options_match_by_value_not_by_letter() -> None:
    assert choose("2", options=[1, 2, 3]) == 2
    assert choose("The answer is 3.", options=[1, 2, 3]) == 3
    assert choose("B", options=[1, 2, 3]) is None
    assert choose("2.5", options=[2.5, 3.5]) == 2.5


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ([], r"^options: must be a non-empty list"),
        ("Paris", r"^options: must be a non-empty list"),
        (["Paris", "paris "], r"^options\[1\]: the same as options\[0\] once normalised"),
        (["Paris", "..."], r"^options\[1\]: is empty once punctuation is stripped"),
        (["Paris", None], r"^options\[1\]: must be a string or a number"),
        (["Paris", True], r"^options\[1\]: must be a string or a number"),
    ],
)
def test_bad_options_are_spec_errors(options: Any, fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        ChoiceValidator.from_spec({"type": "choice", "options": options})


def test_case_sensitive_options_may_differ_only_in_case() -> None:
    validator = ChoiceValidator.from_spec(
        {"type": "choice", "options": ["yes", "YES"], "case_sensitive": True}
    )
    assert validator.check(Answer("YES")).details["matched"] == "YES"


def test_normalise_collapses_whitespace_and_strips_edges() -> None:
    assert normalise('  "Hello,\n\t World!"  ') == "hello, world"
    assert normalise("(B)", case_sensitive=True) == "B"


def test_a_five_megabyte_answer_is_no_option_and_fails_fast() -> None:
    started = time.perf_counter()
    assert choose(FIVE_MB) is None
    assert time.perf_counter() - started < 1


option_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", min_size=2, max_size=20)
LABEL_FORMATS = [
    "{L}",
    "{l}",
    "{L}.",
    "({L})",
    "{L})",
    "[{L}]",
    "Answer: {L}",
    "The answer is ({L})",
    "The final answer is {L}.",
    "**{L}**",
    "{L}) {option}",
    "({L}) {option}",
    "{L}. {option}",
]
TEXT_FORMATS = ["{option}", "  {option}  ", '"{option}"', "{option}.", "Answer: {option}"]


@settings(max_examples=200)
@given(
    options=st.lists(option_text, min_size=1, max_size=26, unique_by=normalise),
    data=st.data(),
)
def test_every_label_format_picks_its_option(options: list[str], data: st.DataObject) -> None:
    assume(all(len(normalise(o)) >= 2 for o in options))
    index = data.draw(st.integers(0, len(options) - 1))
    letter = chr(ord("A") + index)
    layout = data.draw(st.sampled_from(LABEL_FORMATS + TEXT_FORMATS))
    text = layout.format(L=letter, l=letter.lower(), option=options[index])
    validator = ChoiceValidator.from_spec({"type": "choice", "options": options})
    picked = validator.pick(text)
    assert picked is not None
    assert normalise(options[picked]) == normalise(options[index])


# ---- length -----------------------------------------------------------------------------


def length(text: str, tokens: int | None = None, **spec: Any) -> Verdict:
    validator = LengthValidator.from_spec({"type": "length", **spec})
    return validator.check(Answer(text, completion_tokens=tokens))


def test_character_bounds_are_inclusive() -> None:
    assert length("abc", min_chars=3, max_chars=3).passed
    short = length("ab", min_chars=3)
    assert not short.passed
    assert short.reason == "2 characters, fewer than the minimum 3"
    long = length("abcd", max_chars=3)
    assert long.reason == "4 characters, more than the maximum 3"
    assert long.details == {"chars": 4}


def test_tokens_come_from_the_upstream_when_known() -> None:
    verdict = length("one two three", tokens=50, max_tokens=10)
    assert not verdict.passed
    assert verdict.details == {"chars": 13, "tokens": 50, "tokens_estimated": False}
    estimated = length("one two three", max_tokens=10)
    assert estimated.passed
    assert estimated.details["tokens"] == estimate_text_tokens("one two three")
    assert estimated.details["tokens_estimated"] is True
    both = length("x" * 10, tokens=1, max_chars=5, min_tokens=2)
    assert (
        both.reason == "10 characters, more than the maximum 5; 1 tokens, fewer than the minimum 2"
    )


def test_length_of_a_five_megabyte_answer() -> None:
    verdict = length(FIVE_MB, max_tokens=1000)
    assert not verdict.passed
    assert verdict.details["tokens"] > 1000


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({}, r"^min_chars: give at least one of"),
        ({"min_chars": 5, "max_chars": 4}, r"^max_chars: 4 is below min_chars 5"),
        ({"min_tokens": 5, "max_tokens": 1}, r"^max_tokens: 1 is below min_tokens 5"),
        ({"max_chars": -1}, r"^max_chars: must be at least 0"),
        ({"max_chars": True}, r"^max_chars: must be a whole number"),
        ({"max_chars": 1.5}, r"^max_chars: must be a whole number"),
        ({"max_words": 3}, r"^max_words: unknown key"),
    ],
)
def test_bad_length_specs(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        LengthValidator.from_spec({"type": "length", **spec})


# ---- contains / not_contains ------------------------------------------------------------


def contains(text: str, **spec: Any) -> Verdict:
    return ContainsValidator.from_spec({"type": "contains", **spec}).check(Answer(text))


def lacks(text: str, **spec: Any) -> Verdict:
    return NotContainsValidator.from_spec({"type": "not_contains", **spec}).check(Answer(text))


def test_contains_needs_every_value_by_default() -> None:
    verdict = contains("apples and pears", values=["apples", "plums", "pears"])
    assert not verdict.passed
    assert verdict.validator == "contains"
    assert verdict.reason == "answer lacks 'plums'"
    assert verdict.details == {"found": ["apples", "pears"], "missing": ["plums"]}
    assert contains("apples and pears", values=["apples", "pears"]).passed
    assert contains("apples", value="app").passed


def test_contains_any() -> None:
    assert contains("pears", values=["apples", "pears"], all=False).passed
    verdict = contains("figs", values=["apples", "pears"], all=False)
    assert verdict.reason == "answer contains none of 'apples', 'pears'"


def test_case_sensitivity_defaults_to_exact() -> None:
    assert not contains("APPLES", value="apples").passed
    assert contains("APPLES", value="apples", case_sensitive=False).passed
    assert lacks("APPLES", value="apples").passed
    assert not lacks("APPLES", value="apples", case_sensitive=False).passed


def test_not_contains_forbids_every_value_by_default() -> None:
    verdict = lacks("As an AI language model, I cannot", values=["As an AI", "sorry"])
    assert not verdict.passed
    assert verdict.validator == "not_contains"
    assert verdict.reason == "answer contains 'As an AI'"
    assert lacks("Here you go", values=["As an AI", "sorry"]).passed
    assert lacks("sorry", values=["As an AI", "sorry"], all=True).passed
    assert not lacks("sorry, As an AI", values=["As an AI", "sorry"], all=True).passed


def test_contains_scans_five_megabytes() -> None:
    started = time.perf_counter()
    assert not contains(FIVE_MB, values=["ipsum", "needle"], case_sensitive=False).passed
    assert lacks(FIVE_MB, value="needle").passed
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({}, r"^values: give either value"),
        ({"value": "a", "values": ["b"]}, r"^values: give either value"),
        ({"value": ""}, r"^value: must be a non-empty string"),
        ({"values": []}, r"^values: must be a non-empty list of strings"),
        ({"values": ["a", 3]}, r"^values\[1\]: must be a non-empty string"),
        ({"value": "a", "all": "yes"}, r"^all: must be true or false"),
    ],
)
def test_bad_contains_specs(spec: dict[str, Any], fragment: str) -> None:
    for validator in (ContainsValidator, NotContainsValidator):
        with pytest.raises(SpecError, match=fragment):
            validator.from_spec({"type": "x", **spec})


@settings(max_examples=200)
@given(
    text=st.text(alphabet="abAB ", max_size=12),
    values=st.lists(st.text(alphabet="abAB", min_size=1, max_size=3), min_size=1, max_size=4),
    every=st.booleans(),
    case_sensitive=st.booleans(),
)
def test_not_contains_is_the_negation_of_contains(
    text: str, values: list[str], every: bool, case_sensitive: bool
) -> None:
    spec = {"values": values, "all": every, "case_sensitive": case_sensitive}
    yes = contains(text, **spec)
    no = lacks(text, **spec)
    assert yes.passed != no.passed
    assert yes.details == no.details
    folded = text if case_sensitive else text.casefold()
    hits = [(v if case_sensitive else v.casefold()) in folded for v in values]
    assert yes.passed == (all(hits) if every else any(hits))
