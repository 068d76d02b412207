"""Custom terms (folded, confusable- and zero-width-insensitive, word-bounded) and regexes."""

from __future__ import annotations

import time

import pytest

from freehold.perimeter.custom import PatternDetector, TermDetector, fold, fold_with_offsets

TERMS = TermDetector({"Project Nightjar": "codename", "Acme": "customer", "Müller AG": "customer"})


def spans(text: str, detector: TermDetector = TERMS) -> list[tuple[str, str]]:
    found = detector.find(text)
    for f in found:
        assert text[f.start : f.end] == f.value
    return [(f.kind, f.value) for f in found]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("status of project nightjar?", "project nightjar"),
        ("PROJECT NIGHTJAR", "PROJECT NIGHTJAR"),
        ("ask Acme.", "Acme"),
        ("ＡＣＭＥ (full width)", "ＡＣＭＥ"),
        ("\u0410cme with a Cyrillic A", "\u0410cme"),
        ("\u0430\u0441m\u0435 all Cyrillic look-alikes", "\u0430\u0441m\u0435"),
        ("Ac\u200bme with a zero-width space", "Ac\u200bme"),
        ("A\u00adcme with a soft hyphen", "A\u00adcme"),
        ("MÜLLER AG", "MÜLLER AG"),
        ("Mu\u0308ller AG decomposed", "Mu\u0308ller AG"),
        ('{"customer": "acme"}', "acme"),
        ("https://acme.example/path", "acme"),
        ("```python\nclient = 'Acme'\n```", "Acme"),
    ],
)
def test_terms_are_found_folded(text: str, value: str) -> None:
    assert value in [v for _, v in spans(text)]


@pytest.mark.parametrize(
    "text", ["acmeville", "macme", "acme_corp", "Project Nightjars", "Mueller"]
)
def test_terms_need_word_boundaries(text: str) -> None:
    assert spans(text) == []


def test_labels_become_kinds_and_plain_terms_are_term() -> None:
    assert spans("acme and project nightjar") == [
        ("term:customer", "acme"),
        ("term:codename", "project nightjar"),
    ]
    assert spans("Zephyr", TermDetector(["zephyr", "  "])) == [("term", "Zephyr")]


def test_no_terms_finds_nothing() -> None:
    assert TermDetector([]).find("anything") == []


def test_fold_maps_back_to_original_offsets() -> None:
    folded, starts, ends = fold_with_offsets("Straße Ａ")
    assert folded == "strasse a"
    assert (starts[4], ends[5]) == (4, 5)  # both s of ß come from index 4
    assert fold("ＡＣ\u200bМЕ") == "acme"
    assert fold_with_offsets("plain") == ("plain", [], [])


def test_a_hundred_thousand_terms_build_and_match_quickly() -> None:
    terms = {f"customer{i:06d}": "customer" for i in range(100_000)}
    started = time.perf_counter()
    detector = TermDetector(terms)
    assert time.perf_counter() - started < 5
    assert detector.size == 100_000
    text = "nothing here " * 80 + "but CUSTOMER099999 and customer000000x"
    assert spans(text, detector) == [("term:customer", "CUSTOMER099999")]


def test_patterns() -> None:
    detector = PatternDetector({"ticket": r"\bINC-\d{6}\b", "empty": r"x*"})
    found = detector.find("see INC-123456 and INC-12")
    assert [(f.kind, f.value) for f in found] == [("pattern:ticket", "INC-123456")]


def test_a_catastrophic_pattern_times_out_instead_of_hanging() -> None:
    detector = PatternDetector({"bad": r"(a+)+$"})
    started = time.perf_counter()
    assert detector.find("a" * 40 + "!") == []
    assert time.perf_counter() - started < 2
