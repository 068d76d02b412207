"""Request body parsing: every failure is an InvalidRequest naming the parameter."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from freehold.api.body import (
    MAX_LISTED_PROBLEMS,
    check_nesting,
    parse_chat_request,
    parse_json,
)
from freehold.config.schema import ServerSettings
from freehold.core.errors import InvalidRequest
from freehold.core.nesting import MAX_ENCODABLE_DEPTH, too_deep


def test_parse_json_errors() -> None:
    with pytest.raises(InvalidRequest, match="empty"):
        parse_json(b"")
    with pytest.raises(InvalidRequest, match="offset 1"):
        parse_json(b"{\xff}")
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        parse_json(b"{'single': 1}")
    assert parse_json(b'{"a": [1]}') == {"a": [1]}


@pytest.mark.parametrize(
    ("data", "param", "fragment"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model", "Missing required"),
        (
            {"model": "m", "messages": [{"role": "user", "content": 3}]},
            "messages[0].content",
            "Invalid value",
        ),
        ({"model": "m", "messages": [{"role": "user"}], "n": 0}, "n", "greater than or equal"),
        (
            {"model": "m", "messages": [{"role": "user"}], "tools": [{"type": "function"}]},
            "tools[0].function",
            "Missing",
        ),
    ],
)
def test_schema_errors_name_the_parameter(
    data: dict[str, object], param: str, fragment: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request(data)
    assert caught.value.param == param
    assert fragment in caught.value.message


def test_every_problem_is_listed() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request({"model": 1, "messages": "x", "stream": "no"})
    message = caught.value.message
    assert caught.value.param == "model"
    for param in ("'model'", "'messages'", "'stream'"):
        assert param in message
    assert "more problem" not in message


def test_many_problems_are_listed_up_to_a_bound() -> None:
    messages = [{"role": "nobody", "content": 1} for _ in range(30)]
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request({"model": "m", "messages": messages})
    message = caught.value.message
    assert message.count("Invalid value") == MAX_LISTED_PROBLEMS
    assert "be a valid string or a valid list" in message  # one sentence per param
    assert "messages[4].role" in message and "messages[5]" not in message
    assert message.endswith("more problems not listed.)")
    assert len(message) < 2_000


@pytest.mark.parametrize("depth", [65, 300, 1000])
def test_nesting_beyond_the_bound_is_refused(depth: int) -> None:
    raw = b'{"model": "m", "x": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(InvalidRequest, match="64 levels deep"):
        check_nesting(raw, parse_json(raw), 64)


def test_nesting_within_the_bound_passes() -> None:
    raw = b'{"a": ' + b"[" * 63 + b"]" * 63 + b"}"  # 64 levels with the outer object
    check_nesting(raw, parse_json(raw), 64)
    many = b"[" + b",".join(b"[1]" for _ in range(5000)) + b"]"  # many brackets, depth 2
    check_nesting(many, parse_json(many), 64)


def test_too_deep_counts_objects_and_arrays() -> None:
    assert not too_deep({"a": [{"b": []}]}, 4)
    assert too_deep({"a": [{"b": []}]}, 3)
    assert not too_deep([1, "x", None], 1)


def test_unknown_fields_are_kept_for_pass_through() -> None:
    request = parse_chat_request(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": True}
    )
    assert request.wire()["logprobs"] is True


def test_the_depth_limit_stays_within_what_freehold_can_write_back() -> None:
    with pytest.raises(ValidationError):
        ServerSettings(max_json_depth=MAX_ENCODABLE_DEPTH + 1)
    deepest = b"[" * MAX_ENCODABLE_DEPTH + b"]" * MAX_ENCODABLE_DEPTH
    data = parse_json(b'{"a": ' + deepest + b"}")
    check_nesting(deepest, data["a"], MAX_ENCODABLE_DEPTH)  # accepted ...
    assert orjson.dumps(data)  # ... and relayed without the encoder giving up
