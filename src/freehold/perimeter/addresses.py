"""Postal addresses, recognised by their street line: no model, only regular expressions.

A named-entity model has no "address" entity (spaCy's GPE/LOC/FAC are places, and a city
alone is not an address), so an address is anchored on what only addresses have — a street
line — and extended over what follows it when that is recognisably the rest of an address:

* English (US/UK): house number (``12``, ``221B``, ``12-14``), an optional direction, one to
  four capitalised name words (or an ordinal, ``5th``), a street suffix (Street/St, Avenue/
  Ave, Road/Rd, Lane, Boulevard/Blvd, Drive/Dr, Way, Court, Place, Parkway, Terrace, Close,
  Crescent, …) and an optional unit (``Apt 5B``, ``Suite 200``, ``#12``), or a UK unit before
  it (``Flat 2, 47 Kingsley Road``); then, when present, ``City, ST 12345`` (a real US state
  or territory code, ZIP or ZIP+4) or ``City POSTCODE`` (a UK postcode).
* German: a street name ending in ``-straße``/``-str.``/``-weg``/``-allee``/``-platz``/``-gasse``/
  ``-ring``/``-damm``/``-ufer``/… (or written apart, ``Berliner Straße``), the house number
  after it, then ``12345 City`` when present; a street with no such suffix (``Am Markt 3``)
  only when the postcode and city follow.
* French: house number (``12``, ``12 bis``), a street type (rue, avenue, boulevard, place,
  allée, chemin, impasse, quai, cours, route, …) and its name, then ``75002 Paris`` (and
  ``CEDEX``) when present.
* ``P.O. Box 1234`` / ``Postfach 12 34 56`` with the same tails.

The city, region and postcode belong to the finding only when attached to a street line: a
city, a country or a postcode alone is never reported (that is a place, not an address).
"""

from __future__ import annotations

import regex

from freehold.perimeter.base import Finding, span


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_US_STATES = _words(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"
)
_EN_SUFFIXES = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl|"
    "Parkway|Pkwy|Terrace|Ter|Terr|Circle|Cir|Highway|Hwy|Square|Sq|Crescent|Cres|Close|Row|"
    "Gardens|Gdns|Grove|Mews|Walk|Trail|Trl|Alley|Plaza|Esplanade|Embankment|Broadway|Loop|"
    "Pike|Turnpike|Causeway|Expressway|Fwy|Freeway"
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?"
_HOUSE = r"\d{1,5}(?:[A-Za-z](?![\p{L}\d]))?(?:[-–/]\d{1,5}[A-Za-z]?)?"
_EN_WORD = r"(?:\p{Lu}[\p{L}'’-]*\.?|\d{1,3}(?:st|nd|rd|th))"
_UNIT = (
    r"(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|Bldg|Building)\.?\s*#?\s*[\w-]{1,6}"
    r"|#\s*[\w-]{1,6}"
)
_CITY = r"\p{Lu}[\p{L}'’.-]*(?:[ ]\p{Lu}[\p{L}'’.-]*){0,2}"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[ABD-HJLNP-UW-Z]{2}"
_SEP = r"(?:,[ \t]*\n?[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"  # between address lines: comma, newline
_EN_TAIL = (
    rf"{_SEP}{_CITY}(?:,[ ]?|[ ])(?:(?:{'|'.join(_US_STATES)})(?:[ ]\d{{5}}(?:-\d{{4}})?)?"
    rf"(?![\p{{L}}\d])|{_UK_POSTCODE}(?![\p{{L}}\d]))"
    rf"|{_SEP}{_UK_POSTCODE}(?![\p{{L}}\d])"
)
_BEFORE = r"(?<![\p{L}\d.,/:$€£#_-])"
_AFTER = r"(?![\p{L}\d])"

_ENGLISH = regex.compile(
    rf"{_BEFORE}(?:(?:Flat|Apartment|Apt|Unit|Suite)[ ][\w-]{{1,5}},?[ ])?"
    rf"{_HOUSE}[ ]+(?:{_DIRECTION}[ ]+)?(?:{_EN_WORD}[ ]+){{1,4}}(?:{_EN_SUFFIXES})\.?"
    rf"(?:[ ]{_DIRECTION}{_AFTER})?{_AFTER}(?:,?[ ](?:{_UNIT}))?(?:{_EN_TAIL})?"
)

