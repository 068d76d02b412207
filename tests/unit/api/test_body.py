"""Request body parsing: every failure is an InvalidRequest naming the parameter."""

from __future__ import annotations

import pytest

from freehold.api.body import parse_chat_request, parse_json
from freehold.core.errors import InvalidRequest


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


def test_several_problems_are_counted() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_chat_request({"model": 1, "messages": "x", "stream": "no"})
    assert caught.value.message.endswith("(2 more problems in the request.)")


def test_unknown_fields_are_kept_for_pass_through() -> None:
    request = parse_chat_request(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": True}
    )
    assert request.wire()["logprobs"] is True
