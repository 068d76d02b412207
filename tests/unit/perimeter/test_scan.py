"""The scanner: families, overlap resolution, the request walker, and Finding's privacy."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest

from freehold.perimeter.base import Finding
from freehold.perimeter.scan import Located, Scanner, ScanOptions, resolve_overlaps, scan_request

TOKEN = "ghp_" + "Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef3Hi6"


def test_finding_repr_hides_the_value() -> None:
    finding = Finding("email", "pii", 0, 15, "ana@example.org")
    assert "ana" not in repr(finding) and "example" not in str(finding)
    assert "15 chars" in repr(finding)
    assert finding.shifted(3) == Finding("email", "pii", 3, 18, "ana@example.org")


def test_default_scanner_finds_each_family(scanner: Scanner) -> None:
    text = f"mail ana@example.org, call +44 20 7946 0958, token {TOKEN}, k Zx9Qk2Lm8Np4Rt6Vw1Yb3Cd"
    assert [f.kind for f in scanner.scan(text)] == [
        "email",
        "phone",
        "github_token",
        "high_entropy",
    ]


def test_empty_text(scanner: Scanner) -> None:
    assert scanner.scan("") == []


def test_families_can_be_chosen_and_unknown_ones_are_refused() -> None:
    only_secrets = Scanner(ScanOptions(families=frozenset({"secrets"})))
    assert [f.kind for f in only_secrets.scan(f"ana@example.org {TOKEN}")] == ["github_token"]
    with pytest.raises(ValueError, match="unknown detector families"):
        Scanner(ScanOptions(families=frozenset({"pii", "nope"})))


def test_specific_secrets_beat_generic_entropy_and_pii() -> None:
    scanner = Scanner()
    assert [f.kind for f in scanner.scan(TOKEN)] == ["github_token"]
    found = scanner.scan("postgres://admin:s3cr3tP4ss@db.internal:5432/app")
    assert [(f.kind, f.value) for f in found] == [("url_password", "s3cr3tP4ss")]


def test_resolve_overlaps_keeps_the_longest_then_orders_by_position() -> None:
    a = Finding("term", "custom", 0, 4, "acme")
    b = Finding("email", "pii", 0, 15, "acme@example.org")
    c = Finding("high_entropy", "secret", 10, 40, "x" * 30)
    d = Finding("ipv4", "pii", 50, 57, "1.2.3.4")
    assert resolve_overlaps([a, b, c, d]) == [b, d]


def test_custom_terms_and_patterns_are_added() -> None:
    scanner = Scanner(
        ScanOptions(custom_terms={"Nightjar": "codename"}, custom_patterns={"t": r"INC-\d+"})
    )
    assert [f.kind for f in scanner.scan("nightjar INC-42")] == ["term:codename", "pattern:t"]


def test_spans_point_into_the_original_text_after_unicode_folding() -> None:
    scanner = Scanner(ScanOptions(custom_terms=("Nightjar",)))
    text = "Straße ＮＩＧＨＴ\u200bЈАR — ana@example.org"
    found = scanner.scan(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [
        ("term", "ＮＩＧＨＴ\u200bЈАR"),
        ("email", "ana@example.org"),
    ]


def test_a_failed_assertion_on_findings_does_not_print_values() -> None:
    found = Scanner().scan("ana@example.org")
    assert "ana@" not in f"{found}"


def test_scan_request_walks_contents_parts_tool_calls_and_results(scanner: Scanner) -> None:
    request = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [
                {"type": "text", "text": "I am ana@example.org"},
                {"type": "image_url", "image_url": {"url": "https://x.example/a.png"}},
                {"type": "text", "text": "card 4111 1111 1111 1111"},
            ]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "1", "type": "function",
                 "function": {"name": "lookup", "arguments": json.dumps({"ip": "10.1.2.3"})}},
            ]},
            {"role": "tool", "tool_call_id": "1", "content": f"token {TOKEN}"},
            {"role": "assistant",
             "function_call": {"name": "f", "arguments": '{"ssn": "123-45-6789"}'}},
            "not a message",
        ],
    }  # fmt: skip
    found = scan_request(scanner, request)
    assert [(loc.message, loc.path, loc.finding.kind) for loc in found] == [
        (1, ("content", 0, "text"), "email"),
        (1, ("content", 2, "text"), "card"),
        (2, ("tool_calls", 0, "function", "arguments"), "ipv4"),
        (3, ("content",), "github_token"),
        (4, ("function_call", "arguments"), "us_ssn"),
    ]
    assert isinstance(found[0], Located)


def test_scan_request_tolerates_odd_shapes(scanner: Scanner) -> None:
    assert scan_request(scanner, {}) == []
    assert scan_request(scanner, {"messages": "nope"}) == []
    odd = {"messages": [{"role": "user", "content": [1, {"text": 2}]}, {"tool_calls": "x"}]}
    assert scan_request(scanner, odd) == []


def test_a_label_in_the_previous_message_gates_a_number_in_the_next(
    scanner: Scanner, make: Any
) -> None:
    aadhaar = make.aadhaar(random.Random(5))  # a bare 12-digit run needs its label nearby
    asked = {"role": "assistant", "content": "Thanks. What is your Aadhaar number?"}
    answer = {"role": "user", "content": aadhaar}
    located = scan_request(scanner, {"messages": [asked, answer]})
    assert [(x.message, x.finding.kind, x.finding.value) for x in located] == [
        (1, "in_aadhaar", aadhaar)
    ]
    unlabelled = {"role": "assistant", "content": "Thanks. How many grains of rice?"}
    assert scan_request(scanner, {"messages": [unlabelled, answer]}) == []
    assert scanner.scan(aadhaar) == []


def test_context_is_read_but_never_reported(scanner: Scanner) -> None:
    context = "mail ana@example.org"
    [finding] = scanner.scan("and bo@example.org", context)
    assert (finding.value, finding.start) == ("bo@example.org", 4)
    assert scanner.scan("nothing here", context) == []


def test_many_overlapping_findings_resolve_in_log_linear_time() -> None:
    findings = [Finding("x", "pii", i, i + 3, "abc") for i in range(0, 60_000)]
    kept = resolve_overlaps(findings)
    assert [f.start for f in kept[:3]] == [0, 3, 6]
    assert all(a.end <= b.start for a, b in itertools.pairwise(kept))
