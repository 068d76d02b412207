"""Validators through `freehold serve`: verdicts in headers, responses and the ledger;
on_fail error / annotate / repair; streams buffered; specs checked."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from .conftest import Gateway, MakeClient, StartGateway


def ask(client: openai.OpenAI, text: str, **fields: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model="cloud-big", messages=[{"role": "user", "content": text}], **fields
    )


def freehold(validate: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    return {"extra_body": {"freehold": {"validate": validate, **options}}}


def test_a_failing_answer_with_on_fail_error_is_a_422(
    gateway: Gateway, make_client: MakeClient
) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        ask(
            make_client(gateway),
            "not json [[echo]]",
            **freehold([{"type": "json"}], on_fail="error"),
        )
    response = caught.value.response
    body = response.json()
    assert body["error"]["code"] == "validation_failed"
    assert body["error"]["message"].startswith("The answer failed validation: json: ")
    assert body["freehold"]["verdicts"][0]["validator"] == "json"
    assert body["freehold"]["verdicts"][0]["passed"] is False
    assert response.headers["x-freehold-validation"] == "fail"
    row = gateway.row(response.headers["x-freehold-request-id"])
    assert (row.status, row.error_type, row.validation, row.attempts) == (
        422,
        "validation_failed",
        "fail",
        1,
    )
    assert row.cost_usd > 0  # the upstream call happened and is paid for
    assert row.verdicts[0]["validator"] == "json" and row.verdicts[0]["passed"] is False


def test_annotate_returns_the_answer_with_its_verdicts(
    gateway: Gateway, make_client: MakeClient
) -> None:
    raw = ask(
        make_client(gateway),
        "the answer is 41 [[echo]]",
        **freehold(
            [
                {"type": "number", "equals": 42},
                {"type": "regex", "pattern": "answer", "mode": "search"},
            ]
        ),
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "the answer is 41"
    assert raw.headers["x-freehold-validation"] == "fail"
    report = raw.http_response.json()["freehold"]
    assert report["validation"] == "fail" and report["attempts"] == 1
    assert [(v["validator"], v["passed"]) for v in report["verdicts"]] == [
        ("number", False),
        ("regex", True),
    ]
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.status, row.validation) == (200, "fail")


def test_a_passing_answer(gateway: Gateway, make_client: MakeClient) -> None:
    raw = ask(
        make_client(gateway),
        "#### 42 [[echo]]",
        **freehold([{"type": "number", "equals": 42}], on_fail="error"),
    )
    assert raw.headers["x-freehold-validation"] == "pass"
    assert gateway.row(raw.headers["x-freehold-request-id"]).validation == "pass"


def test_repair_retries_with_the_reasons_and_pays_for_both(
    gateway: Gateway, make_client: MakeClient
) -> None:
    # the mock echoes the last user turn: the repair turn contains what was wrong
    raw = ask(
        make_client(gateway),
        "hello",
        **freehold(
            [{"type": "contains", "value": "failed these checks"}], on_fail="repair", max_repairs=1
        ),
    )
    completion = raw.parse()
    assert "failed these checks" in (completion.choices[0].message.content or "")
    report = raw.http_response.json()["freehold"]
    assert (report["validation"], report["attempts"]) == ("pass", 2)
    row = gateway.row(raw.headers["x-freehold-request-id"])
    assert (row.attempts, row.validation) == (2, "pass")
    # both calls' tokens: the reply's usage is their sum, and so is the cost
    assert completion.usage is not None
    assert (row.prompt_tokens, row.completion_tokens) == (
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
    )
    first_prompt, first_reply = 1, 3  # "hello" → "You said: hello"
    assert row.prompt_tokens > first_prompt and row.completion_tokens > first_reply
    expected = (Decimal("2.5") * row.prompt_tokens + Decimal(10) * row.completion_tokens) / 10**6
    assert row.cost_usd == expected


def test_repair_gives_up_after_max_repairs(gateway: Gateway, make_client: MakeClient) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        ask(
            make_client(gateway),
            "hello",
            **freehold([{"type": "length", "max_chars": 3}], on_fail="repair", max_repairs=2),
        )
    row = gateway.row(caught.value.response.headers["x-freehold-request-id"])
    assert (row.attempts, row.validation, row.status) == (3, "fail", 422)


def test_model_validators_from_config(start_gateway: StartGateway, make_client: MakeClient) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["models"][0]["validators"] = [{"type": "length", "max_chars": 12}]
        config["models"][0]["on_fail"] = "error"

    gateway = start_gateway(edit)
    short = ask(make_client(gateway), "hi")  # "You said: hi" is 12 characters
    assert short.headers["x-freehold-validation"] == "pass"
    assert "freehold" not in short.http_response.json()  # the request asked for no report
    with pytest.raises(openai.UnprocessableEntityError):
        ask(make_client(gateway), "a longer message")


def test_response_format_json_schema_is_checked_automatically(
    gateway: Gateway, make_client: MakeClient
) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    response_format = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    good = ask(make_client(gateway), '{"n": 3} [[echo]]', response_format=response_format)
    assert good.headers["x-freehold-validation"] == "pass"
    bad = ask(make_client(gateway), '{"n": "three"} [[echo]]', response_format=response_format)
    assert bad.headers["x-freehold-validation"] == "fail"


def test_a_validated_stream_is_checked_before_it_is_sent(
    gateway: Gateway, make_client: MakeClient
) -> None:
    client = make_client(gateway)
    raw = ask(
        client,
        "#### 7 [[echo]]",
        stream=True,
        stream_options={"include_usage": True},
        **freehold([{"type": "number", "equals": 7}], on_fail="error"),
    )
    assert raw.headers["x-freehold-validation"] == "pass"
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "#### 7"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 2
    with pytest.raises(openai.UnprocessableEntityError):  # a proper status, not a broken stream
        ask(
            client,
            "#### 8 [[echo]]",
            stream=True,
            **freehold([{"type": "number", "equals": 7}], on_fail="error"),
        )


@pytest.mark.parametrize(
    ("options", "param"),
    [
        ({"validate": [{"type": "regex", "pattern": "("}]}, "freehold.validate[0].pattern"),
        ({"validate": [{"type": "teleport"}]}, "freehold.validate[0].type"),
        ({"validate": [{"type": "python", "plugin": "x"}]}, "freehold.validate[0].type"),
        ({"validate": [{"type": "json"}], "on_fail": "escalate"}, "freehold.on_fail"),
        ({"validate": [{"type": "json"}], "on_fail": "shrug"}, "freehold.on_fail"),
    ],
)
def test_bad_validation_options_are_a_400(
    gateway: Gateway, options: dict[str, Any], param: str
) -> None:
    response = httpx.post(
        gateway.url + "/v1/chat/completions",
        timeout=10,
        json={
            "model": "cloud-big",
            "messages": [{"role": "user", "content": "x"}],
            "freehold": options,
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_freehold_options_never_reach_the_upstream(gateway: Gateway, openai_upstream) -> None:  # type: ignore[no-untyped-def]
    httpx.post(
        gateway.url + "/v1/chat/completions",
        timeout=10,
        json={
            "model": "cloud-big",
            "messages": [{"role": "user", "content": "x"}],
            "freehold": {"validate": [{"type": "json"}]},
        },
    )
    sent = openai_upstream._server.config.app.state.requests[-1]["body"]
    assert "freehold" not in sent
    assert json.dumps(sent).find("validate") == -1
