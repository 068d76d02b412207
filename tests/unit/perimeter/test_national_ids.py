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


# ---- formats as people write them: any case, space/dash/dot/no separator, labels --------


@pytest.mark.parametrize("ssn", ["123-45-6789", "123 45 6789", "123.45.6789", "078 05 1121"])
def test_ssn_with_any_one_separator_is_found_without_a_label(ssn: str) -> None:
    assert values(SsnDetector(), f"mine is {ssn}, thanks") == [ssn]


def test_generated_ssns_with_each_separator_are_found(make: Any) -> None:
    rng = random.Random(21)
    for _ in range(100):
        ssn = make.ssn(rng)
        for separator in "- .":
            written = make.grouped(ssn, (3, 2), separator)
            assert values(SsnDetector(), f"({written})") == [written]


@pytest.mark.parametrize(
    "label",
    ["SSN", "ssn:", "SSN#", "SS#", "S.S.N.", "Social Security Number", "social security no.",
     "SOCIAL SECURITY", "soc sec", "Soc. Sec. #", "tax id", "Tax ID number",
     "taxpayer identification number", "TIN", "ITIN:"],
)  # fmt: skip
def test_a_bare_nine_digit_ssn_is_found_behind_a_label(label: str) -> None:
    assert values(SsnDetector(), f"{label} 123456789") == ["123456789"]
    assert values(SsnDetector(), f"my {label} is, I think, 078051121.") == ["078051121"]


def test_the_label_may_end_the_previous_message_when_the_scanner_joins_them() -> None:
    text = "What is your social security number?\n123456789"
    assert values(SsnDetector(), text) == ["123456789"]


@pytest.mark.parametrize(
    "text",
    [
        "order 123456789 shipped",
        "x = 123456789",
        "a tin can holds 123456789 atoms",  # ``tin`` the metal is not a label
        "Tin 123456789",
        f"SSN {'x' * 60} 123456789",  # the label is too far before
        "123456789 is my SSN",  # labels are read before the number only
        "SSN 000123456 666123456 900123456 123006789 123450000",  # SSA rules still hold
        "SSN 1234567890 or 12345678",  # not nine digits
    ],
)
def test_a_bare_nine_digit_run_without_a_close_label_is_not_an_ssn(text: str) -> None:
    assert values(SsnDetector(), text) == []


@pytest.mark.parametrize(
    "text",
    [
        "123-45 6789",  # mixed separators
        "123.45-6789",
        "123 45.6789",
        "sum 12 123 45 6789 and 10",  # inside a run of numbers
        "values: 123 45 6789 12",
        "1.123.45.6789",
        "2024.01.15 and 3.14.2024",
        "12 * 345 = 4140, 123 * 45 = 5535",
        "pi 3.141.59.2653",
    ],
)
def test_ssn_look_alikes_with_other_separators_are_not_flagged(text: str) -> None:
    assert values(SsnDetector(), text) == []


def test_a_spaced_ssn_in_a_run_of_numbers_is_found_behind_a_label() -> None:
    assert values(SsnDetector(), "SSN: 123 45 6789 10") == ["123 45 6789"]


@pytest.mark.parametrize(
    "nino",
    ["QQ 12 34 56 C", "qq 12 34 56 c", "Qq 12 34 56 c", "QQ-12-34-56-C", "qq-12-34-56-c",
     "QQ.12.34.56.C", "qq.12.34.56.c", "QQ123456C", "qq 123456 c", "AB 123456 C", "JG103759A"],
)  # fmt: skip
def test_nino_in_any_case_with_any_one_separator_is_found(nino: str) -> None:
    assert values(NinoDetector(), f"{nino}, thanks") == [nino]


def test_generated_ninos_are_found_in_each_form(make: Any) -> None:
    rng = random.Random(22)
    for _ in range(100):
        nino = make.nino(rng)
        for separator in " -.":
            for case in (str.upper, str.lower):
                written = case(make.grouped(nino, (2, 2, 2, 2), separator))
                assert values(NinoDetector(), f"({written})") == [written]


@pytest.mark.parametrize(
    "label", ["NI number", "ni no.", "NI #", "National Insurance", "national insurance number:",
              "NINO", "nino:"],
)  # fmt: skip
def test_a_lower_case_run_together_nino_is_found_behind_a_label(label: str) -> None:
    assert values(NinoDetector(), f"{label} qq123456c") == ["qq123456c"]


