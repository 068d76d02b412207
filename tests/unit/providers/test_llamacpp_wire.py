"""The pure request mapping for the in-process llama.cpp backend."""

from __future__ import annotations

from typing import Any

import pytest

from freehold.core.errors import InvalidRequest, UnsupportedParameter
from freehold.core.types import ChatRequest, Usage
from freehold.providers import llamacpp_wire as wire


def req(**fields: Any) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "local", "messages": [{"role": "user", "content": "hi"}], **fields}
    )


def test_sampling_fields_pass_and_max_tokens_defaults() -> None:
    kwargs = wire.chat_kwargs(req(temperature=0.1, top_p=0.5, seed=3, stop=["x"]), 64)
    assert kwargs == {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 64,
        "temperature": 0.1,
        "top_p": 0.5,
        "seed": 3,
        "stop": ["x"],
    }
    assert wire.chat_kwargs(req(max_tokens=5), 64)["max_tokens"] == 5
    assert wire.chat_kwargs(req(max_completion_tokens=7, max_tokens=5), 64)["max_tokens"] == 7


def test_text_parts_are_joined() -> None:
    request = req(
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            }
        ]
    )
    assert wire.chat_kwargs(request, 8)["messages"] == [{"role": "user", "content": "ab"}]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
    ],
)
def test_what_llama_cpp_cannot_honour_is_refused(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(UnsupportedParameter) as caught:
        wire.chat_kwargs(req(**fields), 8)
    assert caught.value.param == param


def test_response_formats_become_grammars() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert "response_format" not in wire.chat_kwargs(req(response_format={"type": "text"}), 8)
    assert wire.chat_kwargs(req(response_format={"type": "json_object"}), 8)["response_format"] == {
        "type": "json_object"
    }
    mapped = wire.chat_kwargs(
        req(
            response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
        ),
        8,
    )["response_format"]
    assert mapped == {"type": "json_object", "schema": schema}
    with pytest.raises(InvalidRequest) as caught:
        wire.chat_kwargs(req(response_format={"type": "json_schema", "json_schema": {}}), 8)
    assert caught.value.param == "response_format.json_schema.schema"
    with pytest.raises(InvalidRequest):
        wire.chat_kwargs(req(response_format={"type": "yaml"}), 8)


def test_answers_carry_the_served_name_and_freehold_usage() -> None:
    body = wire.answer(
        {"model": "/models/x.gguf", "usage": {"prompt_tokens": 1}}, "local", Usage(5, 2)
    )
    assert body == {
        "model": "local",
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    chunk = wire.usage_chunk("c1", 9, "local", Usage(5, 2))
    assert chunk["choices"] == [] and chunk["usage"]["total_tokens"] == 7


def test_logit_bias_is_checked_and_normalised() -> None:
    kwargs = wire.chat_kwargs(req(logit_bias={"7": 5, "0012": -100.0, "3": 100}), 8)
    assert kwargs["logit_bias"] == {"7": 5.0, "12": -100.0, "3": 100.0}
    wire.check_tokens(kwargs["logit_bias"], vocabulary=13)
    with pytest.raises(InvalidRequest, match="token 12 is not in this model's vocabulary"):
        wire.check_tokens(kwargs["logit_bias"], vocabulary=12)


@pytest.mark.parametrize(
    "value",
    [
        [3],
        "3",
        {"abc": 1},
        {"-1": 1},
        {"1" * 11: 1},
        {"3": 100.5},
        {"3": "1"},
        {"3": True},
        {"3": None},
        {"3": float("nan")},
    ],
)
def test_bad_logit_bias_is_a_400(value: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        wire.chat_kwargs(req(logit_bias=value), 8)
    assert (caught.value.status, caught.value.param) == (400, "logit_bias")
