"""Makers of valid (checksum-correct) identifiers, shared by the perimeter tests."""

from __future__ import annotations

import random

import pytest

from freehold.perimeter.checksums import (
    insee_key,
    iso7064_mod11_10_check_digit,
    luhn_check_digit,
    verhoeff_check_digit,
)
from freehold.perimeter.scan import Scanner, ScanOptions


def make_card(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def make_iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def make_aadhaar(rng: random.Random) -> str:
    body = str(rng.randint(2, 9)) + "".join(rng.choice("0123456789") for _ in range(10))
    return body + verhoeff_check_digit(body)


def make_steuer_id(rng: random.Random) -> str:
    digits = rng.sample("0123456789", 9)
    while digits[0] == "0":
        rng.shuffle(digits)
    body = [*digits, digits[rng.randrange(1, 9)]]
    body = body[:1] + sorted(body[1:], key=lambda _: rng.random())
    text = "".join(body)
    if text[0] == "0":
        return make_steuer_id(rng)
    return text + iso7064_mod11_10_check_digit(text)


def make_insee(rng: random.Random) -> str:
    body = (
        f"{rng.randint(1, 2)}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}"
        f"{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    )
    return body + f"{insee_key(body):02d}"


def make_ssn(rng: random.Random) -> str:
    """Nine digits that keep the SSA's rules (area not 000, 666 or 9xx; group not 00; serial
    not 0000)."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def make_nino(rng: random.Random) -> str:
    """A UK National Insurance number with allowed prefix letters, compact and upper case."""
    first, second = "ABCEGHJKLMNOPRSTWXYZ", "ABCEGHJKLMNPRSTWXYZ"
    prefix = rng.choice(first) + rng.choice(second)
    while prefix in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        prefix = rng.choice(first) + rng.choice(second)
    return f"{prefix}{rng.randint(0, 999_999):06d}{rng.choice('ABCD')}"


def grouped(value: str, sizes: tuple[int, ...], separator: str) -> str:
    """``value`` cut into parts of ``sizes`` (then one part with the rest, if any), joined by
    ``separator``: ``grouped("123456789", (3, 2), "-") == "123-45-6789"``."""
    parts, at = [], 0
    for size in (*sizes, len(value)):
        if at < len(value):
            parts.append(value[at : at + size])
            at += size
    return separator.join(parts)


class Makers:
    """The makers above, as one fixture (tests import nothing from conftest)."""

    card = staticmethod(make_card)
    iban = staticmethod(make_iban)
    aadhaar = staticmethod(make_aadhaar)
    steuer_id = staticmethod(make_steuer_id)
    insee = staticmethod(make_insee)
    ssn = staticmethod(make_ssn)
    nino = staticmethod(make_nino)
    grouped = staticmethod(grouped)


@pytest.fixture(scope="session")
def make() -> Makers:
    return Makers()


@pytest.fixture(scope="session")
def scanner() -> Scanner:
    return Scanner(ScanOptions())
