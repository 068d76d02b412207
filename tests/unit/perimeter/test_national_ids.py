"""National identifiers: format rules and check digits, and invalid look-alikes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from freehold.perimeter.base import Detector
from freehold.perimeter.checksums import insee_key, verhoeff_check_digit
from freehold.perimeter.national_ids import (
    AadhaarDetector,
    InseeDetector,
    NinoDetector,
    SsnDetector,
    SteuerIdDetector,
)


def values(detector: Detector, text: str) -> list[str]:
    return [f.value for f in detector.find(text)]


def test_ssn_found_in_prose_and_json() -> None:
    assert values(SsnDetector(), 'SSN 123-45-6789 {"ssn": "078-05-1121"}') == [
        "123-45-6789",
        "078-05-1121",
    ]


@pytest.mark.parametrize(
    "text",
    ["000-12-3456", "666-12-3456", "900-12-3456", "987-65-4321", "123-00-4567", "123-45-0000",
     "2024-01-15", "call 555-123-4567", "id 123-45-67890", "x-123-45-6789"],
)  # fmt: skip
def test_ssn_format_rules(text: str) -> None:
    assert values(SsnDetector(), text) == []


@pytest.mark.parametrize("nino", ["AB123456C", "AB 12 34 56 C", "JG103759A"])
def test_nino_found(nino: str) -> None:
    assert values(NinoDetector(), f"NI number: {nino}.") == [nino]


@pytest.mark.parametrize("text", ["BG123456A", "GB123456A", "DA123456A", "AB123456E", "ab123456c"])
def test_nino_invalid_prefixes_and_suffixes(text: str) -> None:
    assert values(NinoDetector(), text) == []


def test_steuer_id_valid_and_spaced(make: Any) -> None:
    rng = random.Random(3)
    for _ in range(50):
        sid = make.steuer_id(rng)
        spaced = f"{sid[:2]} {sid[2:5]} {sid[5:8]} {sid[8:]}"
        assert values(SteuerIdDetector(), f"IdNr {sid} / {spaced}") == [sid, spaced]


def test_steuer_id_with_a_wrong_check_digit_or_all_distinct_digits_is_ignored(make: Any) -> None:
    sid = make.steuer_id(random.Random(4))
    wrong = sid[:10] + str((int(sid[10]) + 1) % 10)
    assert values(SteuerIdDetector(), f"{wrong} 12345678903") == []


def test_insee_valid_with_key_and_corsica() -> None:
    body = "1851278006084"
    nir = body + f"{insee_key(body):02d}"
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    corsica = "290012A123456"
    assert values(InseeDetector(), f"NIR {nir}, {spaced}, {corsica}{insee_key(corsica):02d}") == [
        nir,
        spaced,
        f"{corsica}{insee_key(corsica):02d}",
    ]


def test_insee_with_a_wrong_key_is_ignored() -> None:
    body = "1851278006084"
    assert values(InseeDetector(), body + f"{insee_key(body) % 97 + 1:02d}") == []


def test_aadhaar_valid_and_grouped(make: Any) -> None:
    number = make.aadhaar(random.Random(5))
    grouped = f"{number[:4]} {number[4:8]} {number[8:]}"
    assert values(AadhaarDetector(), f"Aadhaar {number} or {grouped}") == [number, grouped]


def test_a_bare_twelve_digit_run_needs_an_aadhaar_word_nearby(make: Any) -> None:
    number = make.aadhaar(random.Random(6))
    assert values(AadhaarDetector(), f"let x: u64 = {number};") == []
    assert values(AadhaarDetector(), f"my UID is {number}") == [number]


def test_aadhaar_failing_verhoeff_or_starting_0_or_1_is_ignored() -> None:
    body = "23456789012"
    good = verhoeff_check_digit(body)
    bad = str((int(good) + 1) % 10)
    one = "1" + body[1:]
    assert values(AadhaarDetector(), f"{body}{bad} {one}{verhoeff_check_digit(one)}") == []


def test_aadhaar_is_not_taken_from_a_longer_digit_group() -> None:
    body = "23456789012"
    number = body + verhoeff_check_digit(body)
    grouped = f"{number[:4]} {number[4:8]} {number[8:]} 1234"
    assert values(AadhaarDetector(), grouped) == []