#: Suffixes that make a street on their own; the weak ones (``Spring 2024``, ``Firewall 3``
#: end in ``-ring``/``-wall``) only with the postcode and city after the number.
_DE_SUFFIX = (
    r"(?i:straße|strasse|str\.|weg|allee|platz|gasse|damm|ufer|chaussee|steig|pfad|stieg|"
    r"promenade)"
)
_DE_WEAK_SUFFIX = r"(?i:ring|markt|graben|kai|wall|zeile|anger|hof|berg|feld|tor)"
_DE_WORD = r"\p{Lu}[\p{L}-]*"
_DE_STREET = (
    rf"(?:(?:{_DE_WORD}[ -]){{0,3}}{_DE_WORD}{_DE_SUFFIX}"  # Lindenstraße, Karl-Marx-Allee
    rf"|(?:{_DE_WORD}[ ]){{1,3}}(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Damm|Ufer))"
)
_DE_WEAK = (
    r"(?:(?:Am|An[ ]der|Auf[ ]der|Im|In[ ]der|Zum|Zur|Unter[ ]den|Hinter[ ]der)[ ]"
    rf"{_DE_WORD}(?:[ ]{_DE_WORD})?|(?:{_DE_WORD}[ -]){{0,2}}{_DE_WORD}{_DE_WEAK_SUFFIX}"
    rf"|(?:{_DE_WORD}[ ]){{1,2}}(?:Ring|Markt|Graben|Kai|Wall|Hof|Tor))"
)
_DE_HOUSE = r"\d{1,4}(?:[ ]?[a-z](?![\p{L}\d]))?(?:[-–/]\d{1,4}[a-z]?)?"
_DE_CITY = rf"{_DE_WORD}(?:[ ](?:am|an[ ]der|im|ob[ ]der|in|bei)[ ]{_DE_WORD}|[ ]\(\p{{L}}+\))?"
_DE_TAIL = rf"{_SEP}(?:D-)?\d{{5}}[ ]{_DE_CITY}"
_GERMAN = regex.compile(
    rf"{_BEFORE}(?:{_DE_STREET}[ ]{_DE_HOUSE}{_AFTER}(?:{_DE_TAIL})?"
    rf"|{_DE_WEAK}[ ]{_DE_HOUSE}{_DE_TAIL}){_AFTER}"
)

_FR_TYPE = (
    r"(?:rue|avenue|av\.|boulevard|bd|place|allée|allee|chemin|impasse|quai|cours|route|"
    r"square|passage|rond-point|voie|faubourg|cité|sentier|promenade|parvis|esplanade)"
)
_FR_PARTICLE = r"(?:de|du|des|la|le|les|l['’]|d['’]|aux?|et|sur|en|sous|à)"
_FR_WORD = r"(?:\p{Lu}[\p{L}'’.-]*|\d{1,2}(?:er|e)?)"
_FR_NAME = rf"(?:{_FR_PARTICLE}[ ]?)*{_FR_WORD}(?:[ ](?:{_FR_PARTICLE}[ ]?)*{_FR_WORD}){{0,4}}"
_FR_CITY = r"(?!CEDEX)\p{Lu}[\p{L}'’.-]*(?:[ ](?!CEDEX)\p{Lu}[\p{L}'’.-]*){0,2}"
_FR_TAIL = rf"{_SEP}(?:F-)?\d{{5}}[ ]{_FR_CITY}(?:[ ]CEDEX(?:[ ]\d{{1,2}})?)?"
_FRENCH = regex.compile(
    rf"{_BEFORE}\d{{1,4}}(?:[ ]?(?:bis|ter|[A-C])(?![\p{{L}}\d]))?,?[ ]+(?i:{_FR_TYPE})[ ]+"
    rf"{_FR_NAME}{_AFTER}(?:{_FR_TAIL})?{_AFTER}"
)

_BOX = regex.compile(
    rf"{_BEFORE}(?:P\.?[ ]?O\.?[ ]Box|PO[ ]Box|Postfach)[ ]\d[\d ]{{0,10}}\d?{_AFTER}"
    rf"(?:{_EN_TAIL}|{_DE_TAIL})?"
)

_PATTERNS = (_ENGLISH, _GERMAN, _FRENCH, _BOX)
#: Cheap gate: every address has a digit.
_HINT = regex.compile(r"\d")
_TIMEOUT_S = 1.0


class AddressDetector:
    """Postal addresses anchored on a street line (or a P.O. box); see the module docstring."""

    kind = "address"

    def find(self, text: str) -> list[Finding]:
        if not _HINT.search(text):
            return []
        spans: list[tuple[int, int]] = []
        for pattern in _PATTERNS:
            try:
                matches = list(pattern.finditer(text, timeout=_TIMEOUT_S))
            except TimeoutError:  # never seen; a pathological text must not raise
                continue
            for m in matches:
                start, end = m.span()
                while end > start and text[end - 1] in " ,\n\t":
                    end -= 1
                spans.append((start, end))
        return [span(self.kind, "pii", text, s, e) for s, e in _longest_first(spans)]


def _longest_first(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A non-overlapping subset, longer spans first, in text order."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: s[0] - s[1]):
        if all(end <= s or start >= e for s, e in kept):
            kept.append((start, end))
    return sorted(kept)
