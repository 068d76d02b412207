"""Redaction of chat requests: every finding kind, every place, JSON arguments, collisions."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.perimeter.base import Finding
from freehold.perimeter.redact import Redaction, label_for, redact_request
from freehold.perimeter.restore import restore_json_string, restore_text
from freehold.perimeter.scan import Located, Scanner, ScanOptions, scan_request

RNG = random.Random(7)
B62 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
OPTIONS = ScanOptions(
    custom_terms={"Project Nightjar": "codename"},
    custom_patterns={"ticket": r"\bTCK-\d{6}\b"},
    phone_regions=("US", "GB"),
)


def rand(n: int) -> str:
    return "".join(RNG.choice(B62) for _ in range(n))


@pytest.fixture(scope="module")
def full_scanner() -> Scanner:
    return Scanner(OPTIONS)


def cases(make: Any) -> list[tuple[str, str, str]]:
    """(kind, value, sentence with {v}) for every kind the default scanner reports."""
    rng = random.Random(3)
    return [
        ("email", "ana.lopez@example.org", "write to {v} today"),
        ("phone", "+44 20 7946 0958", "call {v} after lunch"),
        ("card", make.card("4", 16, rng), "card {v} expires"),
        ("iban", make.iban("DE", "370400440532013000"), "IBAN {v} please"),
        ("ipv4", "192.168.10.4", "server at {v}:8080"),
        ("us_ssn", "078-05-1121", "SSN {v} on file"),
        ("uk_nino", "AB123456C", "NI number: {v}."),
        ("de_steuer_id", make.steuer_id(rng), "Steuer-ID {v}."),
        ("fr_insee", make.insee(rng), "NIR {v}."),
        ("in_aadhaar", make.aadhaar(rng), "Aadhaar {v}."),
        ("aws_access_key_id", "AKIAQ3EGRJTYKCPVW6NZ", "key id {v} here"),
        ("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "aws_secret_access_key = {v}"),
        ("gcp_api_key", "AIza" + rand(35), "key={v}&q=1"),
        ("github_token", "ghp_" + rand(36), "token: {v}"),
        ("gitlab_token", "glpat-" + rand(20), "GITLAB_TOKEN={v}"),
        ("stripe_key", "sk_live_" + rand(24), "stripe.api_key = '{v}'"),
        ("openai_key", "sk-" + rand(48), "Authorization: Bearer {v}"),
        ("url_password", "s3cr3t-P4ss", "DATABASE_URL=postgres://admin:{v}@db.internal/app"),
        ("private_key",
         "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
         "```\n{v}\n```"),
        ("high_entropy", "Zx9Qk2Lm8Np4Rt6Vw1Yb3Cd", "k {v}"),
        ("term:codename", "Project Nightjar", "about {v} again"),
        ("pattern:ticket", "TCK-123456", "see {v} for details"),
    ]  # fmt: skip


def request_with(text: str) -> dict[str, Any]:
    """``text`` in every place the scanner looks: content, a text part, tool arguments
    (JSON-encoded, once ASCII-escaped and once not), a tool result."""
    return {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": text},
            {"role": "user", "content": [{"type": "text", "text": text}, {"type": "image_url"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "a", "type": "function",
                     "function": {"name": "f", "arguments": json.dumps({"q": text})}},
                    {"id": "b", "type": "function",
                     "function": {"name": "g",
                                  "arguments": json.dumps({"q": [text]}, ensure_ascii=False)}},
                ],
            },
            {"role": "tool", "tool_call_id": "a", "content": text},
        ],
    }  # fmt: skip


def test_every_kind_round_trips_from_every_place(full_scanner: Scanner, make: Any) -> None:
    for kind, value, template in cases(make):
        text = template.format(v=value)
        body = request_with(text)
        located = scan_request(full_scanner, body)
        assert kind in {item.finding.kind for item in located}, kind
        redacted, redaction = redact_request(body, located)

        assert scan_request(full_scanner, redacted) == [], kind
        dumped = json.dumps(redacted, ensure_ascii=False)
        for item in located:
            assert item.finding.value not in dumped, kind
        assert value not in dumped and json.dumps(value)[1:-1] not in dumped, kind

        messages = redacted["messages"]
        label = label_for(kind, "custom" if kind.startswith(("term", "pattern")) else "x")
        assert f"<{label}_1>" in messages[1]["content"], kind
        assert restore_text(messages[1]["content"], redaction) == text
        assert restore_text(messages[2]["content"][0]["text"], redaction) == text
        assert restore_text(messages[4]["content"], redaction) == text
        first, second = (c["function"]["arguments"] for c in messages[3]["tool_calls"])
        assert json.loads(restore_json_string(first, redaction)) == {"q": text}, kind
        assert json.loads(restore_json_string(second, redaction)) == {"q": [text]}, kind
        assert messages[0] == body["messages"][0] and messages[2]["content"][1] == {
            "type": "image_url"
        }


def test_the_input_is_not_modified(full_scanner: Scanner) -> None:
    body = request_with("mail ana@example.org")
    before = json.dumps(body)
    redact_request(body, scan_request(full_scanner, body))
    assert json.dumps(body) == before


def test_numbering_is_per_kind_by_first_appearance_and_stable_across_the_request(
    full_scanner: Scanner,
) -> None:
    body = {
        "messages": [
            {"role": "user", "content": "a@example.org, b@example.org, call +1 415 555 0101"},
            {"role": "assistant", "tool_calls": [{"function": {"name": "send",
                "arguments": json.dumps({"to": "b@example.org", "cc": "c@example.org"})}}]},
            {"role": "tool", "content": "sent to b@example.org and a@example.org"},
        ]
    }  # fmt: skip
    redacted, redaction = redact_request(body, scan_request(full_scanner, body))
    messages = redacted["messages"]
    assert messages[0]["content"] == "<EMAIL_1>, <EMAIL_2>, call <PHONE_1>"
    arguments = json.loads(messages[1]["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"to": "<EMAIL_2>", "cc": "<EMAIL_3>"}
    assert messages[2]["content"] == "sent to <EMAIL_2> and <EMAIL_1>"
    assert redaction.mapping == {
        "<EMAIL_1>": "a@example.org",
        "<EMAIL_2>": "b@example.org",
        "<PHONE_1>": "+1 415 555 0101",
        "<EMAIL_3>": "c@example.org",
    }
    assert redaction.counts == {"email": 6, "phone": 1}
    assert redaction.placeholders[0] == "<EMAIL_1>" and redaction.longest == len("<EMAIL_1>")


def test_custom_findings_share_one_label_that_hides_the_configured_name() -> None:
    scanner = Scanner(
        ScanOptions(
            families=frozenset(),
            custom_terms={"Nightjar": "codename"},
            custom_patterns={"ticket": r"TCK-\d+"},
        )
    )
    body = {"messages": [{"role": "user", "content": "Nightjar TCK-42 nightjar"}]}
    redacted, redaction = redact_request(body, scan_request(scanner, body))
    assert redacted["messages"][0]["content"] == "<CUSTOM_1> <CUSTOM_2> <CUSTOM_3>"
    assert "codename" not in json.dumps(redacted) and "ticket" not in json.dumps(redacted)
    assert redaction.counts == {"term:codename": 2, "pattern:ticket": 1}


def test_labels() -> None:
    assert label_for("aws_access_key_id", "secret") == "AWS_ACCESS_KEY_ID"
    assert label_for("term:codename", "custom") == "CUSTOM"
    assert label_for("odd kind-1", "pii") == "ODD_KIND_1"
    assert label_for("***", "pii") == "VALUE"


def test_placeholders_already_in_the_prompt_get_a_suffix(full_scanner: Scanner) -> None:
    body = {
        "messages": [
            {"role": "system", "content": "Never print <EMAIL_1> tags."},
            {"role": "user", "content": "mail ana@example.org"},
        ]
    }
    redacted, redaction = redact_request(body, scan_request(full_scanner, body))
    [placeholder] = redaction.placeholders
    assert re.fullmatch(r"<EMAIL_1_[A-Z0-9]{4}>", placeholder)
    assert redacted["messages"][1]["content"] == f"mail {placeholder}"
    assert redacted["messages"][0]["content"] == "Never print <EMAIL_1> tags."
    assert redaction.restore("<EMAIL_1> vs " + placeholder) == "<EMAIL_1> vs ana@example.org"


def test_a_placeholder_elsewhere_in_the_body_also_counts_as_taken(full_scanner: Scanner) -> None:
    body = {
        "messages": [{"role": "user", "content": "mail ana@example.org"}],
        "tools": [{"type": "function", "function": {"name": "f", "description": "<EMAIL_1>"}}],
    }
    _, redaction = redact_request(body, scan_request(full_scanner, body))
    assert redaction.placeholders != ("<EMAIL_1>",)
    # Text that merely resembles other placeholders does not force a suffix.
    body["tools"][0]["function"]["description"] = "<PHONE_1> <EMAIL_2> <EMAIL_1 >"
    _, redaction = redact_request(body, scan_request(full_scanner, body))
    assert redaction.placeholders == ("<EMAIL_1>",)


def test_redaction_repr_hides_values(full_scanner: Scanner) -> None:
    body = {"messages": [{"role": "user", "content": "mail ana@example.org"}]}
    _, redaction = redact_request(body, scan_request(full_scanner, body))
    assert "ana" not in repr(redaction) and "example" not in str(redaction)
    assert repr(redaction) == "Redaction(placeholders=1, counts={'email': 1})"
    assert redaction and not Redaction({}, {})


def test_nothing_found_gives_an_equal_copy_and_an_empty_redaction() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hello"}], "n": 1}
    redacted, redaction = redact_request(body, [])
    assert redacted == body and redacted is not body and not redaction
    assert redaction.restore("a <EMAIL_1>") == "a <EMAIL_1>"


def test_findings_that_do_not_match_the_body_are_refused() -> None:
    body = {"messages": [{"role": "user", "content": "mail ana@example.org"}]}
    stale = Finding("email", "pii", 0, 4, "nope")
    with pytest.raises(ValueError, match="does not match"):
        redact_request(body, [Located(0, ("content",), stale)])
    good = Finding("email", "pii", 5, 20, "ana@example.org")
    with pytest.raises(ValueError, match="places the request does not have"):
        redact_request(body, [Located(3, ("content",), good)])


def test_overlapping_findings_are_merged() -> None:
    body = {"messages": [{"role": "user", "content": "xx abcdef yy"}]}
    located = [
        Located(0, ("content",), Finding("a", "secret", 3, 7, "abcd")),
        Located(0, ("content",), Finding("b", "pii", 5, 9, "cdef")),
    ]
    redacted, redaction = redact_request(body, located)
    assert redacted["messages"][0]["content"] == "xx <A_1> yy"
    assert redaction.mapping == {"<A_1>": "abcdef"}


# --- JSON arguments -------------------------------------------------------------------------

PATTERN_SCANNER = Scanner(
    ScanOptions(families=frozenset(), custom_patterns={"s": r"SECRET.{0,14}"})
)


def arguments_body(arguments: str) -> dict[str, Any]:
    call = {"id": "x", "type": "function", "function": {"name": "f", "arguments": arguments}}
    return {"messages": [{"role": "assistant", "tool_calls": [call]}]}


def redact_arguments(arguments: str) -> tuple[str, Redaction]:
    body = arguments_body(arguments)
    located = scan_request(PATTERN_SCANNER, body)
    assert located
    redacted, redaction = redact_request(body, located)
    return redacted["messages"][0]["tool_calls"][0]["function"]["arguments"], redaction


@pytest.mark.parametrize(
    "value",
    [
        'SECRET"quoted"\\back\\slash',
        "SECRETé€😀 unicode",
        "SECRET\n\ttabs",
        "x\\SECRET\\",
        "SECRET",
        'SECRET\\u00e9 not an escape"',
    ],
)
@pytest.mark.parametrize("ascii_only", [True, False])
def test_arguments_with_escapes_stay_valid_json(value: str, ascii_only: bool) -> None:
    original = {"v": value, "w": ["plain", "SECRET2 " + value], "n": 3}
    arguments = json.dumps(original, ensure_ascii=ascii_only)
    redacted, redaction = redact_arguments(arguments)
    parsed = json.loads(redacted)
    assert "SECRET" not in redacted and "SECRET" not in json.dumps(parsed)
    assert json.loads(restore_json_string(redacted, redaction)) == original
    for placeholder, original_value in redaction.mapping.items():
        assert restore_text(placeholder, redaction) == original_value
        assert "\\u" not in original_value or "\\\\u" in arguments


def test_a_span_that_crosses_json_tokens_is_redacted_token_by_token() -> None:
    arguments = '{"a": "xSECRET", "b": "abc", "c": 1}'
    redacted, redaction = redact_arguments(arguments)
    # 'SECRET", "b": "abc",' — each string part (key included) is redacted, the structure kept.
    assert json.loads(redacted) == {"a": "x<CUSTOM_1>", "<CUSTOM_2>": "<CUSTOM_3>", "c": 1}
    assert redaction.mapping == {"<CUSTOM_1>": "SECRET", "<CUSTOM_2>": "b", "<CUSTOM_3>": "abc"}
    assert json.loads(restore_json_string(redacted, redaction)) == json.loads(arguments)


def test_a_span_that_touches_a_number_replaces_it_by_a_string(full_scanner: Scanner) -> None:
    arguments = '{"card": 4111111111111111, "n": 2}'
    body = arguments_body(arguments)
    redacted, redaction = redact_request(body, scan_request(full_scanner, body))
    text = redacted["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(text) == {"card": "<CARD_1>", "n": 2}
    assert json.loads(restore_json_string(text, redaction)) == {"card": "4111111111111111", "n": 2}


def test_arguments_that_are_not_json_are_redacted_as_text() -> None:
    redacted, redaction = redact_arguments('{"broken": "SECRET\\"')
    assert redacted == '{"broken": "<CUSTOM_1>'
    assert redaction.mapping == {"<CUSTOM_1>": 'SECRET\\"'}


def test_the_same_value_in_prose_and_escaped_json_gets_one_placeholder() -> None:
    value = 'SECRET"é'
    scanner = Scanner(ScanOptions(families=frozenset(), custom_patterns={"s": r'SECRET(\\?")'}))
    body = arguments_body(json.dumps({"q": value}))
    body["messages"].insert(0, {"role": "user", "content": value})
    located = scan_request(scanner, body)
    _, redaction = redact_request(body, located)
    assert redaction.mapping == {"<CUSTOM_1>": 'SECRET"'}


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.text(max_size=12) | st.integers() | st.booleans() | st.none(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=8,
    ),
    st.text(max_size=10),
    st.booleans(),
)
def test_any_arguments_stay_valid_json(data: Any, secret_tail: str, ascii_only: bool) -> None:
    original = {"s": "SECRET" + secret_tail, "data": data, "k": ["SECRET"]}
    arguments = json.dumps(original, ensure_ascii=ascii_only)
    redacted, redaction = redact_arguments(arguments)
    parsed = json.loads(redacted)
    assert "SECRET" not in json.dumps(parsed, ensure_ascii=False)
    restored = json.loads(restore_json_string(redacted, redaction))
    assert same_but_for_quoted_numbers(original, restored)


def same_but_for_quoted_numbers(original: Any, restored: Any) -> bool:
    """Equal, except that a number a span touched comes back as its JSON text."""
    if isinstance(original, dict) and isinstance(restored, dict):
        return list(original) == list(restored) and all(
            same_but_for_quoted_numbers(original[k], restored[k]) for k in original
        )
    if isinstance(original, list) and isinstance(restored, list):
        return len(original) == len(restored) and all(
            map(same_but_for_quoted_numbers, original, restored)
        )
    if isinstance(original, int) and not isinstance(original, bool) and original != restored:
        return restored == json.dumps(original)
    return bool(original == restored) and type(original) is type(restored)


def test_literals_next_to_a_span_are_left_alone() -> None:
    arguments = '{"s": "SECRET", "t": true, "u": null, "f": false}'
    redacted, redaction = redact_arguments(arguments)
    assert json.loads(redacted) == {"s": "<CUSTOM_1>", "<CUSTOM_2>": True, "u": None, "f": False}
    assert json.loads(restore_json_string(redacted, redaction)) == json.loads(arguments)


def test_negative_and_float_numbers_are_replaced_whole() -> None:
    scanner = Scanner(ScanOptions(families=frozenset(), custom_patterns={"n": r"5\.2"}))
    body = arguments_body('{"a": -12345.25e3, "b": [5.2]}')
    redacted, redaction = redact_request(body, scan_request(scanner, body))
    text = redacted["messages"][0]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(text) == {"a": "<CUSTOM_1>", "b": ["<CUSTOM_2>"]}
    assert redaction.mapping == {"<CUSTOM_1>": "-12345.25e3", "<CUSTOM_2>": "5.2"}