@pytest.mark.parametrize(
    "text",
    [
        "ab123456c",  # lower case run together, no label: reads as an identifier
        "user_id = 'ce123456a'",
        "qq12 34 56c",
        "QQ 12-34-56 C",  # mixed separators
        "qq.12 34.56.c",
        "gb 12 34 56 a",  # prefixes never issued, in any case
        "NINO: bg123456a, zz 12 34 56 d",
        "qq 12 34 56 e",  # suffix is A–D
        "qq 12 34 56 cd",
        "di 12 34 56 a",  # D is never a first letter
    ],
)
def test_nino_look_alikes_in_lower_case_or_mixed_separators_are_not_flagged(text: str) -> None:
    assert values(NinoDetector(), text) == []


@pytest.mark.parametrize("separator", [" ", "-", ""])
def test_steuer_id_with_dashes_spaces_or_none_is_found(separator: str, make: Any) -> None:
    rng = random.Random(23)
    for _ in range(50):
        written = make.grouped(make.steuer_id(rng), (2, 3, 3), separator)
        assert values(SteuerIdDetector(), f"({written})") == [written]


def test_a_dotted_steuer_id_reads_as_an_amount_and_needs_a_label(make: Any) -> None:
    rng = random.Random(24)
    for _ in range(50):
        written = make.grouped(make.steuer_id(rng), (2, 3, 3), ".")
        assert values(SteuerIdDetector(), f"Umsatz {written} EUR") == []
        assert values(SteuerIdDetector(), f"Steuer-ID: {written}") == [written]
        assert values(SteuerIdDetector(), f"IdNr {written}") == [written]


def test_steuer_id_with_mixed_or_partial_dashes_or_dots_is_ignored(make: Any) -> None:
    sid = make.steuer_id(random.Random(25))
    texts = [
        f"{sid[:2]} {sid[2:5]}-{sid[5:8]} {sid[8:]}",
        f"{sid[:2]}-{sid[2:]}",
        f"Steuer-ID {sid[:2]}.{sid[2:]}",
        f"Steuer-ID {sid[:2]}.{sid[2:5]} {sid[5:8]}.{sid[8:]}",
    ]
    assert [values(SteuerIdDetector(), text) for text in texts] == [[], [], [], []]


@pytest.mark.parametrize("separator", [" ", "-", "."])
def test_insee_with_any_one_separator_is_found(separator: str, make: Any) -> None:
    rng = random.Random(26)
    for _ in range(50):
        written = make.grouped(make.insee(rng), (1, 2, 2, 2, 3, 3), separator)
        assert values(InseeDetector(), f"NIR: {written}.") == [written]


def test_insee_of_corsica_in_lower_case_is_found() -> None:
    body = "290012a123456"
    nir = f"{body}{insee_key(body):02d}"
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    assert values(InseeDetector(), f"{nir} / {spaced}") == [nir, spaced]


def test_insee_with_mixed_or_partial_dashes_or_dots_is_ignored(make: Any) -> None:
    nir = make.insee(random.Random(27))
    texts = [
        f"{nir[0]}.{nir[1:]}",  # a decimal
        f"{nir[0]}-{nir[1:3]}-{nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}",
        f"{nir[0]}.{nir[1:3]}.{nir[3:5]}.{nir[5:7]}.{nir[7:10]}.{nir[10:13]}{nir[13:]}",
    ]
    assert [values(InseeDetector(), text) for text in texts] == [[], [], []]


@pytest.mark.parametrize("separator", [" ", "-", "."])
def test_aadhaar_grouped_by_any_one_separator_is_found(separator: str, make: Any) -> None:
    rng = random.Random(28)
    for _ in range(50):
        written = make.grouped(make.aadhaar(rng), (4, 4), separator)
        assert values(AadhaarDetector(), f"({written})") == [written]


def test_aadhaar_with_mixed_separators_or_in_a_longer_dotted_run_is_ignored(make: Any) -> None:
    number = make.aadhaar(random.Random(29))
    texts = [
        f"{number[:4]} {number[4:8]}-{number[8:]}",
        f"{number[:4]}.{number[4:8]} {number[8:]}",
        f"{number[:4]}.{number[4:8]}.{number[8:]}.1234",
        f"1234.{number[:4]}.{number[4:8]}.{number[8:]}",
    ]
    assert [values(AadhaarDetector(), text) for text in texts] == [[], [], [], []]
