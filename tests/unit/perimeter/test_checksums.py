"""Check-digit algorithms against published examples and their own check-digit makers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.perimeter.checksums import (
    insee_key,
    insee_valid,
    iso7064_mod11_10_check_digit,
    luhn_check_digit,
    luhn_valid,
    mod97_valid,
    steuer_id_valid,
    verhoeff_check_digit,
    verhoeff_valid,
)


@pytest.mark.parametrize("number", ["4111111111111111", "5500005555555559", "378282246310005"])
def test_luhn_accepts_test_card_numbers(number: str) -> None:
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234567812345678", "", "41a1", "４１"])
def test_luhn_rejects_bad_numbers(number: str) -> None:
    assert not luhn_valid(number)


def test_mod97_accepts_registry_examples_and_rejects_a_changed_check_digit() -> None:
    assert mod97_valid("DE89370400440532013000")
    assert mod97_valid("GB82WEST12345698765432")
    assert not mod97_valid("DE88370400440532013000")
    assert not mod97_valid("DE89-3704")


@pytest.mark.parametrize("iban", ["de89370400440532013000", "Gb82WeSt12345698765432"])
def test_mod97_ignores_the_case_of_letters(iban: str) -> None:
    assert mod97_valid(iban)
    assert not mod97_valid(iban[:2] + "88" + iban[4:])


def test_insee_accepts_corsica_in_lower_case() -> None:
    body = "290012b123456"
    assert insee_key(body) == insee_key(body.upper())
    assert insee_valid(body + f"{insee_key(body):02d}")


def test_verhoeff_known_value() -> None:
    assert verhoeff_check_digit("236") == "3"
    assert verhoeff_valid("2363")
    assert not verhoeff_valid("2364")


def test_steuer_id_rules() -> None:
    body = "8609574271"
    assert steuer_id_valid(body + iso7064_mod11_10_check_digit(body))
    assert not steuer_id_valid("0" + body[1:] + "0")  # leading zero
    assert not steuer_id_valid("1234567890" + iso7064_mod11_10_check_digit("1234567890"))


def test_insee_key_including_corsica() -> None:
    body = "1851278006084"
    assert insee_valid(body + f"{insee_key(body):02d}")
    corsica = "290012A123456"
    assert insee_valid(corsica + f"{insee_key(corsica):02d}")
    assert not insee_valid(body + f"{(insee_key(body) % 97) + 1:02d}")


@given(st.text("0123456789", min_size=1, max_size=30))
def test_check_digit_makers_agree_with_validators(partial: str) -> None:
    assert luhn_valid(partial + luhn_check_digit(partial))
    assert verhoeff_valid(partial + verhoeff_check_digit(partial))


def _change(valid: str, at: int, delta: int) -> str:
    return valid[:at] + str((int(valid[at]) + delta) % 10) + valid[at + 1 :]


@given(st.text("0123456789", min_size=12, max_size=18), st.integers(0, 11), st.integers(1, 9))
def test_a_single_changed_digit_breaks_luhn_and_verhoeff(partial: str, at: int, delta: int) -> None:
    assert not luhn_valid(_change(partial + luhn_check_digit(partial), at, delta))
    assert not verhoeff_valid(_change(partial + verhoeff_check_digit(partial), at, delta))
