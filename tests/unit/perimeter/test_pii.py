"""E-mail, payment card, IBAN, IP and phone detectors: positives, look-alikes that must not
be flagged, and values inside code, JSON and URLs."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from freehold.perimeter.base import Detector
from freehold.perimeter.phones import PhoneDetector
from freehold.perimeter.pii import (
    IBAN_LENGTHS,
    CardDetector,
    EmailDetector,
    IbanDetector,
    IpDetector,
)


def values(detector: Detector, text: str) -> list[str]:
    found = detector.find(text)
    for f in found:
        assert text[f.start : f.end] == f.value
    return [f.value for f in found]


# ---- e-mail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.silva+tag@example.co.uk today", ["ana.silva+tag@example.co.uk"]),
        ('{"to": "bob@corp.example"}', ["bob@corp.example"]),
        ("<a href='mailto:x_y@mail.example.org'>", ["x_y@mail.example.org"]),
        ("```\nuser = 'dev@team.example'\n```", ["dev@team.example"]),
        ("@decorator and a @ b and user@localhost and x@y.z", []),
        ("result = A@B.T", []),
    ],
)
def test_email(text: str, expected: list[str]) -> None:
    assert values(EmailDetector(), text) == expected


# ---- cards ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "378282246310005",
     "5555555555554444", "2223003122003222", "6011111111111117", "3530111333300000"],
)  # fmt: skip
def test_card_numbers_are_found_with_their_exact_span(card: str) -> None:
    text = f'pay with {card}, thanks {{"card": "{card}"}}'
    assert values(CardDetector(), text) == [card, card]


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn
        "1234 5678 9012 3456",  # fails Luhn
        "4111 1111-1111 1111",  # mixed separators
        "9111111111111119",  # passes Luhn, no issuer starts with 9
        "order 10000000000000007 shipped",  # 17 digits, prefix 1
        "v4111111111111111",  # glued to a word
        "3.141592653589793238",  # digits of a decimal
        "4111111111111111.5",
    ],
)
def test_card_look_alikes_are_not_flagged(text: str) -> None:
    assert values(CardDetector(), text) == []


@pytest.mark.parametrize("separator", [" ", "-", "."])
@pytest.mark.parametrize("card", ["4111111111111111", "5555555555554444", "6011111111111117"])
def test_cards_grouped_in_fours_by_any_separator_are_found(
    card: str, separator: str, make: Any
) -> None:
    written = make.grouped(card, (4, 4, 4), separator)
    assert values(CardDetector(), f"card no. {written}, exp 12/27") == [written]


def test_an_amex_number_dotted_as_printed_is_found() -> None:
    assert values(CardDetector(), "amex 3782.822463.10005.") == ["3782.822463.10005"]


@pytest.mark.parametrize(
    "text",
    [
        "4.111111111111111",  # a decimal whose digits pass Luhn
        "x = 41.11111111111111 * 2",
        "4111.1111.1111111",  # dots, not in printed groups
        "4111.1111 1111.1111",  # mixed separators
        "4111.1111-1111.1111",
        "4111.1111.1111.1111.2222.3",  # a longer dotted run
    ],
)
def test_dotted_numbers_that_are_not_printed_cards_are_not_flagged(text: str) -> None:
    assert values(CardDetector(), text) == []


def test_a_random_sixteen_digit_number_failing_luhn_is_ignored() -> None:
    rng = random.Random(7)
    detector = CardDetector()
    for _ in range(200):
        body = "4" + "".join(rng.choice("0123456789") for _ in range(15))
        if detector.find(body):
            from freehold.perimeter.checksums import luhn_valid

            assert luhn_valid(body)


# ---- IBAN -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    ["DE89370400440532013000", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
     "GB82 WEST 1234 5698 7654 32", "FR1420041010050500013M02606", "NL91ABNA0417164300"],
)  # fmt: skip
def test_ibans_are_found(iban: str) -> None:
    text = f"IBAN: {iban}. See https://bank.example/pay?iban={iban.replace(' ', '')}&x=1"
    assert values(IbanDetector(), text) == [iban, iban.replace(" ", "")]


@pytest.mark.parametrize(
    "text",
    ["DE88370400440532013000", "DE89 3704 0044 0532 0130 01", "XX89370400440532013000",
     "DE8937040044053201300", "ISBN9780306406157ABCD", "HTTP2023RELEASENOTES"],
)  # fmt: skip
def test_iban_look_alikes_are_not_flagged(text: str) -> None:
    assert values(IbanDetector(), text) == []


def test_an_iban_followed_by_a_word_keeps_its_own_length() -> None:
    assert values(IbanDetector(), "DE89 3704 0044 0532 0130 00 ABCD") == [
        "DE89 3704 0044 0532 0130 00"
    ]


PUBLISHED_IBANS = [
    "DE89370400440532013000",
    "GB82WEST12345698765432",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "BE68539007547034",
]


@pytest.mark.parametrize("case", [str.upper, str.lower, str.title])
@pytest.mark.parametrize("separator", [" ", "-", ".", ""])
@pytest.mark.parametrize("iban", PUBLISHED_IBANS)
def test_ibans_in_any_case_with_any_separator_are_found(
    iban: str, separator: str, case: Any, make: Any
) -> None:
    written = case(make.grouped(iban, (4,) * 7, separator))
    assert values(IbanDetector(), f"please pay {written}. Thanks") == [written]


@pytest.mark.parametrize("separator", [" ", "-", ".", ""])
def test_generated_lower_case_ibans_are_found(separator: str, make: Any) -> None:
    rng = random.Random(11)
    for country in ("DE", "AT", "ES", "IT", "PL", "CH"):
        bban = "".join(rng.choice("0123456789") for _ in range(IBAN_LENGTHS[country] - 4))
        iban = make.iban(country, bban).lower()
        written = make.grouped(iban, (4,) * 7, separator)
        assert values(IbanDetector(), f"to {written} please") == [written]


@pytest.mark.parametrize(
    "text",
    [
        "de89 3704 0044 0532 0130 01",  # wrong check digits, lower case
        "de89-3704-0044-0532-0130-01",
        "DE89 3704-0044 0532 0130 00",  # mixed separators
        "de89.3704.0044 0532.0130.00",
        "de89 3704 0044 0532 0130 0",  # one character short
        "0a1b2c3d-be68-5390-0754-703412345678",  # cut from a UUID
        "be68-5390-0754-7034abcd",  # the last group runs on
    ],
)
def test_lower_case_and_separated_iban_look_alikes_are_not_flagged(text: str) -> None:
    assert values(IbanDetector(), text) == []


def _hex_like_iban(make: Any) -> str:
    """A valid Belgian IBAN whose account part is hex digits with letters: a hash could
    read like it."""
    return str(make.iban("BE", "0a1b2c3d4e5f")).lower()


def test_a_compact_iban_that_could_be_a_hex_digest_needs_a_banking_word(make: Any) -> None:
    iban = _hex_like_iban(make)
    assert values(IbanDetector(), f"trace={iban} span={iban.upper()}") == []
    assert values(IbanDetector(), f"my IBAN is {iban}") == [iban]
    assert values(IbanDetector(), f"Kontonummer: {iban.upper()}") == [iban.upper()]
    grouped = make.grouped(iban, (4, 4, 4), " ")
    assert values(IbanDetector(), f"to {grouped}") == [grouped]


def test_a_compact_iban_with_a_country_code_no_digest_has_needs_no_banking_word(
    make: Any,
) -> None:
    iban = make.iban("IT", "A1043383104860612128979"[:23])
    assert all(ch in "0123456789ABCDEF" for ch in iban[4:])  # a hex-looking BBAN ...
    assert values(IbanDetector(), f"wire the deposit to {iban} by Monday") == [iban]  # ... "IT"


def test_the_banking_word_must_be_close_before_the_iban(make: Any) -> None:
    iban = _hex_like_iban(make)
    assert values(IbanDetector(), f"bank {'x' * 60} {iban}") == []
    assert values(IbanDetector(), f"{iban} is my bank account") == []


# ---- IP ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("server at 192.168.10.4:8080", ["192.168.10.4"]),
        ("GET http://10.0.0.12/status", ["10.0.0.12"]),
        ('{"ip": "8.8.8.8"}', ["8.8.8.8"]),
        ("client 2001:db8:85a3::8a2e:370:7334 connected", ["2001:db8:85a3::8a2e:370:7334"]),
        ("fe80:0000:0000:0000:0202:b3ff:fe1e:8329", ["fe80:0000:0000:0000:0202:b3ff:fe1e:8329"]),
        ("bind 127.0.0.1 and 0.0.0.0 and ::1 and ::", []),
        ("http://[2001:db8::1]:8080/health", ["2001:db8::1"]),
        ("netmask 255.255.255.0", []),
        ("version 1.2.3 and 1.2.3.4.5 and 256.1.1.1 and 10.0.0", []),
        ("std::vector<int> a::b at 12:30:45", []),
        ("pip install pkg==1.2.3.4 and image app:10.0.0.1 and v4.3.2.1", []),
        ("Upgrade from 2.1 to 5.5.13.3 broke it", []),
        ('{"version": "10.2.0.4"}', []),
    ],
)
def test_ip_addresses(text: str, expected: list[str]) -> None:
    assert values(IpDetector(), text) == expected


# ---- phones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +44 20 7946 0958 today", ["+44 20 7946 0958"]),
        ("tel:+1-415-555-2671", ["+1-415-555-2671"]),
        ("Berlin: 0049 30 901820", ["0049 30 901820"]),
        ("+33 1 42 68 53 00", ["+33 1 42 68 53 00"]),
        ("+91 98765 43210", ["+91 98765 43210"]),
        ("US office (415) 555-2671", ["(415) 555-2671"]),
        ('{"phone": "+81 3-1234-5678"}', ["+81 3-1234-5678"]),
        ("call 1-206-338-4112 after six", ["1-206-338-4112"]),  # the US trunk prefix
        ("Ana (ana@x.org, +44 20 7946 0958) wrote", ["+44 20 7946 0958"]),  # not the ")"
        ("+44 (20) 7946 0958", ["+44 (20) 7946 0958"]),
        ("1 (206) 338-4112", ["1 (206) 338-4112"]),
        ("phone: 2063384112", ["2063384112"]),  # a bare run behind a phone word
        ("Mobile 12063384112.", ["12063384112"]),
        ("What number can we reach you on?\n2063384112", ["2063384112"]),
    ],
)
def test_phones(text: str, expected: list[str]) -> None:
    assert values(PhoneDetector(), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 4155552671 shipped",  # bare digits
        "date 2024-01-15, time 12:30:45",
        "version 10.4.2-1 and build 2024.03.1",
        "+1 000 000 0000",  # invalid number
        "pi is 3.14159265 and e is 2.718281828",
        "price $1,234,567.89",
        "ISBN 978-0-306-40615-7",
        "37/5345 = 0.006922357343",
        "invoice number 2063384112 is overdue",  # a bare run without a phone word
        "phone: 2063384112.5 units",
        "call me at 1000000000",  # not a valid number
    ],
)
def test_phone_look_alikes_are_not_flagged(text: str) -> None:
    assert values(PhoneDetector(), text) == []


def test_national_numbers_need_a_region() -> None:
    assert values(PhoneDetector(regions=()), "(415) 555-2671") == []


def test_values_inside_json_strings_are_found(scanner: Any) -> None:
    payload = json.dumps({"user": {"email": "ana@example.org", "card": "4111111111111111"}})
    assert [f.kind for f in scanner.scan(payload)] == ["email", "card"]
