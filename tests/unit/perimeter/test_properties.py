"""Property tests: valid identifiers embedded anywhere are found with their exact span, and
random words never look like cards or IBANs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.perimeter.checksums import luhn_check_digit, verhoeff_check_digit
from freehold.perimeter.custom import TermDetector
from freehold.perimeter.pii import CardDetector, IbanDetector
from freehold.perimeter.scan import Scanner, ScanOptions

PREFIXES = ["4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "35", "62"]
WORDS = st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=12)
FILLER = st.lists(WORDS, max_size=20).map(" ".join)
SEPARATORS = st.sampled_from([" ", ". ", ", ", "\n", ' "', " (", ": "])


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    length = 15 if prefix in ("34", "37") else draw(st.sampled_from([16, 16, 19]))
    body = prefix + draw(st.text("0123456789", min_size=length - len(prefix) - 1,
                                 max_size=length - len(prefix) - 1))  # fmt: skip
    number = body + luhn_check_digit(body)
    style = draw(st.sampled_from(["", " ", "-"]))
    if style and length == 16:
        number = style.join(number[i : i + 4] for i in range(0, 16, 4))
    return number


@settings(max_examples=300)
@given(FILLER, SEPARATORS, card_numbers(), SEPARATORS, FILLER)
def test_every_valid_card_embedded_in_text_is_found_exactly(
    before: str, sep1: str, card: str, sep2: str, after: str
) -> None:
    text = before + sep1 + card + sep2 + after
    found = CardDetector().find(text)
    start = len(before) + len(sep1)
    assert [(f.start, f.end) for f in found] == [(start, start + len(card))]


@settings(max_examples=300)
@given(st.lists(st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30)))
def test_random_ascii_words_never_produce_cards_or_ibans(words: list[str]) -> None:
    text = " ".join(w for w in words if not any(c.isdigit() for c in w))
    assert CardDetector().find(text) == []
    assert IbanDetector().find(text) == []


@settings(max_examples=200)
@given(FILLER, st.sampled_from(["DE", "GB", "FR", "NL"]), st.data())
def test_every_valid_iban_is_found_exactly(before: str, country: str, data: Any) -> None:
    from freehold.perimeter.pii import IBAN_LENGTHS

    bban = data.draw(st.text("0123456789", min_size=IBAN_LENGTHS[country] - 4,
                             max_size=IBAN_LENGTHS[country] - 4))  # fmt: skip
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    text = f"{before} {iban}. thanks"
    [finding] = IbanDetector().find(text)
    assert finding.value == iban and finding.start == len(before) + 1


@settings(max_examples=200)
@given(FILLER, st.text("0123456789", min_size=10, max_size=10), st.booleans(), FILLER)
def test_every_valid_aadhaar_is_found_through_the_scanner(
    before: str, digits: str, grouped: bool, after: str
) -> None:
    body = "7" + digits
    number = body + verhoeff_check_digit(body)
    if grouped:
        number = f"{number[:4]} {number[4:8]} {number[8:]}"
    text = f"{before} Aadhaar: {number} {after}"
    found = Scanner(ScanOptions(families=frozenset({"pii"}))).scan(text)
    assert ("in_aadhaar", number) in [(f.kind, f.value) for f in found]


INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])


@settings(max_examples=200)
@given(FILLER, st.lists(st.tuples(st.booleans(), INVISIBLE), min_size=7, max_size=7), FILLER)
def test_terms_survive_case_changes_and_zero_width_characters(
    before: str, noise: list[tuple[bool, str]], after: str
) -> None:
    term = "nightjar"
    written = "".join(
        (ch.upper() if upper else ch) + (zw if i < len(term) - 1 else "")
        for i, (ch, (upper, zw)) in enumerate(zip(term, [*noise, (False, "")], strict=True))
    )
    text = f"{before} {written} {after}"
    found = TermDetector(["Nightjar"]).find(text)
    assert [f.value for f in found] == [written]
