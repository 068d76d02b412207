"""json and json_schema validators: parsing within bounds, schema checks, response_format."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.core.types import ChatRequest
from freehold.validate.base import Answer, SpecError
from freehold.validate.json_checks import (
    JsonLimits,
    JsonRejected,
    JsonSchemaValidator,
    JsonValidator,
    depth,
    implied_validators,
    load_json,
    schema_from_response_format,
    strip_fence,
)
from freehold.validate.schema_bounds import MAX_UNEVALUATED


def json_check(text: str, **spec: Any) -> tuple[bool, str]:
    verdict = JsonValidator.from_spec({"type": "json", **spec}).check(Answer(text))
    assert verdict.validator == "json"
    return verdict.passed, verdict.reason


def schema_check(schema: Any, text: str, **spec: Any) -> Any:
    validator = JsonSchemaValidator.from_spec({"type": "json_schema", "schema": schema, **spec})
    verdict = validator.check(Answer(text))
    assert verdict.validator == "json_schema"
    return verdict


# ---- json -------------------------------------------------------------------------------


def test_json_accepts_any_kind_by_default_and_reports_it() -> None:
    for text, kind in [("{}", "object"), ("[1]", "array"), ('"s"', "string"), ("1.5", "number")]:
        verdict = JsonValidator.from_spec({"type": "json"}).check(Answer(f"  {text}\n"))
        assert verdict.passed
        assert verdict.details == {"kind": kind}
    assert json_check("null") == (True, "valid JSON (null)")
    assert json_check("true") == (True, "valid JSON (boolean)")


def test_json_allow_restricts_the_kind() -> None:
    assert json_check('{"a": 1}', allow="object")[0]
    assert json_check("[1, 2]", allow="object") == (False, "JSON is a array, not an object")
    assert json_check("[1, 2]", allow="array")[0]
    assert not json_check('"x"', allow="array")[0]
    with pytest.raises(SpecError, match=r"^allow: must be one of object, array, any"):
        JsonValidator.from_spec({"type": "json", "allow": "string"})


def test_json_invalid_answer_names_line_and_column() -> None:
    passed, reason = json_check('{"a": 1,\n "b": }')
    assert not passed
    assert reason.startswith("not valid JSON: Expecting value at line 2 column 7")
    assert json_check("") == (False, "not valid JSON: Expecting value at line 1 column 1")


def test_json_rejects_nan_and_infinity() -> None:
    for text in ("NaN", "[Infinity]", '{"x": -Infinity}'):
        passed, reason = json_check(text)
        assert not passed
        assert "is not a JSON value" in reason


def test_fenced_block_is_unwrapped_only_when_it_is_the_whole_answer() -> None:
    assert json_check('```json\n{"a": 1}\n```')[0]
    assert json_check("\n```\n[1]\n```  ")[0]
    assert json_check('```JSON\n{"a": 1}```')[0]
    assert not json_check('Here it is:\n```json\n{"a": 1}\n```')[0]
    assert not json_check('```python\n{"a": 1}\n```')[0]
    assert not json_check('```json\n{"a": 1}\n```\n```json\n{"b": 2}\n```')[0]
    assert not json_check('```json\n{"a": 1}\n```', strip_fences=False)[0]
    assert strip_fence("```{}```") == "```{}```"  # no newline after the opening fence


def test_spec_keys_are_checked() -> None:
    with pytest.raises(SpecError, match=r"^strict: unknown key"):
        JsonValidator.from_spec({"type": "json", "strict": True})
    with pytest.raises(SpecError, match=r"^max_chars: must be at least 1"):
        JsonValidator.from_spec({"type": "json", "max_chars": 0})
    with pytest.raises(SpecError, match=r"^max_depth: must be between 1 and 500"):
        JsonValidator.from_spec({"type": "json", "max_depth": 10_000})
    with pytest.raises(SpecError, match=r"^strip_fences: must be true or false"):
        JsonValidator.from_spec({"type": "json", "strip_fences": "yes"})


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(value=json_values, fenced=st.booleans(), indent=st.sampled_from([None, 2]))
def test_every_json_document_parses_back_to_itself(value: Any, fenced: bool, indent: Any) -> None:
    text = json.dumps(value, indent=indent)
    if fenced:
        text = f"```json\n{text}\n```"
    assert load_json(text) == value
    assert json_check(text)[0]


# ---- adversarial answers ----------------------------------------------------------------


def test_a_five_megabyte_answer_is_refused_before_parsing() -> None:
    text = "[" + "1," * 2_500_000 + "1]"
    started = time.perf_counter()
    passed, reason = json_check(text)
    assert time.perf_counter() - started < 0.5
    assert not passed
    assert reason == f"answer is {len(text)} characters, over the limit of 1000000"
    assert json_check(text, max_chars=6_000_000)[0]
    assert not json_check("[1, 2]", max_chars=5)[0]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        "[" * 10_000,  # unterminated as well
        "[" * 1_000_000 + "]" * 1_000_000,
    ],
)
def test_deep_nesting_fails_the_verdict_and_never_raises(text: str) -> None:
    passed, reason = json_check(text, max_chars=3_000_000)
    assert not passed
    assert "nested deeper than 200 levels" in reason or reason.startswith("not valid JSON")
    verdict = schema_check({"type": "array"}, text, max_chars=3_000_000)
    assert not verdict.passed
    assert verdict.details["errors"][0]["path"] == "$"


def test_nesting_limit_is_exact() -> None:
    assert json_check("[" * 200 + "]" * 200)[0]
    assert json_check("[" * 201 + "]" * 201) == (False, "JSON nested deeper than 200 levels")
    assert json_check("[[[1]]]", max_depth=3)[0]
    assert not json_check("[[[[1]]]]", max_depth=3)[0]


def test_brackets_and_escaped_quotes_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps(['\\"[[[[', '"{{{{"', "\\", "]]]]"])
    assert depth(text) == 1
    assert json_check(text, max_depth=2)[0]
    assert depth('{"a": [{"b": "]]]"}, []]}') == 3


def test_huge_numbers_are_bounded() -> None:
    assert json_check("9" * 4000)[0]
    passed, reason = json_check("9" * 5000)
    assert not passed
    assert reason == "not valid JSON: a number has more than 4300 digits"
    assert not json_check("0." + "1" * 5000)[0]
    assert json_check("1e999999")[0]  # valid JSON; it reads as infinity
    verdict = schema_check({"type": "number", "maximum": 10}, "1e999999")
    assert not verdict.passed
    assert "greater than the maximum" in verdict.reason
    with pytest.raises(JsonRejected, match="4300"):
        load_json('{"n": [' + "1" * 4500 + "]}", JsonLimits())


# ---- json_schema ------------------------------------------------------------------------

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_schema_accepts_a_conforming_answer() -> None:
    verdict = schema_check(PERSON, '{"name": "Ada", "age": 36}')
    assert verdict.passed
    assert verdict.details == {"errors": []}
    assert schema_check(PERSON, '```json\n{"name": "Ada", "age": 0}\n```').passed


def test_schema_errors_carry_json_paths() -> None:
    verdict = schema_check(PERSON, '{"name": 7, "age": -1, "extra": true}')
    assert not verdict.passed
    paths = [error["path"] for error in verdict.details["errors"]]
    assert sorted(paths) == ["$", "$.age", "$.name"]
    assert verdict.reason.startswith("3 schema errors: ")
    assert "$.name: 7 is not of type 'string'" in verdict.reason
    assert "additional properties are not allowed ('extra')" in verdict.reason


def test_reason_quotes_three_errors_and_details_keep_twenty() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    verdict = schema_check(schema, json.dumps(list(range(50))))
    assert verdict.reason.startswith("20+ schema errors: $[0]: 0 is not of type 'string'; ")
    assert verdict.reason.count("is not of type") == 3
    assert verdict.reason.endswith("; …")
    assert len(verdict.details["errors"]) == 20
    assert verdict.details["errors"][19]["path"] == "$[19]"
    single = schema_check(schema, "[1]")
    assert single.reason == "1 schema error: $[0]: 1 is not of type 'string'"


def test_long_error_messages_are_cut() -> None:
    verdict = schema_check({"type": "string"}, json.dumps(["x" * 5000]))
    assert len(verdict.details["errors"][0]["message"]) == 200
    assert len(verdict.reason) < 300


def test_not_json_fails_the_schema_check_with_the_parse_error() -> None:
    verdict = schema_check(PERSON, "Sure! Here is the person: Ada, 36")
    assert not verdict.passed
    assert verdict.reason.startswith("not valid JSON")
    assert verdict.details["errors"][0]["path"] == "$"


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ({"type": "strnig"}, r"^schema: 'strnig' is not valid under any of the given schemas"),
        ({"minimum": "zero"}, r"^schema: 'zero' is not of type 'number' \(at \$\.minimum\)"),
        ({"pattern": "(unclosed"}, r"^schema: '\(unclosed' is not a 'regex'"),
        ([{"type": "object"}], r"^schema: must be a JSON Schema"),
        (None, r"^schema: must be a JSON Schema"),
    ],
)
def test_an_invalid_schema_is_a_spec_error(schema: Any, fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        JsonSchemaValidator.from_spec({"type": "json_schema", "schema": schema})


def test_boolean_schemas_are_schemas() -> None:
    assert schema_check(True, "[1]").passed
    assert not schema_check(False, "[1]").passed


def test_a_very_deep_schema_is_a_spec_error() -> None:
    schema: dict[str, Any] = {}
    for _ in range(5000):
        schema = {"items": schema}
    with pytest.raises(SpecError, match=r"^schema: nested too deeply"):
        JsonSchemaValidator.from_spec({"type": "json_schema", "schema": schema})


def test_unique_items_follows_json_equality_and_scales() -> None:
    schema = {"type": "array", "uniqueItems": True}
    assert schema_check(schema, "[1, true, 0, false, null]").passed
    assert not schema_check(schema, "[1, 1.0]").passed
    assert not schema_check(schema, '[{"a": 1, "b": [2]}, {"b": [2], "a": 1}]').passed
    assert schema_check(schema, '[[1, 2], [2, 1], {"a": [1]}, {"a": [1.5]}]').passed
    many = json.dumps([{"id": i, "tags": [i, str(i)]} for i in range(20_000)])
    started = time.perf_counter()
    assert schema_check(schema, many).passed
    assert time.perf_counter() - started < 2


def test_remote_references_are_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a remote $ref was fetched")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    verdict = schema_check({"$ref": "https://example.com/person.json"}, "{}")
    assert not verdict.passed
    assert verdict.reason.startswith("schema problem: a $ref cannot be resolved")


def test_local_references_resolve() -> None:
    schema = {
        "$defs": {"node": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        "$ref": "#/$defs/node",
    }
    assert schema_check(schema, "[[], [[]]]").passed
    assert not schema_check(schema, "[[], [1]]").passed
    assert schema_check(schema, "[" * 100 + "]" * 100).passed


def test_pathological_schema_pattern_is_stopped_by_the_timeout() -> None:
    started = time.perf_counter()
    verdict = schema_check(
        {"type": "string", "pattern": "(a|aa)+$"}, json.dumps("a" * 40 + "!"), timeout_s=0.2
    )
    assert time.perf_counter() - started < 1.0
    assert not verdict.passed
    assert verdict.reason == "schema validation timed out (pattern '(a|aa)+$')"


def test_pathological_property_patterns_are_stopped_too() -> None:
    schema = {"patternProperties": {"(a|aa)+$": {}}, "additionalProperties": False}
    started = time.perf_counter()
    verdict = schema_check(schema, json.dumps({"a" * 40 + "!": 1}), timeout_s=0.2)
    assert time.perf_counter() - started < 1.0
    assert "timed out" in verdict.reason
    small = {"patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": False}
    assert schema_check(small, '{"x_a": 1}').passed
    assert not schema_check(small, '{"x_a": "1"}').passed
    assert not schema_check(small, '{"y": 1}').passed


def test_exponential_schemas_are_stopped_by_the_deadline() -> None:
    branch = {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/n"}}
    schema = {"$defs": {"n": {"anyOf": [branch] * 4 + [{"type": "integer"}]}}, "$ref": "#/$defs/n"}
    answer = "0"
    for _ in range(25):
        answer = f"[{answer}, true]"
    started = time.perf_counter()
    verdict = schema_check(schema, answer, timeout_s=0.3)
    assert time.perf_counter() - started < 1.5
    assert verdict.reason == "schema validation timed out"


def test_pattern_bombs_in_a_schema_are_refused_when_built() -> None:
    with pytest.raises(SpecError, match=r"^schema: pattern '\(a\{65535\}\)\{65535\}' refused"):
        JsonSchemaValidator.from_spec(
            {"type": "json_schema", "schema": {"pattern": "(a{65535}){65535}"}}
        )
    with pytest.raises(SpecError, match="refused"):
        JsonSchemaValidator.from_spec(
            {"type": "json_schema", "schema": {"patternProperties": {"(x{99999}){99999}": {}}}}
        )
    # data keywords are not schemas: a "pattern" inside const is just data
    data = {"const": {"pattern": "(a{65535}){65535}"}}
    assert schema_check(data, '{"pattern": "(a{65535}){65535}"}').passed


def test_unevaluated_properties_with_pattern_properties_is_refused() -> None:
    schema = {"patternProperties": {"^x": {}}, "unevaluatedProperties": False}
    with pytest.raises(SpecError, match=r"^schema: unevaluatedProperties together with"):
        JsonSchemaValidator.from_spec({"type": "json_schema", "schema": schema})


def test_unevaluated_keywords_work_on_small_instances_and_refuse_huge_ones() -> None:
    schema = {"allOf": [{"properties": {"a": {}}}], "unevaluatedProperties": False}
    assert schema_check(schema, '{"a": 1}').passed
    assert not schema_check(schema, '{"a": 1, "b": 2}').passed
    huge = json.dumps({f"k{i}": i for i in range(MAX_UNEVALUATED + 1)})
    verdict = schema_check({"unevaluatedProperties": {"type": "integer"}}, huge)
    assert not verdict.passed
    assert "unevaluated members are checked for at most 1000" in verdict.reason
    items = {"prefixItems": [{"type": "integer"}], "unevaluatedItems": False}
    assert schema_check(items, "[1]").passed
    assert not schema_check(items, "[1, 2]").passed


def test_formats_are_annotations_unless_asked_for() -> None:
    schema = {"type": "string", "format": "email"}
    assert schema_check(schema, '"not an email"').passed
    assert not schema_check(schema, '"not an email"', formats=True).passed
    assert schema_check(schema, '"ada@example.org"', formats=True).passed


def test_schema_spec_keys_are_checked() -> None:
    with pytest.raises(SpecError, match=r"^timeout_s: must be above 0"):
        JsonSchemaValidator.from_spec({"type": "json_schema", "schema": {}, "timeout_s": 0})
    with pytest.raises(SpecError, match=r"^schemas: unknown key"):
        JsonSchemaValidator.from_spec({"type": "json_schema", "schemas": {}})


# ---- response_format --------------------------------------------------------------------


def request(response_format: Any) -> ChatRequest:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    if response_format is not None:
        body["response_format"] = response_format
    return ChatRequest.model_validate(body)


def test_a_json_schema_response_format_implies_a_schema_check() -> None:
    rf = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}
    assert schema_from_response_format(rf) == PERSON
    assert implied_validators(request(rf)) == [{"type": "json_schema", "schema": PERSON}]
    built = JsonSchemaValidator.from_spec(implied_validators(request(rf))[0])
    assert built.check(Answer('{"name": "Ada", "age": 36}')).passed


def test_json_object_implies_an_object_check_and_others_imply_nothing() -> None:
    assert implied_validators(request({"type": "json_object"})) == [
        {"type": "json", "allow": "object"}
    ]
    assert implied_validators(request({"type": "text"})) == []
    assert implied_validators(request(None)) == []
    malformed = {"type": "json_schema", "json_schema": {"name": "x", "schema": "nope"}}
    assert implied_validators(request(malformed)) == []
    assert schema_from_response_format(None) is None
    assert schema_from_response_format({"type": "json_schema"}) is None


# ---- stack bounds -----------------------------------------------------------------------


def ref_chain(length: int, last: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}]} for i in range(length)
    }
    return {"$defs": {**defs, f"d{length}": last}, "$ref": "#/$defs/d0"}


def test_a_long_reference_chain_fails_instead_of_overflowing_the_stack() -> None:
    verdict = schema_check(ref_chain(400, {"type": "object"}), "{}")
    assert not verdict.passed
    assert verdict.reason == "answer or schema nests too deeply to check"
    assert schema_check(ref_chain(50, {"type": "object"}), "{}").passed


def test_unevaluated_properties_over_a_long_chain_fails_cleanly() -> None:
    schema = {**ref_chain(400, {"properties": {"a": {}}}), "unevaluatedProperties": False}
    verdict = schema_check(schema, '{"a": 1}')
    assert not verdict.passed
    assert verdict.reason == "answer or schema nests too deeply to check"


def test_a_check_started_deep_in_the_stack_fails_cleanly() -> None:
    validator = JsonSchemaValidator.from_spec(
        {"type": "json_schema", "schema": {"type": "array", "items": {"type": "integer"}}}
    )

    def nested(levels: int) -> Any:
        return validator.check(Answer("[1, 2]")) if levels == 0 else nested(levels - 1)

    assert nested(10).passed
    deep = nested(sys.getrecursionlimit() - 100)
    assert not deep.passed
    assert deep.reason == "answer or schema nests too deeply to check"
