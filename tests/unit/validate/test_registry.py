"""Building validators from specs, running them, and the shared spec reader."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from freehold.core.types import Verdict
from freehold.validate import registry
from freehold.validate.base import BUILTIN, Answer, SpecError
from freehold.validate.json_checks import JsonSchemaValidator, JsonValidator
from freehold.validate.registry import SpecReader, build, build_all, build_cached, run_all
from freehold.validate.text_checks import (
    ChoiceValidator,
    ContainsValidator,
    LengthValidator,
    NotContainsValidator,
    RegexValidator,
)

MINE = {
    "json": ({"type": "json"}, JsonValidator),
    "json_schema": ({"type": "json_schema", "schema": {"type": "object"}}, JsonSchemaValidator),
    "regex": ({"type": "regex", "pattern": "x"}, RegexValidator),
    "choice": ({"type": "choice", "options": ["a", "b"]}, ChoiceValidator),
    "length": ({"type": "length", "max_chars": 5}, LengthValidator),
    "contains": ({"type": "contains", "value": "x"}, ContainsValidator),
    "not_contains": ({"type": "not_contains", "value": "x"}, NotContainsValidator),
}


@pytest.mark.parametrize("kind", sorted(MINE))
def test_build_makes_the_validator_its_type_names(kind: str) -> None:
    spec, cls = MINE[kind]
    validator = build(spec)
    assert type(validator) is cls
    assert validator.name == kind
    verdict = validator.check(Answer("x"))
    assert isinstance(verdict, Verdict)
    assert verdict.validator == kind


def test_every_builtin_type_points_at_a_module_and_class() -> None:
    for kind, target in BUILTIN.items():
        assert re.fullmatch(r"freehold\.validate\.\w+:[A-Z]\w+Validator", target), kind


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([1, 2], "a validator spec must be a mapping with a type, not a list"),
        ("json", "a validator spec must be a mapping with a type, not a str"),
        ({"pattern": "x"}, "type: required key is missing; known types: arithmetic, choice, "),
        ({"type": "regexp"}, "type: unknown validator 'regexp'; known types: arithmetic, "),
        ({"type": 3}, "type: unknown validator 3; known types: "),
    ],
)
def test_build_rejects_what_is_not_a_known_spec(spec: Any, message: str) -> None:
    with pytest.raises(SpecError) as raised:
        build(spec)
    assert str(raised.value).startswith(message)


def test_an_unimportable_builtin_is_a_spec_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BUILTIN, "json", "freehold.validate.no_such_module:JsonValidator")
    with pytest.raises(SpecError, match=r"^type: validator 'json' is unavailable \(No module"):
        build({"type": "json"})
    monkeypatch.setitem(BUILTIN, "json", "freehold.validate.json_checks:NoSuchValidator")
    with pytest.raises(SpecError, match=r"^type: validator 'json' is unavailable"):
        build({"type": "json"})


def test_spec_errors_start_with_the_key_so_callers_can_point_at_it() -> None:
    with pytest.raises(SpecError) as raised:
        build({"type": "regex", "pattern": "(x"})
    key, _, reason = str(raised.value).partition(": ")
    assert key == "pattern"
    assert reason.startswith("invalid regular expression")


def test_build_all_prefixes_the_index() -> None:
    good = {"type": "json"}
    cases = [
        ([good, {"type": "regex", "pattern": "(x"}], "[1].pattern: invalid regular expression"),
        ([{"type": "regex", "pattern": "x", "flags": ["I", "Q"]}], "[0].flags[0]: unknown flag"),
        ([good, good, [1]], "[2]: a validator spec must be a mapping with a type, not a list"),
        ([{"type": "nope"}], "[0].type: unknown validator 'nope'"),
    ]
    for specs, message in cases:
        with pytest.raises(SpecError) as raised:
            build_all(specs)
        assert str(raised.value).startswith(message), raised.value


def test_build_all_builds_in_order_and_wants_a_list() -> None:
    built = build_all([{"type": "json"}, {"type": "contains", "value": "x"}])
    assert [v.name for v in built] == ["json", "contains"]
    assert build_all([]) == []
    with pytest.raises(SpecError, match=r"^validators must be a list of specs, not a dict"):
        build_all({"type": "json"})  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"not a str"):
        build_all("json")  # type: ignore[arg-type]


def test_build_cached_reuses_one_validator_per_distinct_spec() -> None:
    spec = json.dumps({"type": "regex", "pattern": "cached-[0-9]+"}, sort_keys=True)
    first = build_cached(spec)
    assert build_cached(spec) is first
    other = build_cached(json.dumps({"type": "regex", "pattern": "cached-[a-z]+"}))
    assert other is not first
    assert first.check(Answer("cached-12")).passed
    assert not other.check(Answer("cached-12")).passed


def test_build_cached_reports_bad_specs_every_time() -> None:
    for _ in range(2):
        with pytest.raises(SpecError, match=r"^type: unknown validator 'nope'"):
            build_cached('{"type": "nope"}')
    with pytest.raises(SpecError, match=r"^a validator spec must be a JSON object"):
        build_cached("{not json")
    with pytest.raises(SpecError, match=r"^a validator spec must be a mapping"):
        build_cached("[1]")
    with pytest.raises(SpecError, match=r"^a validator spec must be a JSON object"):
        build_cached("[" * 100_000)
    assert registry.build_cached.cache_info().maxsize == registry.CACHE_SIZE


class Crashes:
    name = "crashes"

    def check(self, answer: Answer) -> Verdict:
        return Verdict(self.name, True, str(1 / len(answer.text)))


def test_run_all_turns_a_crash_into_a_failed_verdict_and_keeps_going() -> None:
    validators = [build({"type": "contains", "value": "a"}), Crashes(), build({"type": "json"})]
    verdicts = run_all(validators, Answer(""))
    assert [v.validator for v in verdicts] == ["contains", "crashes", "json"]
    crashed = verdicts[1]
    assert not crashed.passed
    assert crashed.reason == "validator crashed: ZeroDivisionError: division by zero"
    assert [v.passed for v in run_all(validators, Answer("a"))] == [True, True, False]
    assert run_all([], Answer("x")) == []


# ---- SpecReader -------------------------------------------------------------------------


def test_reader_refuses_unknown_keys_and_names_the_known_ones() -> None:
    with pytest.raises(SpecError, match=r"^colour: unknown key; this validator's keys are: a, b$"):
        SpecReader({"type": "t", "colour": 1}, ("a", "b"))
    with pytest.raises(SpecError, match=r"keys are: none$"):
        SpecReader({"type": "t", "x": 1}, ())
    with pytest.raises(SpecError, match=r"^a validator spec must be a mapping"):
        SpecReader([], ())  # type: ignore[arg-type]


def test_reader_types_are_strict() -> None:
    reader = SpecReader(
        {"flag": 1, "count": True, "ratio": "0.5", "word": "", "words": ["a", ""], "n": 7},
        ("flag", "count", "ratio", "word", "words", "n", "absent"),
    )
    with pytest.raises(SpecError, match=r"^flag: must be true or false, not 1"):
        reader.boolean("flag", False)
    with pytest.raises(SpecError, match=r"^count: must be a whole number, not True"):
        reader.integer("count")
    with pytest.raises(SpecError, match=r"^ratio: must be a number"):
        reader.number("ratio", 1.0, low=0.0, high=1.0)
    with pytest.raises(SpecError, match=r"^word: must be a non-empty string"):
        reader.text("word")
    with pytest.raises(SpecError, match=r"^words\[1\]: must be a non-empty string"):
        reader.texts("words")
    with pytest.raises(SpecError, match=r"^n: must be between 0 and 5, not 7"):
        reader.integer("n", high=5)
    assert reader.integer("absent") is None
    assert reader.count("absent", 3) == 3
    assert reader.count("n", 3) == 7
    assert reader.boolean("absent", True) is True
    assert reader.one_of("absent", "x", ("x", "y")) == "x"
    assert not reader.has("absent")
    assert reader.has("n")
